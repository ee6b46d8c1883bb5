//! HTTP/2 over TLS, picked by ALPN: a local TLS server offering `h2` (and
//! `http/1.1` where asked) streams a chat answer as SSE over whichever the
//! client's ALPN got. An `https://` target then speaks HTTP/2 on one shared
//! connection with exact records; `--http1` (`TlsOptions::http1`) and an
//! HTTP/1.1-only server keep HTTP/1.1; an untrusted certificate on the
//! HTTP/2 path is a TLS error that says what to do.

use bytes::Bytes;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::openai::OpenAiChat;
use tokenpace_client::backend::Prompt;
use tokenpace_client::clock::RunClock;
use tokenpace_client::request::{client_for, execute, HttpClient, HttpVersion, Target, Timeouts};
use tokenpace_client::transport::tls::TlsOptions;
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokenpace_core::setting::Setting;
use tokenpace_wire::tls::ServerTls;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::watch;

/// Tokens each answer streams, 5 ms apart.
const TOKENS: usize = 6;

/// What the server served: HTTP/2 connections and requests, HTTP/1.1
/// requests.
#[derive(Default)]
struct Served {
    h2_conns: AtomicUsize,
    h2_reqs: AtomicUsize,
    http1_reqs: AtomicUsize,
}

/// The SSE events of one answer.
fn events() -> Vec<String> {
    let mut out: Vec<String> = (0..TOKENS)
        .map(|i| format!("data: {{\"id\":\"t-{i}\",\"choices\":[{{\"index\":0,\"delta\":{{\"content\":\"字{i}\"}}}}]}}\n\n"))
        .collect();
    out.push("data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n".into());
    out
}

/// A TLS server on 127.0.0.1 offering `alpn`; its first connection is
/// made with `first`, later ones with `rest`. Its URL and what it served.
async fn server(first: &ServerTls, rest: &ServerTls, alpn: &[&[u8]]) -> (String, Arc<Served>) {
    let acceptor = |t: &ServerTls| {
        let mut config = rustls::ServerConfig::clone(&t.config);
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        tokio_rustls::TlsAcceptor::from(Arc::new(config))
    };
    let (first, rest) = (acceptor(first), acceptor(rest));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!(
        "https://127.0.0.1:{}",
        listener.local_addr().unwrap().port()
    );
    let served = Arc::new(Served::default());
    let s = Arc::clone(&served);
    tokio::spawn(async move {
        let mut n = 0;
        while let Ok((socket, _)) = listener.accept().await {
            let acceptor = if n == 0 { first.clone() } else { rest.clone() };
            n += 1;
            let s = Arc::clone(&s);
            tokio::spawn(async move {
                let Ok(Ok(tls)) =
                    tokio::time::timeout(Duration::from_secs(5), acceptor.accept(socket)).await
                else {
                    return;
                };
                match tls.get_ref().1.alpn_protocol() {
                    Some(b"h2") => serve_h2(tls, s).await,
                    _ => serve_http1(tls, s).await,
                }
            });
        }
    });
    (url, served)
}

/// Answers every HTTP/2 stream of one connection with the SSE answer.
async fn serve_h2(tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>, s: Arc<Served>) {
    // The probe connection closes after the TLS handshake: not counted.
    let Ok(mut conn) = h2::server::handshake(tls).await else {
        return;
    };
    s.h2_conns.fetch_add(1, Ordering::SeqCst);
    while let Some(Ok((req, mut respond))) = conn.accept().await {
        assert_eq!(req.version(), http::Version::HTTP_2);
        assert_eq!(req.uri().scheme_str(), Some("https"));
        s.h2_reqs.fetch_add(1, Ordering::SeqCst);
        tokio::spawn(async move {
            let head = http::Response::builder()
                .status(200)
                .header("content-type", "text/event-stream")
                .body(())
                .unwrap();
            let mut send = respond.send_response(head, false).unwrap();
            let events = events();
            let last = events.len() - 1;
            for (i, e) in events.into_iter().enumerate() {
                tokio::time::sleep(Duration::from_millis(5)).await;
                let _ = send.send_data(Bytes::from(e), i == last);
            }
        });
    }
}

/// Answers one HTTP/1.1 request with the SSE answer, then closes.
async fn serve_http1(
    mut tls: tokio_rustls::server::TlsStream<tokio::net::TcpStream>,
    s: Arc<Served>,
) {
    let mut buf = Vec::new();
    let mut piece = [0u8; 4096];
    // The head and the JSON body: enough when the body's closing brace came.
    while !(buf.windows(4).any(|w| w == b"\r\n\r\n") && buf.ends_with(b"}")) {
        match tls.read(&mut piece).await {
            Ok(0) | Err(_) => return,
            Ok(n) => buf.extend_from_slice(&piece[..n]),
        }
    }
    assert!(buf.starts_with(b"POST "), "an HTTP/1.1 request");
    s.http1_reqs.fetch_add(1, Ordering::SeqCst);
    let head = "HTTP/1.1 200 OK\r\ncontent-type: text/event-stream\r\nconnection: close\r\n\r\n";
    let _ = tls.write_all(head.as_bytes()).await;
    for e in events() {
        tokio::time::sleep(Duration::from_millis(5)).await;
        let _ = tls.write_all(e.as_bytes()).await;
    }
    let _ = tls.shutdown().await;
}

fn target(base_url: String, tls: TlsOptions) -> Target {
    Target {
        base_url,
        model: "m".into(),
        api_key: None,
        headers: Vec::new(),
        request_id: None,
        h2c: false,
        tls,
    }
}

