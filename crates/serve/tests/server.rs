//! The HTTP layer against a deterministic generator: routes, streaming
//! shapes, usage and timings, errors, concurrency and cancellation.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokenpace_serve::{
    FinishReason, Finished, GenEvent, GenerationRequest, Generator, PromptInput, ServeConfig,
    SubmitError,
};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// Answers with the prompt's text reversed, one character per token, a
/// token every 2 ms; counts cancellations.
#[derive(Default)]
struct Echo {
    cancelled: Arc<AtomicUsize>,
}

impl Generator for Echo {
    fn model_name(&self) -> &str {
        "echo"
    }

    fn submit(&self, r: GenerationRequest) -> Result<UnboundedReceiver<GenEvent>, SubmitError> {
        let text = match r.prompt {
            PromptInput::Chat(m) => m.last().map(|m| m.content.clone()).unwrap_or_default(),
            PromptInput::Text(t) => t,
            PromptInput::Tokens(_) => return Err(SubmitError::Invalid("no token ids here".into())),
        };
        let (tx, rx) = unbounded_channel();
        let cancelled = Arc::clone(&self.cancelled);
        tokio::spawn(async move {
            let chars: Vec<char> = text.chars().rev().collect();
            let _ = tx.send(GenEvent::Started {
                prompt_tokens: chars.len() as u32,
            });
            let n = chars.len().min(r.max_tokens as usize);
            for c in &chars[..n] {
                tokio::time::sleep(Duration::from_millis(2)).await;
                if tx.send(GenEvent::Token(c.to_string())).is_err() {
                    cancelled.fetch_add(1, Ordering::Relaxed);
                    return;
                }
            }
            let _ = tx.send(GenEvent::Done(Finished {
                reason: if n < chars.len() {
                    FinishReason::Length
                } else {
                    FinishReason::Stop
                },
                prompt_tokens: chars.len() as u32,
                // As if half the prompt came from a prefix cache.
                cached_tokens: Some(chars.len() as u32 / 2),
                completion_tokens: n as u32,
                queue_ms: 0.0,
                prompt_ms: 10.0,
                predicted_ms: 20.0,
            }));
        });
        Ok(rx)
    }

    fn load(&self) -> (usize, usize) {
        (0, 0)
    }
}

async fn raw(addr: std::net::SocketAddr, method: &str, path: &str, body: &str) -> (u16, String) {
    let mut s = TcpStream::connect(addr).await.unwrap();
    let req = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut out = Vec::new();
    tokio::time::timeout(Duration::from_secs(10), s.read_to_end(&mut out))
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8(out).unwrap();
    let status = text[9..12].parse().unwrap();
    (status, text)
}

/// The `data:` payloads of an SSE body (chunk-size lines dropped).
fn events(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|l| l.strip_prefix("data: "))
        .map(str::to_owned)
        .collect()
}

