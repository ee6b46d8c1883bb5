//! The simulator's streamed tool calls read with the client's own parser
//! (`OpenAiChat::parse_event`): one call, its arguments joined into valid
//! JSON (invalid under the `bad_tool_args` fault), and the ground truth
//! agreeing on the call, its argument characters and cached tokens.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpStream};

use tokenpace_client::backend::openai::OpenAiChat;
use tokenpace_client::backend::{Backend, Event};
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::SimServer;

/// The SSE body of a POST sent as HTTP/1.0, so it ends when the server
/// closes the connection (no chunked framing to undo).
fn post(addr: SocketAddr, body: &str, fault: &str) -> String {
    let mut s = TcpStream::connect(addr).unwrap();
    write!(
        s,
        "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: {}\r\nx-tokenpace-fault: {fault}\r\n\r\n{body}",
        body.len()
    )
    .unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).unwrap();
    let (head, body) = out.split_once("\r\n\r\n").unwrap();
    assert!(head.starts_with("HTTP/1.1 200"), "{head}");
    body.to_owned()
}

#[derive(Debug, Default)]
struct Call {
    response_id: String,
    ids: Vec<String>,
    names: Vec<String>,
    arguments: String,
    tool_events: usize,
    answer: String,
    finish_reason: Option<String>,
    cached_tokens: Option<u32>,
    done: bool,
}

fn read(body: &str) -> Call {
    let mut call = Call::default();
    for block in body.split("\n\n").filter(|b| !b.is_empty()) {
        let data = block
            .strip_prefix("data: ")
            .unwrap_or_else(|| panic!("{block:?}"));
        match OpenAiChat.parse_event(data.as_bytes()).unwrap() {
            Event::Done => call.done = true,
            Event::Delta(d) => {
                if let Some(id) = d.id {
                    call.response_id = id.into_owned();
                }
                call.answer.push_str(&d.answer);
                call.finish_reason = d
                    .finish_reason
                    .map(|f| f.into_owned())
                    .or(call.finish_reason);
                if let Some(u) = d.usage {
                    call.cached_tokens = u.cached_tokens;
                }
                call.tool_events += usize::from(!d.tool_calls.is_empty());
                for t in d.tool_calls {
                    assert_eq!(t.index, 0);
                    call.ids.extend(t.id.map(|i| i.into_owned()));
                    call.names.extend(t.name.map(|n| n.into_owned()));
                    call.arguments.push_str(&t.arguments);
                }
            }
        }
    }
    call
}

#[test]
fn simulated_tool_calls_parse_with_the_clients_parser_and_match_the_truth() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let mut config = SimConfig {
        port: 0,
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 5.0;
    config.timing.decode = 1000.0;
    let sim = runtime.block_on(SimServer::start(config)).unwrap();
    let body = serde_json::json!({
        "messages": [{"role": "user", "content": "Which ferries run on Sundays? ".repeat(20)}],
        "tools": [{"type": "function", "function": {"name": "search"}}],
        "tool_choice": "required",
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": 20,
    })
    .to_string();
    let good = read(&post(sim.addr(), &body, ""));
    // The same prompt again: its blocks are cached now.
    let bad = read(&post(sim.addr(), &body, "bad_tool_args"));
    runtime.block_on(sim.shutdown()).unwrap();
    let truth = tokenpace_sim::truth::read(&truth_path).unwrap();

    for (call, valid) in [(&good, true), (&bad, false)] {
        assert!(call.done && call.answer.is_empty(), "{call:?}");
        assert_eq!(call.finish_reason.as_deref(), Some("tool_calls"));
        assert_eq!(
            (call.ids.len(), call.names.as_slice()),
            (1, &["search".to_owned()][..])
        );
        let parsed = serde_json::from_str::<serde_json::Value>(&call.arguments);
        assert_eq!(parsed.is_ok(), valid, "{}", call.arguments);
        let t = truth
            .requests
            .iter()
            .find(|t| t.id == call.response_id)
            .unwrap();
        let tc = t.tool_call.as_ref().unwrap();
        assert_eq!((&tc.id, &tc.name), (&call.ids[0], &call.names[0]));
        assert_eq!(tc.valid_json, valid);
        assert_eq!(tc.argument_chars, call.arguments.chars().count() as u64);
        // The call's first event, then one per token.
        assert_eq!(call.tool_events as u64, t.completion_tokens + 1);
        let first = t.chunks.iter().find(|c| c.kind == "tool_call").unwrap();
        assert_eq!(tc.first_chunk_ns, Some(first.written_ns));
        assert_eq!(call.cached_tokens.map(u64::from), t.cached_tokens);
    }
    assert_eq!(good.cached_tokens, Some(0));
    assert!(bad.cached_tokens > Some(0));
}
