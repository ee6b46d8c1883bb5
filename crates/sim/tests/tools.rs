//! Tool calls through HTTP: the stream has OpenAI's shapes, the arguments join into valid JSON
//! (unless the `bad_tool_args` fault is on), and the truth file agrees.

mod common;

use common::*;
use serde_json::{json, Value};

fn tools() -> Value {
    json!([
        {"type": "function", "function": {"name": "search", "parameters": {"type": "object"}}},
        {"type": "function", "function": {"name": "fetch"}},
    ])
}

fn body(choice: Value, stream: bool) -> String {
    json!({
        "messages": [
            {"role": "user", "content": "Find ferries."},
            {"role": "assistant", "content": null, "tool_calls": [
                {"id": "call_0", "type": "function",
                 "function": {"name": "search", "arguments": "{\"query\":\"ferries\"}"}}]},
            {"role": "tool", "tool_call_id": "call_0", "content": "Three ferries."},
        ],
        "tools": tools(),
        "tool_choice": choice,
        "stream": stream,
        "stream_options": {"include_usage": true},
        "max_tokens": 12,
        "seed": 5,
    })
    .to_string()
}

/// What the client's parser makes of a tool-call stream.
#[derive(Debug, Default)]
struct Parsed {
    id: Option<String>,
    name: Option<String>,
    arguments: String,
    /// Events carrying tool-call deltas.
    tool_events: usize,
    answer: String,
    finish_reason: Option<String>,
    cached_tokens: Option<u32>,
    done: bool,
}

/// Reads the stream as OpenAI's clients do (tests/it/sim_tools.rs, at the
/// workspace root, reads it with tokenpace's own client parser).
fn parse(r: &TimedResponse) -> Parsed {
    let mut out = Parsed::default();
    for e in r.events() {
        if e == "[DONE]" {
            out.done = true;
            continue;
        }
        let v: Value = serde_json::from_str(&e).unwrap();
        if let Some(c) = v["usage"]["prompt_tokens_details"]["cached_tokens"].as_u64() {
            out.cached_tokens = Some(c as u32);
        }
        let choice = &v["choices"][0];
        if let Some(f) = choice["finish_reason"].as_str() {
            out.finish_reason = Some(f.to_owned());
        }
        let delta = &choice["delta"];
        out.answer.push_str(delta["content"].as_str().unwrap_or(""));
        let calls = delta["tool_calls"]
            .as_array()
            .map_or(&[][..], |c| c.as_slice());
        out.tool_events += usize::from(!calls.is_empty());
        for call in calls {
            assert_eq!(call["index"], 0);
            if let Some(id) = call["id"].as_str() {
                assert!(out.id.replace(id.to_owned()).is_none(), "one id");
            }
            if let Some(name) = call["function"]["name"].as_str() {
                out.name = Some(name.to_owned());
            }
            out.arguments
                .push_str(call["function"]["arguments"].as_str().unwrap());
        }
    }
    out
}

fn id_of(r: &TimedResponse) -> String {
    let first: Value = serde_json::from_str(&r.events()[0]).unwrap();
    first["id"].as_str().unwrap().to_owned()
}

#[tokio::test]
async fn a_streamed_tool_call_parses_and_matches_the_truth() {
    let t = TestSim::start(|_| {}).await;
    let call = post(
        &t.sim,
        "/v1/chat/completions",
        &body(json!("required"), true),
    )
    .await;
    let text = post(&t.sim, "/v1/chat/completions", &body(json!("none"), true)).await;
    assert_eq!(call.status, 200);
    let p = parse(&call);
    assert!(p.done && p.answer.is_empty());
    assert_eq!(p.finish_reason.as_deref(), Some("tool_calls"));
    assert_eq!(p.name.as_deref(), Some("search"));
    assert!(p.id.as_deref().is_some_and(|id| id.starts_with("call_")));
    let args: Value = serde_json::from_str(&p.arguments).expect("valid JSON arguments");
    // The arguments carry what the same request would have said as text.
    let said = parse(&text);
    assert_eq!(said.finish_reason.as_deref(), Some("length"));
    assert_eq!(args["query"], said.answer);
    let (call_id, text_id) = (id_of(&call), id_of(&text));
    let lines = t.finish().await;
    let truth = line(&lines, &call_id);
    assert_eq!(truth["finish_reason"], "tool_calls");
    let tc = &truth["tool_call"];
    assert_eq!(tc["id"].as_str(), p.id.as_deref());
    assert_eq!(tc["name"], "search");
    assert_eq!(tc["valid_json"], true);
    assert_eq!(tc["argument_chars"], p.arguments.chars().count());
    // One event per generated token, the first also naming the call.
    let n = truth["completion_tokens"].as_u64().unwrap();
    assert_eq!(n, 12);
    assert_eq!(p.tool_events as u64, n + 1);
    let chunks = truth["chunks"].as_array().unwrap();
    let tool_chunks: Vec<&Value> = chunks.iter().filter(|c| c["kind"] == "tool_call").collect();
    assert_eq!(tool_chunks.len() as u64, n);
    assert_eq!(tc["first_chunk_ns"], tool_chunks[0]["written_ns"]);
    let chars: u64 = tool_chunks
        .iter()
        .map(|c| c["chars"].as_u64().unwrap())
        .sum();
    assert_eq!(chars, p.arguments.chars().count() as u64);
    assert!(chunks.iter().all(|c| c["kind"] != "content"));
    // The text answer made no tool call, and the tool result in the
    // conversation counted as prompt.
    let plain = line(&lines, &text_id);
    assert!(plain.get("tool_call").is_none());
    assert_eq!(plain["prompt_tokens"], truth["prompt_tokens"]);
    assert_eq!(
        p.cached_tokens.map(u64::from),
        truth["cached_tokens"].as_u64()
    );
}

