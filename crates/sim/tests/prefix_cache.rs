//! The prefix cache through HTTP: a conversation's next turn is served
//! from the cache, reports it in usage, and its TTFT shrinks by the
//! prefill the cache saved; the truth file agrees.

mod common;

use std::time::Duration;

use common::*;
use serde_json::{json, Value};

/// Settings that make prefill dominate the TTFT, with no jitter.
fn slow_prefill(c: &mut tokenpace_sim::SimConfig) {
    c.timing.ttft_ms = 10.0;
    c.timing.prefill = 5_000.0;
    c.timing.decode = 1_000.0;
}

fn body(messages: &[Value]) -> String {
    json!({
        "messages": messages,
        "stream": true,
        "stream_options": {"include_usage": true},
        "max_tokens": 3,
    })
    .to_string()
}

/// A first turn of about 2000 prompt tokens, and the next turn repeating
/// it; conversation `k` shares no block with another.
fn turns(k: u32) -> (Vec<Value>, Vec<Value>) {
    let system = format!("Conversation {k}. {}", "You answer briefly. ".repeat(200));
    let first = vec![
        json!({"role": "system", "content": system}),
        json!({"role": "user", "content": "Tell me about ferries. ".repeat(200)}),
    ];
    let mut second = first.clone();
    second.push(json!({"role": "assistant", "content": "Ferries carry people."}));
    second.push(json!({"role": "user", "content": "And their engines?"}));
    (first, second)
}

fn first_event(r: &TimedResponse) -> Value {
    serde_json::from_str(&r.events()[0]).unwrap()
}

fn usage(r: &TimedResponse) -> Value {
    r.events()
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .find(|v| v.get("usage").is_some())
        .map(|v| v["usage"].clone())
        .expect("a usage event")
}

/// Client TTFT: from sending to the first content chunk.
fn ttft(r: &TimedResponse) -> Duration {
    let first = r
        .pieces
        .iter()
        .find(|(_, d)| String::from_utf8_lossy(d).contains("\"content\""))
        .expect("a content chunk");
    first.0 - r.sent
}

