//! Hostile servers against the client library: each test runs a small local server that writes raw
//! HTTP bytes meant to break the client (an answer with no token, an event
//! that never ends, a stream past max_tokens, an echoed API key) and checks
//! that the request ends as a named error, quickly, with nothing leaked.

use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokenpace_client::backend::openai::OpenAiChat;
use tokenpace_client::backend::Prompt;
use tokenpace_client::clock::RunClock;
use tokenpace_client::discover::first_model;
use tokenpace_client::request::{execute, http_client, Target, Timeouts};
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::sync::watch;

use super::KEY;

/// Reads one request's head and body; its head, or None when the
/// connection closed first.
async fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(head) = super::complete_request(&buf) {
            return Some(head);
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A server on 127.0.0.1 that reads each request and hands the connection
/// and the request's head to `answer`. Returns its base URL.
async fn server<F, Fut>(answer: F) -> String
where
    F: Fn(TcpStream, String) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let answer = Arc::new(answer);
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let answer = answer.clone();
            tokio::spawn(async move {
                if let Some(head) = read_request(&mut s).await {
                    answer(s, head).await;
                }
            });
        }
    });
    url
}

const SSE_HEAD: &str =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";

/// A server answering every request with these exact bytes, then closing.
async fn replying(reply: String) -> String {
    let reply = Arc::new(reply);
    server(move |mut s, _| {
        let reply = reply.clone();
        async move {
            let _ = s.write_all(reply.as_bytes()).await;
            let _ = s.shutdown().await;
        }
    })
    .await
}

fn target(base_url: String) -> Target {
    Target {
        base_url,
        model: "m".into(),
        api_key: Some(KEY.into()),
        headers: Vec::new(),
        request_id: None,
        h2c: false,
        tls: Default::default(),
    }
}

/// Sends one chat request asking for `max_tokens`, with a 20 s limit.
async fn send(target: &Target, max_tokens: u32, max_event_bytes: usize) -> RequestRecord {
    let client = http_client(Duration::from_secs(2), 4).unwrap();
    let prompt = Prompt {
        text: "hello".into(),
        max_tokens,
        ..Prompt::default()
    };
    let clock = RunClock::start();
    let timeouts = Timeouts {
        first_token: Duration::from_secs(20),
        total: Duration::from_secs(20),
        idle: Duration::from_secs(20),
        max_event_bytes,
        leaving: None,
        retry_throttled: None,
    };
    let (_tx, abort) = watch::channel(false);
    execute(
        &client,
        target,
        &OpenAiChat,
        &prompt,
        0,
        clock.now(),
        &clock,
        timeouts,
        None,
        abort,
    )
    .await
}

const MIB: usize = 1 << 20;

fn kind(r: &RequestRecord) -> Option<ErrorKind> {
    r.error.as_ref().map(|e| e.kind)
}

#[tokio::test]
async fn a_stream_of_only_done_or_empty_deltas_is_an_empty_response() {
    let bodies = [
        "data: [DONE]\n\n".to_string(),
        concat!(
            "data: {\"id\":\"r1\",\"choices\":[{\"delta\":{\"role\":\"assistant\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{\"content\":\"\"}}]}\n\n",
            "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n",
            "data: {\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":0}}\n\n",
            "data: [DONE]\n\n"
        )
        .to_string(),
    ];
    for body in bodies {
        let url = replying(format!("{SSE_HEAD}{body}")).await;
        let r = send(&target(url), 8, MIB).await;
        assert_eq!(kind(&r), Some(ErrorKind::EmptyResponse), "{body}: {r:?}");
        let message = &r.error.as_ref().unwrap().message;
        assert!(message.contains("no token"), "{message}");
        assert!(!r.is_ok());
    }
}

#[tokio::test]
async fn a_tool_call_without_text_is_not_empty() {
    let body = concat!(
        "data: {\"choices\":[{\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"c1\",\"function\":{\"name\":\"search\",\"arguments\":\"{}\"}}]}}]}\n\n",
        "data: {\"choices\":[{\"delta\":{},\"finish_reason\":\"tool_calls\"}]}\n\n",
        "data: [DONE]\n\n"
    );
    let url = replying(format!("{SSE_HEAD}{body}")).await;
    let r = send(&target(url), 8, MIB).await;
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.tool_calls, 1);
}

#[tokio::test]
async fn an_endless_event_fails_at_the_cap_and_reading_stops() {
    // `data: xxxx…` with no newline, up to 256 MiB; the client should stop
    // reading after 1 MiB, and the server then fail to write.
    let written = Arc::new(AtomicU64::new(0));
    let count = written.clone();
    let url = server(move |mut s, _| {
        let count = count.clone();
        async move {
            let _ = s.write_all(SSE_HEAD.as_bytes()).await;
            let _ = s.write_all(b"data: ").await;
            let block = vec![b'x'; 64 * 1024];
            for _ in 0..(256 * MIB / block.len()) {
                if s.write_all(&block).await.is_err() {
                    return;
                }
                count.fetch_add(block.len() as u64, Ordering::Relaxed);
            }
        }
    })
    .await;
    let start = Instant::now();
    let r = send(&target(url), 8, MIB).await;
    assert_eq!(kind(&r), Some(ErrorKind::EventTooLarge), "{:?}", r.error);
    assert!(
        r.error.as_ref().unwrap().message.contains("1048576 bytes"),
        "{:?}",
        r.error
    );
    assert!(start.elapsed() < Duration::from_secs(10));
    // The connection is gone: the server's writes fail well short of 256 MiB.
    tokio::time::sleep(Duration::from_millis(500)).await;
    let sent = written.load(Ordering::Relaxed) as usize;
    assert!(sent < 64 * MIB, "the server could write {sent} bytes");
}

