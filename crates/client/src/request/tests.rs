//! The request path against small local servers.

use super::*;
use crate::backend::openai::OpenAiCompletions;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Reads one HTTP request (headers and a Content-Length body).
async fn read_request(s: &mut tokio::net::TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
            let len: usize = head
                .lines()
                .find_map(|l| l.strip_prefix("content-length:"))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return true;
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// Like llama.cpp's server: each connection answers one streamed
/// request with `Keep-Alive`, then closes when the next request arrives.
async fn one_answer_per_connection() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            tokio::spawn(async move {
                if !read_request(&mut s).await {
                    return;
                }
                let events = "data: {\"choices\":[{\"index\":0,\"text\":\"hi\",\"finish_reason\":\"length\"}]}\n\ndata: [DONE]\n\n";
                let body = format!("{:x}\r\n{events}\r\n0\r\n\r\n", events.len());
                let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\nKeep-Alive: timeout=5, max=100\r\n\r\n";
                let _ = s.write_all(format!("{head}{body}").as_bytes()).await;
                // The next request on this connection is read, never answered.
                let _ = read_request(&mut s).await;
            });
        }
    });
    url
}

#[tokio::test]
async fn a_kept_alive_connection_closed_by_the_server_is_retried_once() {
    let base_url = one_answer_per_connection().await;
    let client = http_client(Duration::from_secs(2), 4).unwrap();
    let target = Target {
        base_url,
        model: "m".into(),
        api_key: None,
        headers: Vec::new(),
        request_id: None,
        h2c: false,
        tls: Default::default(),
    };
    let prompt = Prompt {
        text: "hello".into(),
        messages: None,
        tokens: None,
        max_tokens: 1,
        ignore_eos: false,
        ..Prompt::default()
    };
    let clock = RunClock::start();
    let timeouts = Timeouts {
        first_token: Duration::from_secs(5),
        total: Duration::from_secs(5),
        idle: Duration::from_secs(5),
        max_event_bytes: crate::sse::DEFAULT_MAX_EVENT_BYTES,
        leaving: None,
        retry_throttled: None,
    };
    let (_tx, abort) = watch::channel(false);
    for id in 0..4 {
        let r = execute(
            &client,
            &target,
            &OpenAiCompletions,
            &prompt,
            id,
            clock.now(),
            &clock,
            timeouts,
            None,
            abort.clone(),
        )
        .await;
        assert!(r.is_ok(), "request {id}: {:?}", r.error);
        assert_eq!(r.output_chars, 2);
    }
}
