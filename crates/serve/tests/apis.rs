//! Anthropic Messages, OpenAI Responses and tool calls over HTTP, against a
//! generator that answers with a script: text, or a hermes-style
//! `<tool_call>` when the last user message asks for one. What the server
//! cannot do is refused with a 400 that names it.

use std::sync::{Arc, Mutex};
use tokenpace_serve::{
    FinishReason, Finished, GenEvent, GenerationRequest, Generator, PromptInput, ServeConfig,
    SubmitError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Answers "Hello there!" in three tokens, or a call of `search` in five
/// when the last message says "CALL"; keeps the last request it was given.
#[derive(Default)]
struct Scripted {
    last: Arc<Mutex<Option<GenerationRequest>>>,
}

const CALL: [&str; 5] = [
    "<tool_call>",
    "\n{\"name\": \"search\", ",
    "\"arguments\": {\"query\": ",
    "\"cats\"}}\n",
    "</tool_call>",
];

impl Generator for Scripted {
    fn model_name(&self) -> &str {
        "scripted"
    }

    fn submit(&self, r: GenerationRequest) -> Result<UnboundedReceiver<GenEvent>, SubmitError> {
        let call = match &r.prompt {
            PromptInput::Chat(m) => m.last().is_some_and(|m| m.content.contains("CALL")),
            _ => false,
        };
        *self.last.lock().unwrap() = Some(r);
        let tokens: Vec<&str> = if call {
            CALL.to_vec()
        } else {
            vec!["Hello", " there", "!"]
        };
        let (tx, rx) = unbounded_channel();
        let _ = tx.send(GenEvent::Started { prompt_tokens: 12 });
        for t in &tokens {
            let _ = tx.send(GenEvent::Token((*t).to_owned()));
        }
        let _ = tx.send(GenEvent::Done(Finished {
            reason: FinishReason::Stop,
            prompt_tokens: 12,
            cached_tokens: Some(4),
            completion_tokens: tokens.len() as u32,
            queue_ms: 0.0,
            prompt_ms: 1.0,
            predicted_ms: 2.0,
        }));
        Ok(rx)
    }

    fn load(&self) -> (usize, usize) {
        (0, 0)
    }
}

/// Status and the body (a whole body's JSON, or a stream's events'
/// `data` JSON, chunk sizes dropped).
async fn post(addr: std::net::SocketAddr, path: &str, body: &str) -> (u16, Vec<serde_json::Value>) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "POST {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    s.read_to_end(&mut out).await.unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text[9..12].parse().unwrap();
    let (head, rest) = text.split_once("\r\n\r\n").unwrap();
    let json = if head.contains("text/event-stream") {
        rest.lines()
            .filter_map(|l| l.strip_prefix("data: "))
            .filter(|d| *d != "[DONE]")
            .map(|d| serde_json::from_str(d).unwrap())
            .collect()
    } else {
        vec![serde_json::from_str(rest).unwrap()]
    };
    (status, json)
}

async fn server() -> (
    tokenpace_serve::ServeHandle,
    Arc<Mutex<Option<GenerationRequest>>>,
) {
    let g = Scripted::default();
    let last = Arc::clone(&g.last);
    let h = tokenpace_serve::start(Arc::new(g), ServeConfig::default())
        .await
        .unwrap();
    (h, last)
}