async fn send(client: &HttpClient, target: &Target, id: u64) -> RequestRecord {
    let prompt = Prompt {
        text: "hello".into(),
        max_tokens: TOKENS as u32,
        ..Prompt::default()
    };
    let clock = RunClock::start();
    let timeouts = Timeouts {
        first_token: Duration::from_secs(10),
        total: Duration::from_secs(10),
        idle: Duration::from_secs(10),
        max_event_bytes: 1 << 20,
        leaving: None,
        retry_throttled: None,
    };
    let (_tx, abort) = watch::channel(false);
    let run = execute(
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
    );
    tokio::time::timeout(Duration::from_secs(20), run)
        .await
        .expect("bounded")
}

/// Four requests at once, each checked exact.
async fn four_exact(client: &HttpClient, target: &Target) -> Vec<RequestRecord> {
    let records = futures_util::future::join_all((0..4).map(|id| send(client, target, id))).await;
    for r in &records {
        assert!(r.is_ok(), "{:?}", r.error);
        assert_eq!(r.chunks.len(), TOKENS);
        assert_eq!(r.output_chars, 2 * TOKENS as u32);
        assert_eq!(r.output_cjk_chars, TOKENS as u32);
        assert!(r.chunks.windows(2).all(|w| w[0].at_ns <= w[1].at_ns));
    }
    records
}

/// `tls`'s certificate as a `--ca-cert` file.
fn ca_file(tls: &ServerTls) -> tempfile::NamedTempFile {
    let file = tempfile::NamedTempFile::new().unwrap();
    std::fs::write(file.path(), &tls.cert_pem).unwrap();
    file
}

#[tokio::test]
async fn an_https_server_offering_h2_gets_http2_on_one_shared_connection() {
    let cert = ServerTls::self_signed("127.0.0.1").unwrap();
    let (url, served) = server(&cert, &cert, &[b"h2", b"http/1.1"]).await;
    let ca = ca_file(&cert);
    let trust = TlsOptions {
        ca_certs: vec![ca.path().to_path_buf()],
        ..TlsOptions::default()
    };
    let target = target(url, trust);
    let client = client_for(&target, Duration::from_secs(2), 8)
        .await
        .unwrap();
    assert_eq!(client.http_version(), HttpVersion::Http2);
    assert_eq!(client.http_version().label(), "2");
    let records = four_exact(&client, &target).await;
    // h2 reads the socket on its own task: no connection timeline.
    assert!(records.iter().all(|r| r.connected_ns.is_none()));
    assert_eq!(served.h2_reqs.load(Ordering::SeqCst), 4);
    assert_eq!(served.http1_reqs.load(Ordering::SeqCst), 0);
    assert_eq!(
        served.h2_conns.load(Ordering::SeqCst),
        1,
        "four streams, one connection"
    );
}

#[tokio::test]
async fn http1_speaks_http11_to_a_server_offering_both() {
    let cert = ServerTls::self_signed("127.0.0.1").unwrap();
    let (url, served) = server(&cert, &cert, &[b"h2", b"http/1.1"]).await;
    let trust = TlsOptions {
        insecure: true,
        http1: true,
        ..TlsOptions::default()
    };
    let target = target(url, trust);
    let client = client_for(&target, Duration::from_secs(2), 8)
        .await
        .unwrap();
    assert_eq!(client.http_version().label(), "1.1");
    let records = four_exact(&client, &target).await;
    // The precise path: each connection's own timeline.
    assert!(records
        .iter()
        .all(|r| r.connected_ns.is_some() && r.tls_ns.is_some()));
    assert_eq!(served.http1_reqs.load(Ordering::SeqCst), 4);
    assert_eq!(served.h2_reqs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_server_offering_only_http11_keeps_http11() {
    let cert = ServerTls::self_signed("127.0.0.1").unwrap();
    let (url, served) = server(&cert, &cert, &[b"http/1.1"]).await;
    let trust = TlsOptions {
        insecure: true,
        ..TlsOptions::default()
    };
    let target = target(url, trust);
    let client = client_for(&target, Duration::from_secs(2), 8)
        .await
        .unwrap();
    assert_eq!(client.http_version(), HttpVersion::Http1);
    four_exact(&client, &target).await;
    assert_eq!(served.http1_reqs.load(Ordering::SeqCst), 4);
    assert_eq!(served.h2_conns.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn an_untrusted_certificate_under_http2_is_a_tls_error_that_says_what_to_do() {
    // The probe meets the trusted certificate and picks h2; the measured
    // connection then meets one no root vouches for.
    let (trusted, other) = (
        ServerTls::self_signed("127.0.0.1").unwrap(),
        ServerTls::self_signed("127.0.0.1").unwrap(),
    );
    let (url, served) = server(&trusted, &other, &[b"h2"]).await;
    let ca = ca_file(&trusted);
    let trust = TlsOptions {
        ca_certs: vec![ca.path().to_path_buf()],
        ..TlsOptions::default()
    };
    let target = target(url, trust);
    let client = client_for(&target, Duration::from_secs(2), 8)
        .await
        .unwrap();
    assert_eq!(client.http_version(), HttpVersion::Http2);
    let r = send(&client, &target, 0).await;
    let e = r.error.expect("the handshake failed");
    assert_eq!(e.kind, ErrorKind::Tls, "{}", e.message);
    assert!(
        e.message.contains(&Setting::CaCert.to_string())
            && e.message.contains(&Setting::Insecure.to_string()),
        "{}",
        e.message
    );
    assert_eq!(served.h2_reqs.load(Ordering::SeqCst), 0);
}
