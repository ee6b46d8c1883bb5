//! Snapshots of the commands that search, join, compare, list and grade
//! runs: `capacity`, `merge`, `compare`, `history`, `report`, `grade`
//! (JSON, and of a run's summary) and `models`, against the in-process
//! simulator. Measured numbers, ports, paths and dates are masked by
//! `common::mask`; labels, layout, keys, counts, settings and tiers that
//! are stable by construction stay exact.

use crate::common;
use crate::common::{fast_sim, mask, ok, serial, Sim};
use std::path::Path;
use tokenpace_sim::config::SimConfig;

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// A simulator whose batching law makes the capacity search short and its
/// boundaries sharp: decode 300 tok/s alone, `300 / (1 + 11·(c − 1))` per
/// stream, so c1 is tier A (300), c2 tier B (25.0) and c3 tier C (13.0,
/// about 50 chars/s: decode alone sets it); TTFT and prefill stay far
/// inside tier A.
fn knee_sim() -> SimConfig {
    let mut config = fast_sim();
    config.timing.ttft_ms = 20.0;
    config.timing.decode = 300.0;
    config.timing.batch_slowdown = 11.0;
    config
}

fn capacity(format: &str) -> String {
    let _serial = serial();
    let sim = Sim::start(knee_sim());
    let url = sim.url();
    let out = ok(&[
        "capacity",
        &url,
        "--max-tokens",
        "4",
        "--prompt-tokens",
        "64",
        "--max-concurrency",
        "3",
        "--text",
        "en",
        "--lang",
        "en",
        "--format",
        format,
    ]);
    sim.stop();
    out
}