#[tokio::test]
async fn anthropic_messages_streamed_and_whole() {
    let (h, last) = server().await;
    let body = r#"{"model":"claude-x","max_tokens":16,"system":"Be brief.","messages":[{"role":"user","content":"hi"}],"stream":true}"#;
    let (status, events) = post(h.addr(), "/v1/messages", body).await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds[..3], ["message_start", "ping", "content_block_start"]);
    assert_eq!(
        kinds[kinds.len() - 3..],
        ["content_block_stop", "message_delta", "message_stop"]
    );
    assert_eq!(events[0]["message"]["model"], "claude-x");
    let text: String = events
        .iter()
        .filter_map(|e| e["delta"]["text"].as_str())
        .collect();
    assert_eq!(text, "Hello there!");
    let request = last.lock().unwrap().clone().unwrap();
    assert_eq!(request.max_tokens, 16);
    let PromptInput::Chat(m) = request.prompt else {
        panic!()
    };
    assert_eq!(
        (m[0].role.as_str(), m[0].content.as_str()),
        ("system", "Be brief.")
    );
    let (status, body) = post(
        h.addr(),
        "/v1/messages",
        &body.replace(",\"stream\":true", ""),
    )
    .await;
    assert_eq!(status, 200);
    let m = &body[0];
    assert_eq!(
        (m["type"].as_str(), m["stop_reason"].as_str()),
        (Some("message"), Some("end_turn"))
    );
    assert_eq!(m["content"][0]["text"], "Hello there!");
    assert_eq!(
        (
            m["usage"]["input_tokens"].as_u64(),
            m["usage"]["output_tokens"].as_u64()
        ),
        (Some(8), Some(3))
    );
    h.shutdown().await;
}

