//! What the `bench` integration tests share: one test at a time, a
//! simulator with the tests' timing and fault settings, running `bench`
//! in-process, and reading records and the simulator's truth.
#![allow(dead_code)]

pub mod pairing;

use clap::Parser;
use std::collections::HashMap;
use std::path::Path;
use tokenpace::cli::Cli;
use tokenpace_core::record::RequestRecord;
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::truth::RequestTruth;

pub use crate::common::serial;

pub use crate::common::Sim;

/// The simulator with the bench tests' settings: Chinese text, TTFT 30 ms,
/// 200 tok/s, 300 ms stalls and 0.2 ms trickle gaps when those faults fire.
pub fn sim(mut config: SimConfig) -> Sim {
    config.text.lang = tokenpace_corpus::TextLang::Zh;
    config.timing.ttft_ms = 30.0;
    config.timing.decode = 200.0;
    config.faults.stall_ms = 300.0;
    config.faults.trickle_ms = 0.2;
    Sim::start(config)
}

pub fn bench(args: &[&str]) -> anyhow::Result<(tokenpace::Status, String)> {
    let cli = Cli::try_parse_from(["tokenpace", "bench"].iter().chain(args.iter()).copied())?;
    let mut out = Vec::new();
    let status = tokenpace::run(cli, &mut out)?;
    Ok((status, String::from_utf8(out)?))
}

/// `dir/requests.jsonl`.
pub fn records(dir: &Path) -> Vec<RequestRecord> {
    std::fs::read_to_string(dir.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// The simulator's truth file: every request it received, by response id.
pub fn truth(path: &Path) -> HashMap<String, RequestTruth> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .filter(|l| l.contains("\"type\":\"request\""))
        .map(|l| {
            let t: RequestTruth = serde_json::from_str(l).unwrap();
            (t.id.clone(), t)
        })
        .collect()
}

/// The wall-clock time (unix ns) of the truth file's zero.
pub fn truth_start_unix_ns(path: &Path) -> u64 {
    let text = std::fs::read_to_string(path).unwrap();
    let header: tokenpace_sim::truth::TruthHeader =
        serde_json::from_str(text.lines().next().unwrap()).unwrap();
    header.server_start_unix_ns
}

/// A run of `bench URL args…` (the URL and `--out` added) against a fresh
/// simulator writing its truth: bench's table (or error), the records and
/// the truth by response id. `settle` is waited before the simulator
/// stops, so it notices connections the client closed last.
pub fn bench_against_truth(
    args: &[&str],
    settle: std::time::Duration,
) -> (
    Result<String, String>,
    Vec<RequestRecord>,
    HashMap<String, RequestTruth>,
) {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    });
    let out = dir.path().join("run");
    let url = sim.url();
    let mut all = vec![url.as_str(), "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let table = bench(&all).map(|(_, t)| t).map_err(|e| e.to_string());
    std::thread::sleep(settle);
    sim.stop();
    (table, records(&out), truth(&truth_path))
}
