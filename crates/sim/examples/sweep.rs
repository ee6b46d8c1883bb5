//! A concurrency sweep against the simulator, showing the batching knee:
//! per-stream decode slows as `decode / (1 + k·(b − 1))` until the batch is
//! full, then TTFT grows with queueing instead.
//!
//! `cargo run --release -p tokenpace-sim --example sweep`

use std::time::{Duration, Instant};

use tokenpace_sim::{SimConfig, SimServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKENS: usize = 40;

/// Returns (TTFT, decode tokens/s) of one stream as the client sees them.
async fn stream(addr: std::net::SocketAddr) -> (Duration, f64) {
    let body = format!(
        r#"{{"messages":[{{"role":"user","content":"hi"}}],"stream":true,"max_tokens":{TOKENS},"ignore_eos":true}}"#
    );
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let req = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    );
    let sent = Instant::now();
    s.write_all(req.as_bytes()).await.expect("send");
    let mut buf = vec![0u8; 65536];
    let mut arrivals = Vec::new();
    loop {
        let n = s.read(&mut buf).await.unwrap_or(0);
        if n == 0 {
            break;
        }
        // One content event per read at these rates; count them by their marker.
        let text = String::from_utf8_lossy(&buf[..n]);
        for _ in text.matches("\"content\":") {
            arrivals.push(Instant::now());
        }
    }
    let first = arrivals[0];
    let last = arrivals[arrivals.len() - 1];
    let rate = (arrivals.len() - 1) as f64 / (last - first).as_secs_f64();
    (first - sent, rate)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let mut config = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 20.0;
    config.timing.decode = 100.0;
    config.timing.max_batch = 8;
    config.timing.batch_slowdown = 0.25;
    let sim = SimServer::start(config).await?;
    println!("decode 100 tok/s, k = 0.25, max_batch 8, ttft 20 ms, {TOKENS} tokens per stream");
    println!(
        "(beyond 8 streams the rest queue: TTFT jumps, and later waves decode in smaller batches)"
    );
    println!("concurrency | model tok/s/stream at min(c,8) | measured tok/s/stream | aggregate tok/s (whole burst) | mean TTFT ms | max TTFT ms");
    for c in [1usize, 2, 4, 8, 12, 16] {
        let start = Instant::now();
        let tasks: Vec<_> = (0..c).map(|_| tokio::spawn(stream(sim.addr()))).collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await?);
        }
        let b = c.min(8) as f64;
        let model = 100.0 / (1.0 + 0.25 * (b - 1.0));
        let rate = results.iter().map(|r| r.1).sum::<f64>() / c as f64;
        let ttfts: Vec<f64> = results.iter().map(|r| r.0.as_secs_f64() * 1e3).collect();
        let mean = ttfts.iter().sum::<f64>() / c as f64;
        let max = ttfts.iter().copied().fold(0.0, f64::max);
        let aggregate = (c * TOKENS) as f64 / start.elapsed().as_secs_f64();
        println!("{c:>11} | {model:>29.1} | {rate:>21.1} | {aggregate:>29.0} | {mean:>12.1} | {max:>11.1}");
    }
    sim.shutdown().await
}