#[test]
fn snapshot_capacity_table() {
    let out = capacity("table");
    assert!(
        out.contains("tier A holds up to concurrency 1; at 2:"),
        "{out}"
    );
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_capacity_markdown() {
    insta::assert_snapshot!(mask::text(&capacity("markdown")));
}

#[test]
fn snapshot_capacity_json() {
    let v = mask::json_text(&capacity("json"));
    assert_eq!(v["tier_a_max_concurrency"], 1);
    assert_eq!(v["tier_b_max_concurrency"], 2);
    insta::assert_json_snapshot!(v);
}

/// Two shards of one run (`bench --shard 0/2` and `1/2`), written to
/// `dir/d0` and `dir/d1`.
fn shards(dir: &Path) {
    let _serial = serial();
    let sim = Sim::start(fast_sim());
    let url = sim.url();
    for (shard, out) in [("0/2", "d0"), ("1/2", "d1")] {
        let out = dir.join(out);
        ok(&[
            "bench",
            &url,
            "--concurrency",
            "2",
            "--requests",
            "6",
            "--max-tokens",
            "8",
            "--shard",
            shard,
            "--out",
            s(&out),
        ]);
    }
    sim.stop();
}

fn merge(format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    shards(dir.path());
    let (d0, d1, all) = (
        dir.path().join("d0"),
        dir.path().join("d1"),
        dir.path().join("all"),
    );
    let out = ok(&[
        "merge",
        s(&d0),
        s(&d1),
        "--out",
        s(&all),
        "--lang",
        "en",
        "--format",
        format,
    ]);
    assert!(all.join("run.json").is_file() && all.join("requests.jsonl").is_file());
    out
}

#[test]
fn snapshot_merge_table() {
    let out = merge("table");
    assert!(out.contains("6 sent, 6 ok, 0 failed"), "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_merge_json() {
    insta::assert_json_snapshot!(mask::json_text(&merge("json")));
}

/// Two runs in `dir` under names that sort in the order they ran:
/// `a-before` on the fast simulator and `b-after` on a slow one (TTFT 100
/// ms, decode 60 tok/s: still tier A, but every compared metric worse by
/// far more than the noise, so every verdict is stable).
fn two_runs(dir: &Path) {
    let _serial = serial();
    let mut slow = fast_sim();
    slow.timing.ttft_ms = 100.0;
    slow.timing.decode = 60.0;
    for (config, name) in [(fast_sim(), "a-before"), (slow, "b-after")] {
        let sim = Sim::start(config);
        let url = sim.url();
        let out = dir.join(name);
        ok(&[
            "bench",
            &url,
            "--concurrency",
            "2",
            "--requests",
            "8",
            "--max-tokens",
            "8",
            "--out",
            s(&out),
        ]);
        sim.stop();
    }
}

fn compare(format: &str) -> String {
    let dir = tempfile::tempdir().unwrap();
    two_runs(dir.path());
    ok(&[
        "compare",
        "--dir",
        s(dir.path()),
        "a-before",
        "b-after",
        "--lang",
        "en",
        "--format",
        format,
    ])
}

#[test]
fn snapshot_compare_table() {
    let out = compare("table");
    assert_eq!(out.matches(" worse").count(), 6, "{out}");
    insta::assert_snapshot!(mask::text(&out));
}

#[test]
fn snapshot_compare_markdown() {
    insta::assert_snapshot!(mask::text(&compare("markdown")));
}

#[test]
fn snapshot_compare_json() {
    insta::assert_json_snapshot!(mask::json_text(&compare("json")));
}

#[test]
fn snapshot_history_and_report() {
    let dir = tempfile::tempdir().unwrap();
    two_runs(dir.path());
    let history = ok(&["history", "--dir", s(dir.path()), "--lang", "en"]);
    insta::assert_snapshot!("history_table", mask::text(&history));

    let html = dir.path().join("page.html");
    let run = dir.path().join("a-before");
    let out = ok(&["report", s(&run), "--html", s(&html), "--lang", "en"]);
    insta::assert_snapshot!("report_stdout", mask::text(&out));
    // A few stable facts of the page: self-contained, English, its title
    // and its sections in order.
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(page.starts_with("<!DOCTYPE html>\n<html lang=\"en\">"));
    assert!(page.contains("<title>tokenpace · a-before</title>"));
    assert!(!page.contains("src=\"http") && !page.contains("href=\"http"));
    let headings = regex::Regex::new(r"<h[12][^>]*>([^<]*)").unwrap();
    let headings: Vec<&str> = headings
        .captures_iter(&page)
        .map(|c| c.get(1).unwrap().as_str())
        .collect();
    insta::assert_snapshot!("report_headings", headings.join("\n"));
}

#[test]
fn snapshot_grade_json() {
    let out = ok(&[common::GRADE_EXAMPLE, &["--format", "json"]].concat());
    // Deterministic: compared exactly.
    insta::assert_snapshot!(out);
}

#[test]
fn snapshot_grade_summary() {
    let dir = tempfile::tempdir().unwrap();
    {
        let _serial = serial();
        let sim = Sim::start(fast_sim());
        let url = sim.url();
        let run = dir.path().join("run");
        ok(&[
            "bench",
            &url,
            "--concurrency",
            "2",
            "--requests",
            "4",
            "--max-tokens",
            "8",
            "--out",
            s(&run),
        ]);
        sim.stop();
    }
    let summary = dir.path().join("run/run.json");
    let out = ok(&["grade", "--summary", s(&summary), "--lang", "en"]);
    insta::assert_snapshot!("grade_summary_table", mask::text(&out));
    let out = ok(&["grade", "--summary", s(&summary), "--format", "json"]);
    insta::assert_json_snapshot!("grade_summary_json", mask::json_text(&out));
}

#[test]
fn snapshot_models_empty_cache() {
    let dir = tempfile::tempdir().unwrap();
    let table = ok(&["models", "--cache-dir", s(dir.path()), "--lang", "en"]);
    insta::assert_snapshot!("models_table", mask::environment(&table));
    let json = ok(&["models", "--cache-dir", s(dir.path()), "--format", "json"]);
    insta::assert_snapshot!("models_json", mask::environment(&json));
}