/// From admission to the first chunk's deadline, per the truth (ms).
fn truth_ttft_ms(line: &Value) -> f64 {
    let first = line["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["kind"] == "content")
        .unwrap();
    (first["deadline_ns"].as_u64().unwrap() - line["admitted_ns"].as_u64().unwrap()) as f64 / 1e6
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_next_turn_hits_the_cache_and_its_ttft_shrinks_by_the_saved_prefill() {
    let t = TestSim::start(slow_prefill).await;
    let (a, b) = conversation(&t, 0).await;
    let (ua, ub) = (usage(&a), usage(&b));
    let (ida, idb) = (first_event(&a)["id"].clone(), first_event(&b)["id"].clone());
    let metrics = request(&t.sim, "GET", "/metrics", &[], b"").await.text();
    let lines = t.finish().await;
    let (la, lb) = (
        line(&lines, ida.as_str().unwrap()),
        line(&lines, idb.as_str().unwrap()),
    );
    let (pa, pb) = (
        la["prompt_tokens"].as_u64().unwrap(),
        lb["prompt_tokens"].as_u64().unwrap(),
    );
    // A cold cache: nothing cached, and usage says so.
    assert_eq!(la["cached_tokens"], 0);
    assert_eq!(ua["prompt_tokens_details"]["cached_tokens"], 0);
    // The next turn: every full block of the first turn (block size 16).
    let cached = lb["cached_tokens"].as_u64().unwrap();
    assert_eq!(cached, pa / 16 * 16);
    assert!(cached > 0 && cached < pb);
    assert_eq!(ub["prompt_tokens_details"]["cached_tokens"], cached);
    assert_eq!(ub["prompt_tokens"], pb);
    assert_eq!(lb["session"], "conv-7");
    // /metrics counts the tokens looked up and found, as vLLM does.
    let counter = |name: &str| -> u64 {
        let line = metrics.lines().find(|l| l.starts_with(name)).unwrap();
        line.rsplit(' ').next().unwrap().parse().unwrap()
    };
    assert_eq!(
        counter("tokenpace_sim_prefix_cache_queries_total "),
        pa + pb
    );
    assert_eq!(counter("tokenpace_sim_prefix_cache_hits_total "), cached);
    assert!(la.get("session").is_none());
    // The model: TTFT = ttft_ms + uncached tokens / prefill, exactly.
    for (line, uncached) in [(la, pa), (lb, pb - cached)] {
        let want = 10.0 + uncached as f64 / 5_000.0 * 1e3;
        let got = truth_ttft_ms(line);
        assert!((got - want).abs() < 0.01, "{got} ms, want {want} ms");
    }
    let predicted = (pb - cached) as f64 / 5.0 - pa as f64 / 5.0;
    assert!(
        predicted < -300.0,
        "the test needs a large saving: {predicted}"
    );
}

/// The first and next turn of conversation `k`.
async fn conversation(t: &TestSim, k: u32) -> (TimedResponse, TimedResponse) {
    let (first, second) = turns(k);
    let a = post(&t.sim, "/v1/chat/completions", &body(&first)).await;
    let b = request(
        &t.sim,
        "POST",
        "/v1/chat/completions",
        &[("X-Session-ID", "conv-7")],
        body(&second).as_bytes(),
    )
    .await;
    (a, b)
}

/// The client sees the TTFT difference the model predicts from the usage
/// reported, within scheduling noise.
fn client_sees_the_saving(a: &TimedResponse, b: &TimedResponse) -> Result<(), String> {
    let (ua, ub) = (usage(a), usage(b));
    let tokens = |u: &Value, k: &str| u[k].as_u64().unwrap() as f64;
    let cached = ub["prompt_tokens_details"]["cached_tokens"]
        .as_u64()
        .unwrap() as f64;
    let predicted = (tokens(&ub, "prompt_tokens") - cached - tokens(&ua, "prompt_tokens")) / 5.0;
    let seen = (ttft(b).as_secs_f64() - ttft(a).as_secs_f64()) * 1e3;
    if (seen - predicted).abs() < 25.0 {
        Ok(())
    } else {
        Err(format!(
            "TTFT changed by {seen:.1} ms, the model says {predicted:.1} ms"
        ))
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_client_sees_the_ttft_shrink_by_the_saved_prefill() {
    let t = TestSim::start(slow_prefill).await;
    // One try, within 25 ms of scheduling noise.
    let (a, b) = conversation(&t, 0).await;
    if let Err(e) = client_sees_the_saving(&a, &b) {
        panic!("{e}");
    }
    t.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_the_cache_off_nothing_is_cached_or_reported() {
    let t = TestSim::start(|c| {
        slow_prefill(c);
        c.prefix_cache.enabled = false;
    })
    .await;
    let (first, _) = turns(0);
    let a = post(&t.sim, "/v1/chat/completions", &body(&first)).await;
    let b = post(&t.sim, "/v1/chat/completions", &body(&first)).await;
    for r in [&a, &b] {
        let u = usage(r);
        assert!(u.get("prompt_tokens_details").is_none(), "{u}");
    }
    let idb = first_event(&b)["id"].as_str().unwrap().to_owned();
    let lines = t.finish().await;
    let lb = line(&lines, &idb);
    assert!(lb.get("cached_tokens").is_none());
    let want = 10.0 + lb["prompt_tokens"].as_u64().unwrap() as f64 / 5.0;
    assert!((truth_ttft_ms(lb) - want).abs() < 0.01);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_truth_header_records_the_cache_settings() {
    let t = TestSim::start(|c| {
        c.prefix_cache.block_tokens = 32;
        c.prefix_cache.capacity_tokens = 4096;
        c.session_header = "X-Conv".into();
    })
    .await;
    let r = request(
        &t.sim,
        "POST",
        "/v1/chat/completions",
        &[("x-conv", "s1"), ("X-Session-ID", "ignored")],
        chat("").as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    // The header is written (and flushed) when the server starts.
    let text = std::fs::read_to_string(&t.truth).unwrap();
    let header: Value = serde_json::from_str(text.lines().next().unwrap()).unwrap();
    let lines = t.finish().await;
    assert_eq!(lines[0]["session"], "s1");
    let p = &header["config"]["prefix_cache"];
    assert_eq!(
        (&p["enabled"], &p["block_tokens"], &p["capacity_tokens"]),
        (&true.into(), &32.into(), &4096.into())
    );
    assert_eq!(header["config"]["session_header"], "X-Conv");
}