#[tokio::test]
async fn auto_named_and_whole_tool_calls() {
    let t = TestSim::start(|c| c.tools.call_share = 0.0).await;
    // At share 0, auto never calls; a named function always is.
    let auto = post(&t.sim, "/v1/chat/completions", &body(json!("auto"), true)).await;
    assert!(parse(&auto).name.is_none() && !parse(&auto).answer.is_empty());
    let named = json!({"type": "function", "function": {"name": "fetch"}});
    let r = post(&t.sim, "/v1/chat/completions", &body(named, true)).await;
    assert_eq!(parse(&r).name.as_deref(), Some("fetch"));
    // Not streamed: one message with the whole call.
    let whole = post(
        &t.sim,
        "/v1/chat/completions",
        &body(json!("required"), false),
    )
    .await;
    let v = whole.json();
    let choice = &v["choices"][0];
    assert_eq!(choice["finish_reason"], "tool_calls");
    assert_eq!(choice["message"]["content"], Value::Null);
    let call = &choice["message"]["tool_calls"][0];
    assert_eq!(call["function"]["name"], "search");
    let args = call["function"]["arguments"].as_str().unwrap();
    let parsed: Value = serde_json::from_str(args).unwrap();
    assert!(!parsed["query"].as_str().unwrap().is_empty());
    let id = v["id"].as_str().unwrap().to_owned();
    let lines = t.finish().await;
    let truth = line(&lines, &id);
    assert_eq!(truth["tool_call"]["argument_chars"], args.chars().count());
    assert_eq!(truth["finish_reason"], "tool_calls");
}

#[tokio::test]
async fn bad_tool_args_break_the_json_and_the_truth_says_so() {
    let t = TestSim::start(|_| {}).await;
    let headers = [("x-tokenpace-fault", "bad_tool_args")];
    let r = request(
        &t.sim,
        "POST",
        "/v1/chat/completions",
        &headers,
        body(json!("required"), true).as_bytes(),
    )
    .await;
    let p = parse(&r);
    assert!(p.arguments.starts_with("{\"query\":\""));
    assert!(serde_json::from_str::<Value>(&p.arguments).is_err());
    // On a text answer the fault has nothing to break.
    let plain = request(
        &t.sim,
        "POST",
        "/v1/chat/completions",
        &headers,
        body(json!("none"), true).as_bytes(),
    )
    .await;
    assert!(!parse(&plain).answer.is_empty());
    let (id, plain_id) = (id_of(&r), id_of(&plain));
    let lines = t.finish().await;
    let truth = line(&lines, &id);
    assert_eq!(truth["tool_call"]["valid_json"], false);
    assert_eq!(truth["faults"][0]["kind"], "bad_tool_args");
    assert_eq!(line(&lines, &plain_id)["faults"], json!([]));
}

#[tokio::test]
async fn wrong_tool_fields_are_400s_naming_them() {
    let t = TestSim::start(|_| {}).await;
    let cases = [
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": "search"}),
            "tools",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tools": tools(), "tool_choice": "always"}),
            "tool_choice",
        ),
        (
            json!({"messages": [{"role": "user", "content": "x"}], "tool_choice": "required"}),
            "tool_choice",
        ),
        (
            json!({"messages": [{"role": "tool", "content": "result"}]}),
            "messages",
        ),
    ];
    for (b, param) in cases {
        let r = post(&t.sim, "/v1/chat/completions", &b.to_string()).await;
        assert_eq!(r.status, 400, "{b}");
        assert_eq!(r.json()["error"]["param"], param, "{b}");
    }
    t.finish().await;
}
