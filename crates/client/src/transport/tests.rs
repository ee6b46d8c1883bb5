//! The timed transport against small local servers.

use super::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// A server that answers each connection's first request with
/// `pieces`, written one at a time with a short pause between them.
async fn server(pieces: Vec<&'static [u8]>) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let pieces = pieces.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 4096];
                let _ = s.read(&mut buf).await;
                for p in pieces {
                    if s.write_all(p).await.is_err() {
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(2)).await;
                }
            });
        }
    });
    url
}

const REQUEST: &[u8] = b"POST / HTTP/1.1\r\nhost: x\r\ncontent-length: 0\r\n\r\n";

/// The body's bytes, or the error.
async fn body(pieces: Vec<&'static [u8]>) -> Result<(u16, Vec<u8>), String> {
    let url = server(pieces).await;
    let e = HostPool::of(&url, 4, Duration::from_secs(2), &tls()).unwrap();
    let clock = RunClock::start();
    let mut r = e
        .send(REQUEST, &clock)
        .await
        .map_err(|(f, _)| format!("{f:?}"))?;
    let t = r.timeline;
    assert!(t.connected_ns.is_some() && t.written_ns >= t.connected_ns);
    assert!(t.head_ns >= t.written_ns);
    let mut out = Vec::new();
    while let Some((b, _)) = r.next(&clock).await? {
        out.extend_from_slice(b);
    }
    Ok((r.status, out))
}

#[tokio::test]
async fn chunked_bodies_split_anywhere_arrive_whole() {
    let (status, b) = body(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r",
        b"\n5\r\nhel",
        b"lo\r\n6;ext=1\r\n wor",
        b"ld\r",
        b"\n0\r\n\r\n",
    ])
    .await
    .unwrap();
    assert_eq!((status, b.as_slice()), (200, b"hello world".as_slice()));
}

#[tokio::test]
async fn length_and_close_delimited_bodies() {
    let b = body(vec![
        b"HTTP/1.1 500 Oops\r\nContent-Length: 4\r\n\r\nab",
        b"cdEXTRA",
    ])
    .await
    .unwrap();
    assert_eq!((b.0, b.1.as_slice()), (500, b"abcd".as_slice()));
    let b = body(vec![b"HTTP/1.0 200 OK\r\n\r\nuntil ", b"close"])
        .await
        .unwrap();
    assert_eq!(b.1, b"until close");
}

#[tokio::test]
async fn broken_framing_is_an_error_not_a_hang_or_a_panic() {
    let bad_size = body(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n",
    ])
    .await;
    assert!(bad_size.unwrap_err().contains("not hex"));
    let cut = body(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc"]).await;
    assert!(cut.unwrap_err().contains("closed the connection mid-body"));
    let garbage = body(vec![b"SSH-2.0-OpenSSH\r\n\r\n"]).await;
    assert!(garbage.unwrap_err().contains("not HTTP/1.1"));
    let long_line: &'static [u8] = Box::leak(vec![b'1'; 8192].into_boxed_slice());
    let long = body(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        long_line,
    ])
    .await;
    assert!(long.unwrap_err().contains("over 4 KiB"));
}

#[tokio::test]
async fn a_complete_body_returns_its_connection_for_the_next_request() {
    let url = server(vec![b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]).await;
    let e = HostPool::of(&url, 4, Duration::from_secs(2), &tls()).unwrap();
    let clock = RunClock::start();
    let mut r = e.send(REQUEST, &clock).await.unwrap();
    while r.next(&clock).await.unwrap().is_some() {}
    drop(r);
    assert_eq!(e.idle.lock().unwrap().len(), 1);
}

#[test]
fn endpoints_of_urls() {
    let e = |u: &str| HostPool::of(u, 1, Duration::from_secs(1), &tls()).map(|e| e.authority());
    assert_eq!(e("http://127.0.0.1:8000/v1"), Some("127.0.0.1:8000".into()));
    assert_eq!(e("http://localhost"), Some("localhost:80".into()));
    assert_eq!(e("http://[::1]:9000"), Some("[::1]:9000".into()));
    assert_eq!(e("http://[::1]/v1"), Some("[::1]:80".into()));
    assert_eq!(e("https://127.0.0.1:8000"), Some("127.0.0.1:8000".into()));
    assert_eq!(
        e("https://api.example.com/v1"),
        Some("api.example.com:443".into())
    );
    assert_eq!(e("ftp://127.0.0.1"), None);
    assert_eq!(e("http://user:pw@127.0.0.1:1"), Some("127.0.0.1:1".into()));
    assert_eq!(e("http://user@"), None);
    assert_eq!(e("http://127.0.0.1:notaport"), None);
}

/// A chunk the client reads 60 ms after it arrived (a client busy with
/// other streams) is dated by its arrival, not by the read.
#[cfg(target_os = "linux")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_chunk_read_late_is_dated_by_its_arrival() {
    let url = server(vec![
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n",
        b"5\r\nhello\r\n",
        b"0\r\n\r\n",
    ])
    .await;
    let e = HostPool::of(&url, 4, Duration::from_secs(2), &tls()).unwrap();
    // Stamping turns on in the background once asked for (`HostPool::of`).
    tokio::time::sleep(Duration::from_millis(20)).await;
    let clock = RunClock::start();
    let mut r = e.send(REQUEST, &clock).await.unwrap();
    // The server (on the other worker) writes the chunk 2 ms after the
    // head, while this thread is busy.
    std::thread::sleep(Duration::from_millis(60));
    let mut dated = None;
    while let Some((bytes, at)) = r.next(&clock).await.unwrap() {
        if bytes == b"hello" {
            dated = Some(at);
        }
    }
    let late_by = clock.now() - dated.expect("the chunk arrived");
    assert!(late_by >= 50_000_000, "dated only {late_by} ns before now");
}

/// The default TLS configuration (system roots).
fn tls() -> std::sync::Arc<rustls::ClientConfig> {
    super::tls::client_config(&Default::default()).unwrap()
}
