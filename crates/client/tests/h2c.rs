//! HTTP/2 without TLS (h2c, prior knowledge, as gateways speak it): a small
//! local HTTP/2 server streams a chat answer as SSE, several requests share
//! one connection, and every record is exact.

use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::openai::OpenAiChat;
use tokenpace_client::backend::Prompt;
use tokenpace_client::clock::RunClock;
use tokenpace_client::request::{execute, h2c_client, http_client, Target, Timeouts};
use tokio::sync::watch;

/// Tokens each answer streams, 5 ms apart.
const TOKENS: usize = 6;

/// Serves HTTP/2 only (a request without the HTTP/2 preface fails the
/// handshake), counting connections and HTTP/2 requests.
async fn h2_server() -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    h2_server_pacing(Duration::from_millis(5), None).await
}

/// [`h2_server`] with tokens `gap` apart, and a second's silence after
/// the first `stall_after` of them if given.
async fn h2_server_pacing(
    gap: Duration,
    stall_after: Option<usize>,
) -> (String, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let (conns, reqs) = (Arc::new(AtomicUsize::new(0)), Arc::new(AtomicUsize::new(0)));
    let (c, r) = (conns.clone(), reqs.clone());
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            c.fetch_add(1, Ordering::SeqCst);
            let r = r.clone();
            tokio::spawn(async move {
                let Ok(mut conn) = h2::server::handshake(socket).await else {
                    return;
                };
                while let Some(Ok((req, mut respond))) = conn.accept().await {
                    assert_eq!(req.version(), http::Version::HTTP_2);
                    r.fetch_add(1, Ordering::SeqCst);
                    tokio::spawn(async move {
                        let head = http::Response::builder()
                            .status(200)
                            .header("content-type", "text/event-stream")
                            .body(())
                            .unwrap();
                        let mut send = respond.send_response(head, false).unwrap();
                        for i in 0..TOKENS {
                            if stall_after == Some(i) {
                                tokio::time::sleep(Duration::from_secs(1)).await;
                            }
                            tokio::time::sleep(gap).await;
                            let event = format!(
                                "data: {{\"id\":\"h2-{i}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"字{i}\"}}}}]}}\n\n"
                            );
                            let _ = send.send_data(Bytes::from(event), false);
                        }
                        let done = "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
                        let _ = send.send_data(Bytes::from(done), true);
                    });
                }
            });
        }
    });
    (url, conns, reqs)
}

fn target(base_url: String) -> Target {
    Target {
        base_url,
        model: "m".into(),
        api_key: None,
        headers: Vec::new(),
        request_id: None,
        h2c: true,
        tls: Default::default(),
    }
}

async fn send(
    client: &tokenpace_client::request::HttpClient,
    target: &Target,
    id: u64,
) -> tokenpace_core::record::RequestRecord {
    send_idle(client, target, id, Duration::from_secs(10)).await
}

/// [`send`] allowing `idle` between tokens.
async fn send_idle(
    client: &tokenpace_client::request::HttpClient,
    target: &Target,
    id: u64,
    idle: Duration,
) -> tokenpace_core::record::RequestRecord {
    let prompt = Prompt {
        text: "hello".into(),
        max_tokens: TOKENS as u32,
        ..Prompt::default()
    };
    let clock = RunClock::start();
    let timeouts = Timeouts {
        first_token: Duration::from_secs(10),
        total: Duration::from_secs(10),
        idle,
        max_event_bytes: 1 << 20,
        leaving: None,
        retry_throttled: None,
    };
    let (_tx, abort) = watch::channel(false);
    execute(
        client,
        target,
        &OpenAiChat,
        &prompt,
        id,
        clock.now(),
        &clock,
        timeouts,
        None,
        abort,
    )
    .await
}

#[tokio::test]
async fn streams_share_one_http2_connection_and_are_recorded_exactly() {
    let (url, conns, reqs) = h2_server().await;
    let client = h2c_client(Duration::from_secs(2), 8).unwrap();
    let target = target(url);
    let records = futures_util::future::join_all((0..4).map(|id| send(&client, &target, id))).await;
    for r in &records {
        assert!(r.is_ok(), "{:?}", r.error);
        assert_eq!(r.chunks.len(), TOKENS);
        assert_eq!(r.output_chars, 2 * TOKENS as u32);
        assert_eq!(r.output_cjk_chars, TOKENS as u32);
        // Stamped as they came, in order; TTFT is the first of them.
        assert!(r.chunks.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
        assert_eq!(r.first_token_ns(), Some(r.chunks[0].at_ns));
        // h2 reads the socket on its own task: no connection timeline.
        assert_eq!((r.connected_ns, r.written_ns), (None, None));
    }
    assert_eq!(reqs.load(Ordering::SeqCst), 4);
    assert_eq!(
        conns.load(Ordering::SeqCst),
        1,
        "one connection, four streams"
    );
}

#[tokio::test]
async fn an_http1_client_cannot_talk_to_an_http2_only_server() {
    // The same request over HTTP/1.1 fails: the test server really is
    // HTTP/2 only, so the test above proves h2c was spoken.
    let (url, _, reqs) = h2_server().await;
    let client = http_client(Duration::from_secs(2), 8).unwrap();
    let mut t = target(url);
    t.h2c = false;
    let r = send(&client, &t, 0).await;
    assert!(r.error.is_some());
    assert_eq!(reqs.load(Ordering::SeqCst), 0);
}

/// Tokens 60 ms apart for 0.36 s with 150 ms allowed between them: the
/// stream's one timer fires at deadlines later tokens have moved on and
/// must move with them; a second of silence after the second token then
/// ends the stream at the idle timeout, with both tokens kept.
#[tokio::test]
async fn the_idle_timeout_counts_from_the_last_token_over_http2() {
    let idle = Duration::from_millis(150);
    let client = h2c_client(Duration::from_secs(2), 8).unwrap();
    let (url, _, _) = h2_server_pacing(Duration::from_millis(60), None).await;
    let r = send_idle(&client, &target(url), 0, idle).await;
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.chunks.len(), TOKENS);

    let client = h2c_client(Duration::from_secs(2), 8).unwrap();
    let (url, _, _) = h2_server_pacing(Duration::from_millis(5), Some(2)).await;
    let r = send_idle(&client, &target(url), 1, idle).await;
    let error = r.error.as_ref().expect("the silence ends the stream");
    assert_eq!(error.kind, tokenpace_core::record::ErrorKind::Timeout);
    assert!(error.message.contains("idle"), "{}", error.message);
    assert_eq!(r.chunks.len(), 2);
}
