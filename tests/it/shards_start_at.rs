//! Synchronised shards: `bench --start-at` in four processes against one
//! `tokenpace sim`, merged; the merged load is the one asked for.

use crate::common::sim_process::Sim;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, SystemTime};
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::RunSummary;
use tokenpace_core::wall_clock;

const BIN: &str = env!("CARGO_BIN_EXE_tokenpace");

fn ok(output: Output, what: &str) -> (String, String) {
    let stderr = String::from_utf8_lossy(&output.stderr).into_owned();
    assert!(output.status.success(), "{what} failed: {stderr}");
    (String::from_utf8(output.stdout).unwrap(), stderr)
}

fn summary(dir: &Path) -> RunSummary {
    serde_json::from_str(&std::fs::read_to_string(dir.join("run.json")).unwrap()).unwrap()
}

/// The time-weighted mean of requests in flight (sent, not yet ended) over
/// `[from, to)` nanoseconds, and the most at once over the whole run.
fn in_flight(records: &[RequestRecord], from: u64, to: u64) -> (f64, i64) {
    let mut events: Vec<(u64, i64)> = Vec::new();
    for r in records {
        events.push((r.sent_ns, 1));
        events.push((r.end_ns.expect("every request ended"), -1));
    }
    // Ends before starts at one instant: a slot freed and taken again.
    events.sort();
    let (mut level, mut max, mut area, mut t) = (0i64, 0i64, 0f64, from);
    for (at, step) in events {
        let at = at.clamp(from, to);
        area += level as f64 * (at - t) as f64;
        t = at;
        level += step;
        max = max.max(level);
    }
    area += level as f64 * (to - t) as f64;
    (area / (to - from) as f64, max)
}

#[test]
fn four_synchronised_shards_keep_the_whole_concurrency_in_flight() {
    // About 0.5 s per request (so a slot's turnaround of a millisecond or
    // two on a busy machine is well under 2 %), 10 rounds per shard.
    let sim = Sim::start(&["--ttft-ms", "50", "--decode", "150", "--jitter-ms", "1"]);
    let dir = tempfile::tempdir().unwrap();
    let (total, shards, requests) = (16u32, 4u32, 160u64);
    // Far enough ahead that four processes are ready on a busy machine.
    let start_at = wall_clock::format(SystemTime::now() + Duration::from_secs(4));
    let start = wall_clock::parse(&start_at).unwrap();
    let dirs: Vec<_> = (0..shards)
        .map(|i| dir.path().join(format!("shard-{i}")))
        .collect();
    let children: Vec<Child> = dirs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            Command::new(BIN)
                .args(["bench", &sim.url, "--model", "sim"])
                .args(["--concurrency", &total.to_string()])
                .args(["--requests", &requests.to_string(), "--max-tokens", "64"])
                .args(["--shard", &format!("{i}/{shards}"), "--start-at", &start_at])
                .args(["--out", out.to_str().unwrap(), "--quiet", "--lang", "en"])
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for (i, child) in children.into_iter().enumerate() {
        let (_, stderr) = ok(child.wait_with_output().unwrap(), &format!("shard {i}"));
        assert!(stderr.is_empty(), "--quiet printed: {stderr}");
    }
    // Each shard's load started at the instant (its clock's zero).
    for d in &dirs {
        let s = summary(d);
        assert_eq!(s.settings.start_at.as_deref(), Some(start_at.as_str()));
        let began = wall_clock::parse(s.environment.started_at.as_deref().unwrap()).unwrap();
        // (started_at is cut to milliseconds)
        let late = wall_clock::seconds_between(start, began);
        assert!(
            (-0.001..0.1).contains(&late),
            "started {late} s after --start-at"
        );
    }

    let merged = dir.path().join("merged");
    let (table, stderr) = ok(
        Command::new(BIN)
            .arg("merge")
            .args(&dirs)
            .args(["--out", merged.to_str().unwrap(), "--lang", "en"])
            .output()
            .unwrap(),
        "merge",
    );
    drop(sim);
    assert!(!stderr.contains("warning"), "{stderr}");
    assert!(
        table.contains(&format!("{requests} sent, {requests} ok")),
        "{table}"
    );
    let records: Vec<RequestRecord> =
        tokenpace_client::sink::read_jsonl(&merged.join("requests.jsonl")).unwrap();
    assert_eq!(records.len() as u64, requests);
    assert_eq!(summary(&merged).settings.concurrency, Some(total));

    // In flight over the merged time line, away from the first and last
    // tenth (ramp and drain): the whole concurrency, within 2 %.
    let first = records.iter().map(|r| r.sent_ns).min().unwrap();
    let last = records.iter().filter_map(|r| r.end_ns).max().unwrap();
    let span = last - first;
    let (mean, max) = in_flight(&records, first + span / 10, last - span / 10);
    assert!(max <= i64::from(total), "{max} in flight at once");
    eprintln!("in flight over the middle 80 %: mean {mean:.3} of {total} asked, at most {max}");
    let error = (mean - f64::from(total)).abs() / f64::from(total);
    assert!(
        error <= 0.02,
        "mean in flight {mean:.2}, asked for {total} ({:.1} % off)",
        100.0 * error
    );
}

#[test]
fn start_at_is_refused_when_malformed_or_long_past() {
    let run = |at: &str| {
        Command::new(BIN)
            .args([
                "bench",
                "http://127.0.0.1:9",
                "--model",
                "m",
                "--start-at",
                at,
            ])
            .output()
            .unwrap()
    };
    let out = run("tomorrow 8am");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("RFC 3339") && err.contains("2026-12-06T08:00:00Z"),
        "{err}"
    );
    let past = wall_clock::format(SystemTime::now() - Duration::from_secs(60));
    let out = run(&past);
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("s ago") && err.contains("ahead"), "{err}");
}

#[test]
fn shards_of_different_start_instants_are_not_one_run() {
    let sim = Sim::start(&["--ttft-ms", "1", "--decode", "2000"]);
    let dir = tempfile::tempdir().unwrap();
    let soon = |s| wall_clock::format(SystemTime::now() + Duration::from_secs(s));
    let (a, b) = (soon(1), soon(2));
    let dirs: Vec<_> = [(0, &a), (1, &b)]
        .into_iter()
        .map(|(i, at)| {
            let out = dir.path().join(format!("s{i}"));
            ok(
                Command::new(BIN)
                    .args(["bench", &sim.url, "--model", "sim", "--concurrency", "2"])
                    .args(["--requests", "4", "--max-tokens", "2", "--quiet"])
                    .args(["--shard", &format!("{i}/2"), "--start-at", at])
                    .args(["--out", out.to_str().unwrap()])
                    .output()
                    .unwrap(),
                "shard",
            );
            out
        })
        .collect();
    drop(sim);
    let out = Command::new(BIN)
        .arg("merge")
        .args(&dirs)
        .args(["--out", dir.path().join("m").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("start instants (--start-at) differ"), "{err}");
}
