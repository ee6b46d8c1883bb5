//! Scale-out: `bench --shard I/N` in separate processes against one
//! simulator, joined by `tokenpace merge`; and the Kubernetes manifest that
//! runs the shards.

use crate::common;

use clap::Parser;
use std::collections::BTreeMap;
use std::path::Path;
use std::process::{Command, Output};
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::{Environment, RunSummary};
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::SimServer;

const BIN: &str = env!("CARGO_BIN_EXE_tokenpace");

fn records(dir: &Path) -> Vec<RequestRecord> {
    tokenpace_client::sink::read_jsonl(&dir.join("requests.jsonl")).unwrap()
}

fn ok(output: Output, what: &str) -> String {
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "{what} failed: {stderr}");
    String::from_utf8(output.stdout).unwrap()
}

/// The request id → the prompt tokens the server counted for it.
fn prompts(records: &[RequestRecord]) -> BTreeMap<u64, u32> {
    records
        .iter()
        .map(|r| (r.id, r.prompt_tokens.unwrap().count))
        .collect()
}

#[test]
fn two_shard_processes_merge_into_the_single_runs_request_set() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 20.0;
    config.timing.ttft_jitter_ms = 5.0;
    config.timing.jitter_ms = 1.0;
    config.timing.decode = 300.0;
    let sim = runtime.block_on(SimServer::start(config)).unwrap();
    let url = sim.url();
    let dir = tempfile::tempdir().unwrap();
    // Prompt k has k + 1 estimated tokens (4 ASCII characters each), so the
    // server's prompt count names the prompt each request carried.
    let dataset = dir.path().join("prompts.jsonl");
    let lines: Vec<String> = (0..20)
        .map(|k| serde_json::json!({"prompt": "abcd".repeat(k + 1)}).to_string())
        .collect();
    std::fs::write(&dataset, lines.join("\n")).unwrap();
    let bench = |shard: &str, out: &Path| {
        Command::new(BIN)
            .args(["bench", &url, "--concurrency", "4", "--requests", "20"])
            .args(["--max-tokens", "8", "--seed", "3", "--lang", "en"])
            .args(["--dataset", dataset.to_str().unwrap()])
            .args(["--shard", shard, "--out", out.to_str().unwrap()])
            .output()
            .unwrap()
    };
    let (d0, d1) = (dir.path().join("s0"), dir.path().join("s1"));
    // Both shards at once, as two hosts would run them.
    let (a, b) = std::thread::scope(|s| {
        let a = s.spawn(|| bench("0/2", &d0));
        let b = s.spawn(|| bench("1/2", &d1));
        (a.join().unwrap(), b.join().unwrap())
    });
    ok(a, "shard 0");
    ok(b, "shard 1");
    let single = dir.path().join("single");
    ok(bench("0/1", &single), "the unsharded run");
    let merged = dir.path().join("merged");
    let table = ok(
        Command::new(BIN)
            .args(["merge", d0.to_str().unwrap(), d1.to_str().unwrap()])
            .args(["--out", merged.to_str().unwrap(), "--lang", "en"])
            .output()
            .unwrap(),
        "merge",
    );
    runtime.block_on(sim.shutdown()).unwrap();
    assert!(table.contains("20 sent, 20 ok, 0 failed"), "{table}");
    let json = ok(
        Command::new(BIN)
            .args(["merge", d0.to_str().unwrap(), d1.to_str().unwrap()])
            .args(["--out", dir.path().join("merged-json").to_str().unwrap()])
            .args(["--format", "json"])
            .output()
            .unwrap(),
        "merge --format json",
    );
    common::assert_valid("merge", &json);
    // One shard alone merges, with a warning that names no empty level.
    let one = Command::new(BIN)
        .args(["merge", d0.to_str().unwrap()])
        .args(["--out", dir.path().join("one").to_str().unwrap()])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&one.stderr);
    assert!(one.status.success(), "{err}");
    assert!(
        err.contains("warning: shards 1 of the run were not given") && !err.contains("level ''"),
        "{err}"
    );

    let (r0, r1) = (records(&d0), records(&d1));
    assert_eq!(r0.len() + r1.len(), 20);
    assert!(r0.iter().all(|r| r.id % 2 == 0) && r1.iter().all(|r| r.id % 2 == 1));
    // Each shard ran half the streams.
    let s0: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(d0.join("run.json")).unwrap()).unwrap();
    assert_eq!(s0.settings.concurrency, Some(2));

    // The merged statistics are exactly those of the union of the records.
    let union: Vec<RequestRecord> = r0.iter().chain(&r1).cloned().collect();
    let direct = RunSummary::from_records(&union, s0.settings.clone(), Environment::default());
    let merged_json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(merged.join("run.json")).unwrap()).unwrap();
    let direct_json: serde_json::Value =
        serde_json::from_str(&serde_json::to_string(&direct.metrics).unwrap()).unwrap();
    assert_eq!(merged_json["metrics"], direct_json);
    assert_eq!(merged_json["settings"]["concurrency"], 4);
    assert!(merged_json["settings"].get("shard").is_none());
    let ttft_n = direct.metrics[&tokenpace_core::metric::Metric::TtftS].n;
    assert_eq!(ttft_n, 20);

    // Same request set, same prompt per id, as one unsharded run.
    let merged_records = records(&merged);
    let single_records = records(&single);
    assert_eq!(prompts(&merged_records), prompts(&single_records));
    let expected: BTreeMap<u64, u32> = (0..20).map(|k| (k, k as u32 + 1)).collect();
    assert_eq!(prompts(&merged_records), expected);

    // The same shard twice is refused with one clear line.
    let twice = Command::new(BIN)
        .args(["merge", d0.to_str().unwrap(), d0.to_str().unwrap()])
        .args(["--out", dir.path().join("bad").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(twice.status.code(), Some(2));
    let err = String::from_utf8_lossy(&twice.stderr);
    assert!(
        err.starts_with("error: ") && err.contains("is in both"),
        "{err}"
    );

    // A shard killed outright (records, no run.json) is named as partial,
    // not as another run's.
    let killed = dir.path().join("killed");
    std::fs::create_dir(&killed).unwrap();
    std::fs::copy(d1.join("requests.jsonl"), killed.join("requests.jsonl")).unwrap();
    let out = Command::new(BIN)
        .args(["merge", d0.to_str().unwrap(), killed.to_str().unwrap()])
        .args(["--out", dir.path().join("bad2").to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("is a partial shard") && !err.contains("not shards of one run"),
        "{err}"
    );
}

#[test]
fn bad_shards_are_refused_before_any_load() {
    for (shard, expected) in [("2/2", "I/N"), ("1/0", "I/N"), ("x", "I/N")] {
        let out = Command::new(BIN)
            .args(["bench", "http://127.0.0.1:9", "--shard", shard])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{shard}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(expected), "{shard}: {err}");
    }
    let out = Command::new(BIN)
        .args(["bench", "http://127.0.0.1:9", "--concurrency", "1"])
        .args(["--shard", "1/2", "--model", "m"])
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("leaves shard 1/2 no stream"), "{err}");
}

