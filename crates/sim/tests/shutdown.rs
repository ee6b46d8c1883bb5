//! Shutdown ends in-flight streams and loses no truth line.

mod common;

use std::time::{Duration, Instant};

use common::*;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn shutdown_records_every_request_including_in_flight_ones() {
    let t = TestSim::start(|c| c.timing.decode = 20.0).await;
    for _ in 0..50 {
        post(
            &t.sim,
            "/v1/completions",
            r#"{"prompt":"x","max_tokens":1}"#,
        )
        .await;
    }
    let mut streams = Vec::new();
    for _ in 0..5 {
        let mut s = TcpStream::connect(t.sim.addr()).await.unwrap();
        let body = chat(r#","stream":true,"max_tokens":1000,"ignore_eos":true"#);
        let req = format!(
            "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        s.write_all(req.as_bytes()).await.unwrap();
        streams.push(s);
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let started = Instant::now();
    let lines = t.finish().await;
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "in-flight streams end promptly"
    );
    assert_eq!(lines.len(), 55);
    let stopped = lines.iter().filter(|l| l["outcome"] == "shutdown").count();
    assert_eq!(stopped, 5);
    assert!(lines
        .iter()
        .all(|l| l["server_start_unix_ns"].as_u64().unwrap() > 0));
}
