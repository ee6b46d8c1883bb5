//! Snapshots of `tokenpace bench`'s output in every format, against the
//! in-process simulator: one level, a concurrency sweep, a prompt-length
//! sweep and a run with errors. They pin what the output layer prints
//! (labels, layout, headers, keys, counts, settings, tiers), so a change to
//! it shows up in review. Measured numbers, ports, paths and dates are
//! masked by `common::mask` (its docs give the grammar).
//!
//! The simulator is fast and far inside tier A on every graded metric
//! (`common::fast_sim`), so the tiers are stable by construction; the
//! faults fire on fixed request numbers, so the error counts are exact.

use crate::common::{fast_sim, mask, ok, serial, Sim};

/// Runs `bench URL ARGS… --lang en` against a fresh fast simulator.
fn bench(args: &[&str]) -> String {
    bench_on(fast_sim(), args)
}

fn bench_on(config: tokenpace_sim::config::SimConfig, args: &[&str]) -> String {
    let _serial = serial();
    let sim = Sim::start(config);
    let url = sim.url();
    let mut argv = vec!["bench", url.as_str()];
    argv.extend_from_slice(args);
    if !args.contains(&"--lang") {
        argv.extend(["--lang", "en"]);
    }
    let out = ok(&argv);
    sim.stop();
    out
}

const ONE_LEVEL: &[&str] = &["--concurrency", "2", "--requests", "4", "--max-tokens", "8"];
const SWEEP: &[&str] = &[
    "--concurrency",
    "1,2",
    "--requests",
    "4",
    "--max-tokens",
    "8",
];

fn with(base: &[&str], more: &[&str]) -> Vec<String> {
    base.iter().chain(more).map(|s| s.to_string()).collect()
}

fn run(base: &[&str], more: &[&str]) -> String {
    let args = with(base, more);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    bench(&args)
}

#[test]
fn snapshot_bench_table() {
    let out = run(ONE_LEVEL, &[]);
    assert!(out.contains("4 sent, 4 ok, 0 failed"), "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_bench_markdown() {
    let out = run(ONE_LEVEL, &["--format", "markdown"]);
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_bench_json() {
    let out = run(ONE_LEVEL, &["--format", "json"]);
    insta::assert_json_snapshot!(mask::json_text(&out));
}

#[test]
fn snapshot_bench_csv() {
    let out = run(ONE_LEVEL, &["--format", "csv"]);
    insta::assert_snapshot!(mask::csv(&out));
}

#[test]
fn snapshot_sweep_table() {
    let out = run(SWEEP, &[]);
    assert!(out.contains("c1 ") && out.contains("c2 "), "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_sweep_markdown() {
    let out = run(SWEEP, &["--format", "markdown"]);
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_sweep_json() {
    let out = run(SWEEP, &["--format", "json"]);
    insta::assert_json_snapshot!(mask::json_text(&out));
}

#[test]
fn snapshot_sweep_csv() {
    let out = run(SWEEP, &["--format", "csv"]);
    insta::assert_snapshot!(mask::csv(&out));
}

/// Two prompt lengths: one row each and the fitted prefill line.
#[test]
fn snapshot_prompt_sweep_table() {
    let out = bench(&[
        "--prompt-tokens",
        "64,256",
        "--requests",
        "4",
        "--max-tokens",
        "8",
    ]);
    assert!(out.contains("prefill line: TTFT ≈ "), "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

/// A simulator that answers every 3rd request with HTTP 500 and resets the
/// 4th mid-stream: of 6 requests at concurrency 1, 3 fail (2 http_status,
/// 1 stream_cut), whatever the timing.
fn faulty_sim() -> tokenpace_sim::config::SimConfig {
    let mut config = fast_sim();
    config.faults.inject = vec![
        "http_500:every=3".parse().unwrap(),
        "reset:every=4".parse().unwrap(),
    ];
    config
}

const FAULTY: &[&str] = &["--concurrency", "1", "--requests", "6", "--max-tokens", "8"];

#[test]
fn snapshot_errors_table() {
    let out = bench_on(faulty_sim(), FAULTY);
    assert!(out.contains("6 sent, 3 ok, 3 failed"), "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_errors_table_zh() {
    let args = with(FAULTY, &["--lang", "zh"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = bench_on(faulty_sim(), &args);
    assert!(out.contains("6 已发送, 3 ok, 3 失败"), "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_errors_json() {
    let args = with(FAULTY, &["--format", "json"]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let out = bench_on(faulty_sim(), &args);
    let v = mask::json_text(&out);
    assert_eq!(v["summary"]["counts"]["by_kind"]["http_status"], 2, "{out}");
    insta::assert_json_snapshot!(v);
}

/// The masking keeps what is exact: a check that it cannot hide a changed
/// count, threshold, setting or label.
#[test]
fn masking_keeps_counts_thresholds_and_labels() {
    let line = "requests: 6 sent, 3 ok, 3 failed; 7.36 req/s, 58.9 output tok/s";
    assert_eq!(
        mask::text(line),
        "requests: 6 sent, 3 ok, 3 failed; # req/s, # output tok/s"
    );
    assert_eq!(
        mask::text(
            "  A     time to first token       0.077 s (mean)  < 2.00 s        +1.92 s headroom"
        ),
        "  A  time to first token  # s (mean)  < 2.00 s  # s headroom"
    );
    assert_eq!(
        mask::text("http://127.0.0.1:40123 · tokenpace-sim · concurrency 2 · 0.3 s"),
        "http://127.0.0.1:[PORT] · tokenpace-sim · concurrency 2 · # s"
    );
    assert_eq!(
        mask::text("  c16    16/16       1.40      2.45    17.6  C\n  ─────  ─────\n"),
        "  c16  16/16  #  #  #  C\n  ─  ─\n"
    );
    assert_eq!(mask::text("  http_status      2\n"), "  http_status  2\n");
    assert_eq!(
        mask::machine("  p64    3/3   0.50  C\n  A  1.80 s  < 2.00 s  ✓ TTFT"),
        "  p64  3/3  #  *\n  *  # s  < # s  * TTFT"
    );
    assert_eq!(
        mask::csv("level,sent,ttft_s_mean,server_prefill_tok_s_mean\nc1,4,0.07,\n"),
        "level,sent,ttft_s_mean,server_prefill_tok_s_mean\nc1,4,#,\n"
    );
    let mut v = serde_json::json!({"n": 4, "mean": 0.5, "threshold": 2.0,
        "target": "http://127.0.0.1:5000", "environment": {"cpus": 2, "os": "linux"}});
    mask::json(&mut v);
    assert_eq!(
        v,
        serde_json::json!({"n": 4, "mean": "#", "threshold": 2.0,
            "target": "http://127.0.0.1:[PORT]", "environment": {"cpus": "#", "os": "#"}})
    );
}
