//! `bench --slo` against the simulator: goodput counts the requests that
//! met every limit, and the share that did names the limit most missed.

use crate::bench_support::{bench, serial};
use crate::common;
use tokenpace_sim::config::SimConfig;

/// 50 tokens/s a stream whatever the batch: a TPOT of 20 ms.
fn sim() -> common::Sim {
    let mut config = SimConfig::default();
    config.timing.ttft_ms = 20.0;
    config.timing.decode = 50.0;
    config.timing.batch_slowdown = 0.0;
    common::Sim::start(config)
}

fn run(url: &str, slo: &str, format: &str) -> String {
    let (_, out) = bench(&[
        url,
        "--concurrency",
        "2",
        "--requests",
        "6",
        "--max-tokens",
        "12",
        "--prompt-tokens",
        "32",
        "--lang",
        "en",
        "--slo",
        slo,
        "--format",
        format,
    ])
    .unwrap();
    out
}

#[test]
fn bench_reports_goodput_and_the_limit_most_missed() {
    let _serial = serial();
    let sim = sim();
    // MLPerf's interactive 8B limits (TTFT 500 ms, TPOT 30 ms) hold at 20 ms.
    let json = run(&sim.url(), "mlperf-interactive:llama-3.1-8b", "json");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let a = &v["summary"]["goodput"];
    assert_eq!(
        (a["requests"].as_u64(), a["good"].as_u64()),
        (Some(6), Some(6)),
        "{a}"
    );
    let rps = v["summary"]["throughput"]["requests_per_s"]
        .as_f64()
        .unwrap();
    let good = a["good_per_s"].as_f64().unwrap();
    assert!(
        (good - rps).abs() <= 0.01 * rps,
        "goodput {good}, throughput {rps}"
    );
    // A user's file asking 10 ms a token: no request meets it, on TPOT.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("fast.toml");
    std::fs::write(&file, "name = \"fast\"\ntpot_ms = 10\nttft_ms = 1000\n").unwrap();
    let table = run(&sim.url(), file.to_str().unwrap(), "table");
    sim.stop();
    assert!(
        table
            .contains("goodput: 0.00 good req/s (0 % of requests meet SLO fast; most missed TPOT)"),
        "{table}"
    );
}

#[test]
fn the_slo_and_its_goodput_are_kept_in_run_json() {
    let _serial = serial();
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let (_, _) = bench(&[
        &sim.url(),
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "12",
        "--prompt-tokens",
        "32",
        "--lang",
        "en",
        "--quiet",
        "--slo",
        "mlperf-server:llama-3.1-8b",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    sim.stop();
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let slo = &run["settings"]["slo"];
    assert_eq!(
        (
            slo["name"].as_str(),
            slo["ttft_ms"].as_f64(),
            slo["tpot_ms"].as_f64()
        ),
        (
            Some("mlperf-server:llama-3.1-8b"),
            Some(2000.0),
            Some(100.0)
        ),
        "{slo}"
    );
    let g = &run["goodput"];
    assert_eq!(
        (g["requests"].as_u64(), g["good"].as_u64()),
        (Some(4), Some(4)),
        "{run}"
    );
}