#[tokio::test]
async fn openai_responses_streamed_and_whole() {
    let (h, _) = server().await;
    let body = r#"{"model":"m","input":"hi","instructions":"Be brief.","stream":true}"#;
    let (status, events) = post(h.addr(), "/v1/responses", body).await;
    assert_eq!(status, 200);
    let kinds: Vec<&str> = events.iter().filter_map(|e| e["type"].as_str()).collect();
    assert_eq!(kinds[..2], ["response.created", "response.in_progress"]);
    assert_eq!(*kinds.last().unwrap(), "response.completed");
    let numbers: Vec<u64> = events
        .iter()
        .filter_map(|e| e["sequence_number"].as_u64())
        .collect();
    assert_eq!(numbers, (0..events.len() as u64).collect::<Vec<_>>());
    let done = &events.last().unwrap()["response"];
    assert_eq!(done["output"][0]["content"][0]["text"], "Hello there!");
    assert_eq!(done["usage"]["input_tokens_details"]["cached_tokens"], 4);
    let (status, body) = post(h.addr(), "/v1/responses", r#"{"input":"hi"}"#).await;
    assert_eq!(status, 200);
    assert_eq!(
        (body[0]["object"].as_str(), body[0]["status"].as_str()),
        (Some("response"), Some("completed"))
    );
    assert_eq!(body[0]["output"][0]["content"][0]["text"], "Hello there!");
    assert_eq!(body[0]["model"], "scripted");
    h.shutdown().await;
}

#[tokio::test]
async fn tools_are_rendered_and_calls_come_back_in_each_api() {
    let (h, last) = server().await;
    let chat = r#"{"messages":[{"role":"user","content":"CALL please"}],"stream":true,
        "tools":[{"type":"function","function":{"name":"search","description":"Find things","parameters":{"type":"object"}}}],
        "tool_choice":"required"}"#;
    let (status, events) = post(h.addr(), "/v1/chat/completions", chat).await;
    assert_eq!(status, 200);
    let request = last.lock().unwrap().clone().unwrap();
    let PromptInput::Chat(m) = &request.prompt else {
        panic!()
    };
    assert_eq!(m[0].role, "system");
    assert!(m[0].content.contains("<tools>\n{\"type\": \"function\", \"function\": {\"name\": \"search\", \"description\": \"Find things\""), "{}", m[0].content);
    assert!(request.stop.contains(&"</tool_call>".to_string()));
    let calls: Vec<&serde_json::Value> = events
        .iter()
        .filter_map(|e| e["choices"][0]["delta"]["tool_calls"].get(0))
        .collect();
    assert_eq!(calls[0]["function"]["name"], "search");
    let args: String = calls
        .iter()
        .filter_map(|c| c["function"]["arguments"].as_str())
        .collect();
    assert_eq!(args, "{\"query\": \"cats\"}");
    assert_eq!(
        events.last().unwrap()["choices"][0]["finish_reason"],
        "tool_calls"
    );

    let messages = r#"{"max_tokens":30,"messages":[{"role":"user","content":"CALL"}],"tools":[{"name":"search","input_schema":{"type":"object"}}]}"#;
    let (_, body) = post(h.addr(), "/v1/messages", messages).await;
    assert_eq!(body[0]["content"][0]["type"], "tool_use");
    assert_eq!(body[0]["content"][0]["input"]["query"], "cats");
    assert_eq!(body[0]["stop_reason"], "tool_use");
    let responses =
        r#"{"input":"CALL","stream":true,"tools":[{"type":"function","name":"search"}]}"#;
    let (_, events) = post(h.addr(), "/v1/responses", responses).await;
    let done = &events.last().unwrap()["response"]["output"][0];
    assert_eq!(
        (done["type"].as_str(), done["arguments"].as_str()),
        (Some("function_call"), Some("{\"query\": \"cats\"}"))
    );

    // A demanded call answered in text: finish reason stop, counted.
    let text = chat.replace("CALL please", "hello");
    let (_, events) = post(h.addr(), "/v1/chat/completions", &text).await;
    assert_eq!(
        events.last().unwrap()["choices"][0]["finish_reason"],
        "stop"
    );
    let mut s = TcpStream::connect(h.addr()).await.unwrap();
    s.write_all(b"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        .await
        .unwrap();
    let mut metrics = String::new();
    s.read_to_string(&mut metrics).await.unwrap();
    assert!(
        metrics.contains("tokenpace_tool_answers_total{outcome=\"call\"} 3"),
        "{metrics}"
    );
    assert!(
        metrics.contains("tokenpace_tool_answers_total{outcome=\"missing\"} 1"),
        "{metrics}"
    );
    h.shutdown().await;
}

#[tokio::test]
async fn what_serve_cannot_do_is_refused_by_name() {
    let (h, last) = server().await;
    for (path, body, param) in [
        (
            "/v1/chat/completions",
            r#"{"messages":[{"role":"user","content":"x"}],"response_format":{"type":"json_object"}}"#,
            "response_format",
        ),
        (
            "/v1/chat/completions",
            r#"{"messages":[{"role":"user","content":[{"type":"image_url","image_url":{"url":"x"}}]}]}"#,
            "messages",
        ),
        (
            "/v1/responses",
            r#"{"input":"x","tools":[{"type":"web_search"}]}"#,
            "tools",
        ),
        (
            "/v1/responses",
            r#"{"input":"x","previous_response_id":"resp_1"}"#,
            "previous_response_id",
        ),
        (
            "/v1/messages",
            r#"{"max_tokens":5,"messages":[{"role":"user","content":"x"}],"thinking":{"type":"enabled","budget_tokens":1024}}"#,
            "thinking",
        ),
        (
            "/v1/messages",
            r#"{"max_tokens":5,"messages":[{"role":"user","content":[{"type":"image","source":{}}]}]}"#,
            "messages",
        ),
    ] {
        let (status, body) = post(h.addr(), path, body).await;
        let e = &body[0]["error"];
        assert_eq!(
            (status, e["param"].as_str()),
            (400, Some(param)),
            "{path} {body:?}"
        );
        assert_eq!(e["code"], "unsupported_parameter");
        assert!(e["message"]
            .as_str()
            .unwrap()
            .starts_with("tokenpace serve does not support"));
    }
    assert!(last.lock().unwrap().is_none(), "nothing was generated");
    let (status, _) = post(
        h.addr(),
        "/v1/messages",
        r#"{"messages":[{"role":"user","content":"x"}]}"#,
    )
    .await;
    assert_eq!(status, 400, "Anthropic's max_tokens is required");
    h.shutdown().await;
}