#[test]
fn the_kubernetes_manifest_runs_every_shard_once() {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/k8s/bench-shards.yaml");
    let job: serde_yaml::Value = serde_yaml::from_str(&std::fs::read_to_string(path).unwrap())
        .expect("the manifest is YAML");
    assert_eq!(job["kind"].as_str(), Some("Job"));
    let spec = &job["spec"];
    assert_eq!(spec["completionMode"].as_str(), Some("Indexed"));
    let completions = spec["completions"].as_u64().unwrap();
    // Every shard runs at once, or they could not start together.
    assert_eq!(spec["parallelism"].as_u64(), Some(completions));
    let container = &spec["template"]["spec"]["containers"][0];
    let args: Vec<&str> = container["args"]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|a| a.as_str().expect("args are strings"))
        .collect();
    let after = |flag: &str| args[args.iter().position(|&a| a == flag).unwrap() + 1];
    let env = container["env"].as_sequence().unwrap();
    let env_var = |reference: &str| {
        let var = reference
            .strip_prefix("$(")
            .and_then(|v| v.split_once(')'))
            .map(|(v, _)| v)
            .unwrap();
        env.iter()
            .find(|e| e["name"].as_str() == Some(var))
            .unwrap_or_else(|| panic!("{var} is not defined in env"))
            .clone()
    };
    let shard = after("--shard");
    let (index, count) = shard.split_once('/').unwrap();
    assert_eq!(count.parse::<u64>().unwrap(), completions, "{shard}");
    // The index is the pod's completion index, through an env var that the
    // container defines (so Kubernetes expands it in args).
    assert_eq!(
        env_var(index)["valueFrom"]["fieldRef"]["fieldPath"].as_str(),
        Some("metadata.annotations['batch.kubernetes.io/job-completion-index']")
    );
    // Every shard waits for the same instant, filled in when applied.
    let start = after("--start-at");
    assert_eq!(env_var(start)["value"].as_str(), Some("${START_AT}"));
    // Each shard writes its own directory, and the command parses for the
    // last index and an instant.
    let out = after("--out");
    assert!(out.contains(index), "{out}");
    let parsed = tokenpace::cli::Cli::try_parse_from(
        std::iter::once("tokenpace".to_string()).chain(
            args.iter()
                .map(|a| a.replace(index, "3").replace(start, "2030-01-01T00:00:00Z")),
        ),
    );
    assert!(parsed.is_ok(), "{:?}", parsed.err());
}

#[test]
fn sweeps_split_unevenly_merge_level_by_level() {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 5.0;
    config.timing.decode = 500.0;
    let sim = runtime.block_on(SimServer::start(config)).unwrap();
    let url = sim.url();
    let dir = tempfile::tempdir().unwrap();
    let run = |argv: Vec<String>| {
        let cli = tokenpace::cli::Cli::try_parse_from(argv).unwrap();
        tokenpace::run(cli, &mut Vec::new()).unwrap();
    };
    let shard_dirs: Vec<String> = (0..2)
        .map(|i| dir.path().join(format!("s{i}")).display().to_string())
        .collect();
    for (i, out) in shard_dirs.iter().enumerate() {
        let argv = format!(
            "tokenpace bench {url} --concurrency 3,5 --requests 11 --max-tokens 4 --shard {i}/2 --out {out}"
        );
        run(argv.split(' ').map(String::from).collect());
    }
    let merged = dir.path().join("merged");
    let argv = format!(
        "tokenpace merge {} {} --out {}",
        shard_dirs[0],
        shard_dirs[1],
        merged.display()
    );
    run(argv.split(' ').map(String::from).collect());
    runtime.block_on(sim.shutdown()).unwrap();
    for c in [3u32, 5] {
        let level = merged.join(format!("c{c}"));
        let ids: Vec<u64> = records(&level).iter().map(|r| r.id).collect();
        assert_eq!(ids, (0..11).collect::<Vec<_>>(), "c{c}");
        let s: RunSummary =
            serde_json::from_str(&std::fs::read_to_string(level.join("run.json")).unwrap())
                .unwrap();
        // The shards ran 2 + 1 and 3 + 2 streams; together the level's.
        assert_eq!(s.settings.concurrency, Some(c));
    }
}