#[tokio::test]
async fn streams_chat_with_usage_and_timings() {
    let h = tokenpace_serve::start(Arc::new(Echo::default()), ServeConfig::default())
        .await
        .unwrap();
    let body = r#"{"messages":[{"role":"user","content":"快速abc"}],"stream":true,"stream_options":{"include_usage":true}}"#;
    let (status, text) = raw(h.addr(), "POST", "/v1/chat/completions", body).await;
    assert_eq!(status, 200, "{text}");
    assert!(text.contains("Transfer-Encoding: chunked"));
    let ev = events(&text);
    assert_eq!(ev.last().unwrap(), "[DONE]");
    let json: Vec<serde_json::Value> = ev[..ev.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    let content: String = json
        .iter()
        .filter_map(|j| j["choices"][0]["delta"]["content"].as_str())
        .collect();
    assert_eq!(content, "cba速快");
    assert_eq!(json[0]["choices"][0]["delta"]["role"], "assistant");
    let finish = &json[json.len() - 2];
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    // 3 of the 5 prompt tokens computed (2 cached) in 10 ms.
    assert_eq!(finish["timings"]["prompt_per_second"], 300.0);
    assert_eq!(json[json.len() - 1]["usage"]["completion_tokens"], 5);
    h.shutdown().await;
}

#[tokio::test]
async fn whole_completions_and_the_other_routes() {
    let h = tokenpace_serve::start(Arc::new(Echo::default()), ServeConfig::default())
        .await
        .unwrap();
    let (status, text) = raw(
        h.addr(),
        "POST",
        "/v1/completions",
        r#"{"prompt":"hello","max_tokens":3}"#,
    )
    .await;
    assert_eq!(status, 200, "{text}");
    let body: serde_json::Value =
        serde_json::from_str(text.split("\r\n\r\n").nth(1).unwrap()).unwrap();
    assert_eq!(body["choices"][0]["text"], "oll");
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert_eq!(body["usage"]["prompt_tokens"], 5);
    assert_eq!(body["usage"]["prompt_tokens_details"]["cached_tokens"], 2);
    assert_eq!(body["timings"]["cache_n"], 2);
    let (status, text) = raw(h.addr(), "GET", "/v1/models", "").await;
    assert!(status == 200 && text.contains("\"id\":\"echo\""), "{text}");
    assert_eq!(raw(h.addr(), "GET", "/health", "").await.0, 200);
    let (status, text) = raw(h.addr(), "GET", "/metrics", "").await;
    assert!(
        status == 200 && text.contains("tokenpace_requests_total{status=\"200\"}"),
        "{text}"
    );
    assert!(text.contains("tokenpace_prompt_tokens_total 5"), "{text}");
    assert!(
        text.contains("tokenpace_prompt_tokens_cached_total 2"),
        "{text}"
    );
    assert_eq!(raw(h.addr(), "GET", "/nope", "").await.0, 404);
    assert_eq!(raw(h.addr(), "GET", "/v1/completions", "").await.0, 405);
    let (status, text) = raw(h.addr(), "POST", "/v1/completions", r#"{"prompt":[1,2]}"#).await;
    assert!(
        status == 400 && text.contains("no token ids here"),
        "{text}"
    );
    let (status, text) = raw(
        h.addr(),
        "POST",
        "/v1/chat/completions",
        r#"{"messages":"x"}"#,
    )
    .await;
    assert!(status == 400 && text.contains("messages"), "{text}");
    h.shutdown().await;
}

#[tokio::test]
async fn concurrent_streams_and_a_client_that_leaves() {
    let echo = Echo::default();
    let cancelled = Arc::clone(&echo.cancelled);
    let h = tokenpace_serve::start(Arc::new(echo), ServeConfig::default())
        .await
        .unwrap();
    let addr = h.addr();
    let tasks: Vec<_> = (0..20)
        .map(|i| {
            tokio::spawn(async move {
                let body = format!(r#"{{"prompt":"request {i:02}","stream":true}}"#);
                raw(addr, "POST", "/v1/completions", &body).await
            })
        })
        .collect();
    for (i, t) in tasks.into_iter().enumerate() {
        let (status, text) = t.await.unwrap();
        let content: String = events(&text)
            .iter()
            .filter(|e| *e != "[DONE]")
            .filter_map(|e| serde_json::from_str::<serde_json::Value>(e).ok())
            .filter_map(|j| j["choices"][0]["text"].as_str().map(str::to_owned))
            .collect();
        let want: String = format!("request {i:02}").chars().rev().collect();
        assert_eq!((status, content), (200, want));
    }
    // A client that closes after the head: the generation is cancelled.
    let mut s = TcpStream::connect(addr).await.unwrap();
    let body = format!(r#"{{"prompt":"{}","stream":true}}"#, "x".repeat(400));
    let req = format!(
        "POST /v1/completions HTTP/1.1\r\nHost: x\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(req.as_bytes()).await.unwrap();
    let mut buf = [0u8; 256];
    let _ = s.read(&mut buf).await.unwrap();
    drop(s);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while cancelled.load(Ordering::Relaxed) == 0 && tokio::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(cancelled.load(Ordering::Relaxed), 1);
    h.shutdown().await;
}
