//! The native backends (llama.cpp, Ollama, TGI) against the simulator's
//! native routes: every request accounted for, counts exact, and the timings
//! the server reports equal to what its ground truth implies.

use clap::Parser;
use std::collections::HashMap;
use tokenpace::cli::Cli;
use tokenpace_core::record::RequestRecord;
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::truth::RequestTruth;
use tokenpace_sim::SimServer;

const PREFILL: f64 = 2000.0;

#[test]
fn native_backends_report_the_simulators_timings() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let mut config = SimConfig {
        port: 0,
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 20.0;
    config.timing.prefill = PREFILL;
    config.timing.decode = 200.0;
    let sim = runtime.block_on(SimServer::start(config)).unwrap();
    let url = sim.url();
    let mut runs = Vec::new();
    for backend in ["llamacpp", "ollama", "ollama-chat", "tgi"] {
        let out = dir.path().join(backend);
        let cli = Cli::try_parse_from([
            "tokenpace",
            "bench",
            &url,
            "--backend",
            backend,
            "--concurrency",
            "2",
            "--requests",
            "4",
            "--max-tokens",
            "12",
            "--prompt-tokens",
            "200",
            "--out",
            out.to_str().unwrap(),
            "--lang",
            "en",
        ])
        .unwrap();
        let mut text = Vec::new();
        tokenpace::run(cli, &mut text).unwrap_or_else(|e| panic!("{backend}: {e:#}"));
        let text = String::from_utf8(text).unwrap();
        assert!(text.contains("4 sent, 4 ok, 0 failed"), "{backend}: {text}");
        let records = tokenpace_client::sink::read_jsonl(&out.join("requests.jsonl")).unwrap();
        runs.push((backend, text, records));
    }
    runtime.block_on(sim.shutdown()).unwrap();
    let truth: HashMap<String, RequestTruth> = std::fs::read_to_string(&truth_path)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"type\":\"request\""))
        .map(|l| serde_json::from_str::<RequestTruth>(l).unwrap())
        .map(|t| (t.id.clone(), t))
        .collect();
    for (backend, text, records) in runs {
        let has_timings = backend != "tgi";
        assert_eq!(
            text.contains("prefill, server-reported"),
            has_timings,
            "{backend}: {text}"
        );
        for r in &records {
            check(backend, r, &truth, has_timings);
        }
    }
}

fn check(backend: &str, r: &RequestRecord, truth: &HashMap<String, RequestTruth>, timings: bool) {
    assert!(r.is_ok(), "{backend}: {r:?}");
    let t = &truth[r.response_id.as_deref().expect("the sim sends an id")];
    let content: Vec<_> = t.chunks.iter().filter(|c| c.kind == "content").collect();
    assert_eq!(r.chunks.len(), content.len(), "{backend}");
    assert_eq!(
        u64::from(r.output_tokens.unwrap().count),
        t.completion_tokens
    );
    assert_eq!(
        r.output_chars,
        content.iter().map(|c| c.chars).sum::<u32>(),
        "{backend}"
    );
    if !timings {
        assert!(r.server_timings.is_none(), "{backend}");
        return;
    }
    assert_eq!(u64::from(r.prompt_tokens.unwrap().count), t.prompt_tokens);
    let s = r.server_timings.expect("native servers report timings");
    // Prefill: the model's own rate; decode: (n − 1) ÷ (last − first write).
    let prefill = s.prefill_tok_s.unwrap();
    assert!(
        (prefill - PREFILL).abs() < 1e-6 * PREFILL,
        "{backend}: {prefill}"
    );
    let span = (content.last().unwrap().written_ns - content[0].written_ns) as f64 / 1e9;
    let expected = (t.completion_tokens - 1) as f64 / span;
    let decode = s.decode_tok_s.unwrap();
    // Ollama states durations in whole nanoseconds.
    assert!(
        (decode - expected).abs() < 1e-6 * expected,
        "{backend}: {decode} vs {expected}"
    );
}
