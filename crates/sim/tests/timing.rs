//! The timing model holds as seen by a client, and the truth file agrees.

mod common;

use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// Timing tests run one at a time so they do not load each other's CPU.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

/// Arrival times of the content events (one HTTP chunk each).
fn content_arrivals(r: &TimedResponse) -> Vec<Instant> {
    r.pieces
        .iter()
        .filter(|(_, data)| {
            let text = String::from_utf8_lossy(data);
            text.contains("\"content\"")
                || text.contains("\"text\":\"") && !text.contains("finish_reason\":\"")
        })
        .map(|(t, _)| *t)
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ttft_and_decode_follow_the_model_and_truth_matches_the_client() {
    let _serial = SERIAL.lock().await;
    let t = TestSim::start(|c| {
        c.timing.ttft_ms = 40.0;
        c.timing.prefill = 10_000.0;
        c.timing.decode = 100.0;
        // A retry repeats the prompt, which must be prefilled again.
        c.prefix_cache.enabled = false;
    })
    .await;
    // 4000 ASCII characters ≈ 1000 prompt tokens → +100 ms of prefill.
    let body = format!(
        r#"{{"messages":[{{"role":"user","content":"{}"}}],"stream":true,"max_tokens":30}}"#,
        "a".repeat(4000)
    );
    // One try: the wall-clock check allows a scheduler hiccup on a few
    // tokens (90 % within 2 ms), and the truth checks below are strict.
    let r = post(&t.sim, "/v1/chat/completions", &body).await;
    let arrivals = content_arrivals(&r);
    assert_eq!(arrivals.len(), 30);
    if let Err(e) = check_model_timing(&r, &arrivals) {
        panic!("timing off: {e}");
    }
    let epoch = t.sim.epoch();
    let id = serde_json::from_str::<Value>(&r.events()[0]).unwrap()["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let content = r.content();
    let lines = t.finish().await;
    let truth = line(&lines, &id);
    assert_eq!(truth["prompt_tokens"], 1000);
    assert_eq!(truth["completion_tokens"], 30);
    assert_eq!(truth["outcome"], "ok");
    let chunks = truth["chunks"].as_array().unwrap();
    let content_chunks: Vec<&Value> = chunks.iter().filter(|c| c["kind"] == "content").collect();
    assert_eq!(content_chunks.len(), 30);
    let bytes: u64 = chunks.iter().map(|c| c["bytes"].as_u64().unwrap()).sum();
    assert_eq!(
        bytes as usize,
        r.body.len(),
        "truth bytes = SSE bytes received"
    );
    let chars: u64 = chunks.iter().map(|c| c["chars"].as_u64().unwrap()).sum();
    assert_eq!(chars as usize, content.chars().count());
    let received = truth["received_ns"].as_u64().unwrap();
    let first_deadline = content_chunks[0]["deadline_ns"].as_u64().unwrap();
    assert!(
        (first_deadline - received).abs_diff(140_000_000) < 500_000,
        "model TTFT in truth"
    );
    let first_ns = content_chunks[0]["deadline_ns"].as_u64().unwrap();
    let mut far_apart = 0;
    for (k, (c, at)) in content_chunks.iter().zip(&arrivals).enumerate() {
        let written_ns = c["written_ns"].as_u64().unwrap();
        let deadline_ns = c["deadline_ns"].as_u64().unwrap();
        // The model's deadlines form an exact lattice: no drift.
        assert!((deadline_ns - first_ns).abs_diff(10_000_000 * k as u64) < 1_000);
        assert!(written_ns >= deadline_ns, "never early");
        assert!(
            *at >= epoch + Duration::from_nanos(deadline_ns),
            "never seen before its deadline"
        );
        // The client may read the bytes while the server's write call is
        // still returning, so the two instants are close, in either order.
        let written = epoch + Duration::from_nanos(written_ns);
        let apart = if *at > written {
            *at - written
        } else {
            written - *at
        };
        far_apart += usize::from(ms(apart) >= 2.0);
    }
    assert!(
        far_apart * 10 <= arrivals.len(),
        "{far_apart} chunks arrived 2+ ms after their write"
    );
}

/// TTFT within 2 ms of the model (140 ms) and never early; token k arrives
/// k·10 ms after the first (no drift): at least 90% within 2 ms, so one
/// scheduler hiccup on a shared machine does not fail the check.
fn check_model_timing(r: &TimedResponse, arrivals: &[Instant]) -> Result<(), String> {
    let ttft = arrivals[0] - r.sent;
    if ttft < Duration::from_millis(140) {
        panic!("TTFT {ttft:?} earlier than the model");
    }
    if ttft > Duration::from_millis(142) {
        return Err(format!("TTFT {ttft:?} more than 2 ms over the model"));
    }
    let off: Vec<String> = arrivals
        .iter()
        .enumerate()
        .filter_map(|(k, at)| {
            let want = Duration::from_millis(10 * k as u64);
            let got = *at - arrivals[0];
            (ms(got.abs_diff(want)) >= 2.0).then(|| format!("token {k}: {got:?} vs {want:?}"))
        })
        .collect();
    if off.len() * 10 > arrivals.len() {
        return Err(off.join(", "));
    }
    Ok(())
}

/// Streams `n` requests at once; returns (client TTFT, mean decode interval after warm-up) per stream.
async fn burst(t: &TestSim, n: usize, tokens: usize) -> Vec<(Duration, Duration)> {
    let body = chat(&format!(
        r#","stream":true,"max_tokens":{tokens},"ignore_eos":true"#
    ));
    let mut tasks = Vec::new();
    for _ in 0..n {
        let addr = t.sim.addr();
        let body = body.clone();
        tasks.push(tokio::spawn(async move {
            let mut s = tokio::net::TcpStream::connect(addr).await.unwrap();
            send(&mut s, "POST", "/v1/chat/completions", &[], body.as_bytes()).await
        }));
    }
    let mut out = Vec::new();
    for task in tasks {
        let r = task.await.unwrap();
        let a = content_arrivals(&r);
        assert_eq!(a.len(), tokens);
        let warm = 4;
        let interval = (a[tokens - 1] - a[warm]) / (tokens - 1 - warm) as u32;
        out.push((a[0] - r.sent, interval));
    }
    out
}

/// Runs `burst(n)` once and holds it to `check`.
async fn check_burst(
    t: &TestSim,
    n: usize,
    check: impl Fn(&[(Duration, Duration)]) -> Result<(), String>,
) {
    if let Err(e) = check(&burst(t, n, 20).await) {
        panic!("{n} streams: timing off: {e}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn batching_slows_decode_by_the_documented_law_and_queues_beyond_max_batch() {
    let _serial = SERIAL.lock().await;
    // rate = 200 / (1 + 0.5·(b − 1)): b=1 → 5 ms, b=2 → 7.5 ms, b=4 → 12.5 ms per token.
    let t = TestSim::start(|c| {
        c.timing.decode = 200.0;
        c.timing.batch_slowdown = 0.5;
        c.timing.max_batch = 4;
        c.timing.ttft_ms = 5.0;
    })
    .await;
    for (n, want_ms) in [(1usize, 5.0), (2, 7.5), (4, 12.5)] {
        check_burst(&t, n, |results| {
            for (_, interval) in results {
                let got = ms(*interval);
                if (got - want_ms).abs() >= want_ms * 0.08 {
                    return Err(format!("batch {n}: {got} ms vs {want_ms} ms"));
                }
            }
            Ok(())
        })
        .await;
    }
    // 8 at once with 4 slots: the second four wait for the first (the knee).
    check_burst(&t, 8, |results| {
        let mut ttfts: Vec<f64> = results.iter().map(|(ttft, _)| ms(*ttft)).collect();
        ttfts.sort_by(f64::total_cmp);
        // First wave: ~5 ms. Second wave: the first wave's 5 + 19·12.5 ms, then its own 5 ms.
        if ttfts[3] >= 20.0 || ttfts[4] <= 230.0 || ttfts[7] >= 290.0 {
            return Err(format!("TTFTs {ttfts:?}"));
        }
        for (_, interval) in results {
            if (ms(*interval) - 12.5).abs() >= 1.0 {
                return Err(format!("batch stays at 4: {interval:?}"));
            }
        }
        Ok(())
    })
    .await;
    let lines = t.finish().await;
    let queued: Vec<f64> = lines
        .iter()
        .rev()
        .take(8)
        .map(|l| {
            (l["admitted_ns"].as_u64().unwrap() - l["queued_ns"].as_u64().unwrap()) as f64 / 1e6
        })
        .collect();
    assert_eq!(
        queued.iter().filter(|q| **q > 200.0).count(),
        4,
        "{queued:?}"
    );
    assert!(lines
        .iter()
        .all(|l| l["batch_at_admission"].as_u64().unwrap() <= 4));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_per_chunk_groups_tokens_and_jitter_is_seeded() {
    let _serial = SERIAL.lock().await;
    let t = TestSim::start(|c| {
        c.timing.tokens_per_chunk = 3;
        c.timing.decode = 1000.0;
        c.timing.jitter_ms = 0.5;
        c.timing.jitter_dist = tokenpace_sim::config::JitterDist::Uniform;
    })
    .await;
    let r = post(
        &t.sim,
        "/v1/completions",
        r#"{"prompt":"x","stream":true,"max_tokens":10,"ignore_eos":true}"#,
    )
    .await;
    assert_eq!(
        r.events().len(),
        4 + 2,
        "chunks of 3+3+3+1 tokens, finish, [DONE]"
    );
    let lines = t.finish().await;
    let tokens: Vec<u64> = lines[0]["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "content")
        .map(|c| c["tokens"].as_u64().unwrap())
        .collect();
    assert_eq!(tokens, [3, 3, 3, 1]);
}
