//! What `serve` adds to time to first token at one stream: a client on
//! loopback sends streaming requests one after another and takes the time
//! from the request's last byte to the first content byte; the server's
//! final chunk says how long the engine itself spent (`queue_ms +
//! prompt_ms`). The difference is HTTP, JSON, channels and scheduling.
//!
//! ```sh
//! cargo bench -p tokenpace-engine --bench serve_overhead
//! ```
//! `TOKENPACE_BENCH_MODEL` picks another GGUF file; `TOKENPACE_BENCH_REQUESTS`
//! the number of requests (default 30).

mod common;

use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::Arc;
use std::time::Instant;
use tokenpace_engine::{Engine, EngineConfig};

fn main() {
    if let Err(e) = run() {
        eprintln!("error: {e}");
        std::process::exit(1);
    }
}

fn run() -> Result<(), String> {
    let model = common::model();
    let n: usize = common::env_or("TOKENPACE_BENCH_REQUESTS", 30);
    let engine = Engine::start(EngineConfig::new(model)).map_err(|e| e.to_string())?;
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .map_err(|e| e.to_string())?;
    let server = runtime
        .block_on(tokenpace_serve::start(Arc::new(engine), Default::default()))
        .map_err(|e| e.to_string())?;
    let addr = server.addr();
    let mut overheads = Vec::new();
    let mut ttfts = Vec::new();
    for i in 0..n {
        let body = format!(
            r#"{{"prompt":"Request {i}: the history of tea in five sentences. {}","max_tokens":4,"ignore_eos":true,"stream":true,"temperature":0}}"#,
            "Tea is a drink. ".repeat(16)
        );
        let req = format!(
            "POST /v1/completions HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n\r\n{body}",
            body.len()
        );
        let mut s = TcpStream::connect(addr).map_err(|e| e.to_string())?;
        s.set_nodelay(true).map_err(|e| e.to_string())?;
        s.write_all(req.as_bytes()).map_err(|e| e.to_string())?;
        let sent = Instant::now();
        let mut first = None;
        let mut timings = None;
        for line in BufReader::new(s).lines() {
            let line = line.map_err(|e| e.to_string())?;
            let Some(data) = line.strip_prefix("data: ") else {
                continue;
            };
            if data == "[DONE]" {
                break;
            }
            let v: serde_json::Value = serde_json::from_str(data).map_err(|e| e.to_string())?;
            if first.is_none()
                && v["choices"][0]["text"]
                    .as_str()
                    .is_some_and(|t| !t.is_empty())
            {
                first = Some(sent.elapsed().as_secs_f64() * 1e3);
            }
            if v["timings"].is_object() {
                timings = Some(
                    v["timings"]["queue_ms"].as_f64().unwrap_or(0.0)
                        + v["timings"]["prompt_ms"].as_f64().unwrap_or(0.0),
                );
            }
        }
        let (Some(ttft), Some(engine_ms)) = (first, timings) else {
            return Err(format!("request {i} had no text or no timings"));
        };
        // The first request warms caches; leave it out.
        if i > 0 {
            ttfts.push(ttft);
            overheads.push(ttft - engine_ms);
        }
    }
    runtime.block_on(server.shutdown());
    let stats = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        (v[v.len() / 2], v[v.len() * 9 / 10], v[v.len() - 1])
    };
    let (t50, _, _) = stats(&mut ttfts);
    let (o50, o90, omax) = stats(&mut overheads);
    println!(
        "{} requests at 1 stream, ~{} prompt tokens",
        overheads.len(),
        110
    );
    println!("client TTFT p50 {t50:.2} ms");
    println!("serve overhead (client TTFT − engine queue+prompt): p50 {o50:.3} ms, p90 {o90:.3} ms, max {omax:.3} ms");
    println!(
        "target ≤ 2 ms: {}",
        if o50 <= 2.0 { "met (p50)" } else { "MISSED" }
    );
    Ok(())
}