#[tokio::test]
async fn an_event_over_a_smaller_cap_is_too_large() {
    let big = "x".repeat(5000);
    let body = format!(
        "data: {{\"choices\":[{{\"delta\":{{\"content\":\"{big}\"}}}}]}}\n\ndata: [DONE]\n\n"
    );
    let url = replying(format!("{SSE_HEAD}{body}")).await;
    let r = send(&target(url.clone()), 8, 4096).await;
    assert_eq!(kind(&r), Some(ErrorKind::EventTooLarge), "{:?}", r.error);
    // The default cap lets the same event through.
    let r = send(&target(url), 8, MIB).await;
    assert!(r.is_ok(), "{:?}", r.error);
}

#[tokio::test]
async fn a_stream_far_past_max_tokens_is_an_overrun_and_reading_stops() {
    // 17,519 tokens when 8 were asked, then the connection stays open for
    // longer than the request's time limit.
    let url = server(|mut s, _| async move {
        let mut out = SSE_HEAD.to_string();
        for i in 0..17_519 {
            out.push_str(&format!(
                "data: {{\"choices\":[{{\"delta\":{{\"content\":\"t{i} \"}}}}]}}\n\n"
            ));
        }
        let _ = s.write_all(out.as_bytes()).await;
        tokio::time::sleep(Duration::from_secs(60)).await;
    })
    .await;
    let start = Instant::now();
    let r = send(&target(url), 8, MIB).await;
    assert_eq!(kind(&r), Some(ErrorKind::Overrun), "{:?}", r.error);
    let message = &r.error.as_ref().unwrap().message;
    assert!(message.contains("at most 8 tokens"), "{message}");
    assert!(message.contains("sent 33"), "{message}");
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!(r.chunks.len(), 33);
}

#[tokio::test]
async fn a_stream_within_the_margin_is_not_an_overrun() {
    let mut body = String::new();
    for i in 0..20 {
        body.push_str(&format!(
            "data: {{\"choices\":[{{\"delta\":{{\"content\":\"t{i}\"}}}}]}}\n\n"
        ));
    }
    body.push_str("data: [DONE]\n\n");
    let url = replying(format!("{SSE_HEAD}{body}")).await;
    let r = send(&target(url), 8, MIB).await;
    assert!(r.is_ok(), "{:?}", r.error);
}

/// Every server text the client keeps, with the key echoed into it.
#[tokio::test]
async fn an_echoed_api_key_is_redacted_from_every_record() {
    // A 401 echoing the Authorization header it got.
    let url = server(|mut s, head| async move {
        let auth = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
            .unwrap_or("")
            .to_string();
        let body = format!(
            "{{\"error\":{{\"message\":\"invalid credentials: {auth}; key={KEY}\"}}}}"
        );
        let reply = format!(
            "HTTP/1.1 401 Unauthorized\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
            body.len()
        );
        let _ = s.write_all(reply.as_bytes()).await;
    })
    .await;
    let r = send(&target(url), 8, MIB).await;
    assert_eq!(kind(&r), Some(ErrorKind::HttpStatus));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(KEY), "{json}");
    assert!(json.contains("Bearer [redacted]"), "{json}");

    // Inside a stream: the response id and an error event.
    let body = format!(
        "data: {{\"id\":\"resp-{KEY}\",\"choices\":[{{\"delta\":{{\"content\":\"a\"}}}}]}}\n\ndata: {{\"error\":{{\"message\":\"bad token Bearer {KEY}\"}}}}\n\n"
    );
    let url = replying(format!("{SSE_HEAD}{body}")).await;
    let r = send(&target(url), 8, MIB).await;
    assert_eq!(kind(&r), Some(ErrorKind::ServerError));
    let json = serde_json::to_string(&r).unwrap();
    assert!(!json.contains(KEY), "{json}");
    assert_eq!(r.response_id.as_deref(), Some("resp-[redacted]"));
}

#[tokio::test]
async fn a_discovered_model_name_never_holds_the_key() {
    let body = format!("{{\"data\":[{{\"id\":\"model-{KEY}\"}}]}}");
    let url = replying(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let client = http_client(Duration::from_secs(2), 4).unwrap();
    let name = first_model(&client, &target(url)).await.unwrap();
    assert_eq!(name, "model-[redacted]");
}

#[tokio::test]
async fn a_model_list_that_quotes_the_key_in_a_parse_error_never_shows_it() {
    let body = format!("{{\"data\":\"{KEY}\"}}");
    let url = replying(format!(
        "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let client = http_client(Duration::from_secs(2), 4).unwrap();
    let e = first_model(&client, &target(url)).await.unwrap_err();
    let text = format!("{e:#}");
    assert!(text.contains("[redacted]"), "{text}");
    assert!(!text.contains(KEY), "{text}");
}

#[tokio::test]
async fn a_huge_error_message_is_kept_short() {
    let body = format!(
        "{{\"error\":{{\"message\":\"{}\"}}}}",
        "boom ".repeat(200_000)
    );
    let url = replying(format!(
        "HTTP/1.1 500 Internal Server Error\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    ))
    .await;
    let r = send(&target(url), 8, MIB).await;
    let e = r.error.unwrap();
    assert_eq!((e.kind, e.status), (ErrorKind::HttpStatus, Some(500)));
    assert!(
        e.message.starts_with("HTTP 500: boom boom"),
        "{}",
        e.message
    );
    assert!(e.message.chars().count() <= 1001, "{}", e.message.len());
}
