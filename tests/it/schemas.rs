//! Every command's JSON output, and every file a run stores, has a JSON
//! Schema in `schemas/`, generated from the typed result it serialises (so
//! the file cannot drift from the code) and checked against real output of
//! the command or real files.
//!
//! After changing a result type: `TOKENPACE_UPDATE_SCHEMAS=1 cargo test
//! --test it schemas::`, then review the diff of `schemas/`.

use crate::common;
use crate::common::{assert_valid, tokenpace};
use serde_json::Value;
use tokenpace_rundir::{RunDir, Versioned};

#[test]
fn schema_files_match_the_result_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("TOKENPACE_UPDATE_SCHEMAS").is_some();
    let all = tokenpace::output::schemas()
        .into_iter()
        .chain(tokenpace::output::stored_schemas());
    for (name, schema) in all {
        let path = dir.join(format!("{name}.schema.json"));
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{} is out of date with its result type: run TOKENPACE_UPDATE_SCHEMAS=1 cargo test --test it schemas:: and review the diff",
            path.display()
        );
    }
}

#[test]
fn grade_json_validates() {
    let (_, out) = tokenpace(&[common::GRADE_EXAMPLE, &["--format", "json"]].concat()).unwrap();
    assert_valid("grade", &out);
}

#[test]
fn models_json_validates_with_a_readable_and_an_unreadable_file() {
    let dir = tempfile::tempdir().unwrap();
    let package = dir.path().join("llm-tiny");
    std::fs::create_dir_all(&package).unwrap();
    let gguf = common::gguf_bytes(&[("general.architecture", "llama")]);
    std::fs::write(package.join("Tiny.Q4_1.gguf"), gguf).unwrap();
    std::fs::write(package.join("Broken.gguf"), b"not a model").unwrap();
    let cache = dir.path().to_str().unwrap();
    let (_, out) = tokenpace(&["models", "--cache-dir", cache, "--format", "json"]).unwrap();
    assert_valid("models", &out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let models = v["models"].as_array().unwrap();
    assert_eq!(models.len(), 2, "{out}");
    // Sorted by file name: the broken file first, its error and no header.
    assert!(
        models[0]["info"].is_null() && models[0]["error"].is_string(),
        "{out}"
    );
    assert_eq!(models[1]["info"]["architecture"], "llama", "{out}");
    assert!(models[1]["error"].is_null(), "{out}");
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let bad = r#"{"metrics": "not a list", "overall": "Z"}"#;
    let result = std::panic::catch_unwind(|| assert_valid("grade", bad));
    assert!(
        result.is_err(),
        "an invalid document passed the grade schema"
    );
}

/// Writes a run of `n` requests decoding with `gap_ms` between tokens into
/// `dir` (run.json and requests.jsonl), as `bench --out` does.
fn synthetic_run(dir: &std::path::Path, n: u64, gap_ms: u64) {
    std::fs::create_dir_all(dir).unwrap();
    let records: Vec<_> = (0..n)
        .map(|i| common::stream(i, 200 + 5 * i, 12, gap_ms + i % 3, 3, Some(100)))
        .collect();
    common::write_run(dir, &records, Default::default());
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(dir.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
}

#[test]
fn compare_history_and_report_json_validate() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    synthetic_run(&dir.join("fast"), 20, 25);
    synthetic_run(&dir.join("slow"), 20, 40);
    let d = dir.to_str().unwrap();

    let (_, json) = tokenpace(&[
        "compare",
        "--dir",
        d,
        "fast",
        "slow",
        "--fail-on-regression",
        "5",
        "--format",
        "json",
    ])
    .unwrap();
    assert_valid("compare", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(!v["regressions"].as_array().unwrap().is_empty(), "{json}");

    let (_, json) = tokenpace(&["history", "--dir", d, "--format", "json"]).unwrap();
    assert_valid("history", &json);

    let html = dir.join("r.html");
    let (_, json) = tokenpace(&[
        "report",
        dir.join("fast").to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    assert_valid("report", &json);
}

/// A fast simulator for the measuring commands' outputs.
fn fast_sim() -> common::Sim {
    let mut config = tokenpace_sim::config::SimConfig::default();
    config.timing.ttft_ms = 20.0;
    config.timing.decode = 400.0;
    config.timing.max_batch = 2;
    config.timing.batch_slowdown = 0.5;
    common::Sim::start(config)
}

#[test]
fn bench_json_validates_for_a_run_a_sweep_and_a_prompt_sweep() {
    let sim = fast_sim();
    let url = sim.url();
    let common = ["--requests", "4", "--max-tokens", "8", "--format", "json"];
    let root = tempfile::tempdir().unwrap();
    for (i, load) in [
        &["--concurrency", "2"][..],
        &["--concurrency", "1,2"],
        &["--prompt-tokens", "32,128"],
    ]
    .into_iter()
    .enumerate()
    {
        let dir = root.path().join(i.to_string());
        let args: Vec<&str> = ["bench", url.as_str(), "--out", dir.to_str().unwrap()]
            .into_iter()
            .chain(load.iter().copied())
            .chain(common)
            .collect();
        let (_, out) = tokenpace(&args).unwrap();
        assert_valid("bench", &out);
        assert_stored_valid(&dir);
    }
    sim.stop();
}

#[test]
fn capacity_json_validates() {
    let sim = fast_sim();
    let url = sim.url();
    let dir = tempfile::tempdir().unwrap();
    let (_, out) = tokenpace(&[
        "capacity",
        &url,
        "--max-concurrency",
        "4",
        "--requests-per-level",
        "4",
        "--max-tokens",
        "8",
        "--prompt-tokens",
        "32",
        "--format",
        "json",
        "--out",
        dir.path().to_str().unwrap(),
    ])
    .unwrap();
    assert_valid("capacity", &out);
    assert_stored_valid(dir.path());
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!v["levels"].as_array().unwrap().is_empty(), "{out}");
    sim.stop();
}

/// Each line of a JSON-lines file, valid against `schema`; how many.
fn assert_lines_valid(schema: &str, path: &std::path::Path) -> usize {
    let text = std::fs::read_to_string(path).unwrap();
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for line in &lines {
        assert_valid(schema, line);
    }
    lines.len()
}

#[test]
fn stored_files_validate_run_records_and_truth() {
    let root = tempfile::tempdir().unwrap();
    let truth = root.path().join("truth.jsonl");
    let mut config = tokenpace_sim::config::SimConfig::default();
    config.timing.ttft_ms = 20.0;
    config.timing.decode = 400.0;
    config.truth = Some(truth.clone());
    let sim = common::Sim::start(config);
    let out = root.path().join("run");
    let url = sim.url();
    common::ok(&[
        "bench",
        &url,
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "8",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ]);
    sim.stop();
    assert_stored_valid(&out);
    assert_eq!(
        assert_lines_valid("request-record", &out.join("requests.jsonl")),
        4
    );
    // A header, then a line per request.
    let lines = assert_lines_valid("truth", &truth);
    assert!(lines >= 5, "{lines} truth lines");
}

/// The stored files of the run in `dir`, valid against their schemas:
/// `sweep.json` and `capacity.json` when there, and each level's `run.json`
/// and records.
fn assert_stored_valid(dir: &std::path::Path) {
    let read = |p: &std::path::Path| std::fs::read_to_string(p).unwrap();
    for (file, schema) in [("sweep.json", "sweep"), ("capacity.json", "capacity-file")] {
        if dir.join(file).is_file() {
            assert_valid(schema, &read(&dir.join(file)));
        }
    }
    let run = RunDir::new(dir);
    if dir.join("sweep.json").is_file() {
        round_trips(
            &read(&run.sweep_path()),
            Versioned::new(run.read_sweep().unwrap()),
        );
    }
    if dir.join("capacity.json").is_file() {
        let capacity = run.read_capacity().unwrap();
        round_trips(&read(&run.capacity_path()), Versioned::new(capacity));
    }
    let levels = run.levels().unwrap();
    assert!(!levels.is_empty());
    for level in levels {
        let summary = read(&level.dir.summary_path());
        assert_valid("run", &summary);
        round_trips(&summary, Versioned::new(level.dir.read_summary().unwrap()));
        let requests = level.dir.requests_path();
        assert!(assert_lines_valid("request-record", &requests) > 0);
        let (records, _) = level.dir.read_records().unwrap();
        for (line, record) in read(&requests).lines().zip(records) {
            round_trips(line, record);
        }
    }
}

/// `text`, read as its type (`typed`) and written back, is the same JSON
/// (numbers within the float parser's last digit).
fn round_trips(text: &str, typed: impl serde::Serialize) {
    let on_disk: Value = serde_json::from_str(text).unwrap();
    let again = serde_json::to_value(typed).unwrap();
    assert!(
        same(&on_disk, &again),
        "{text}\nread and written back:\n{again}"
    );
}

/// Whether `a` and `b` are the same JSON, numbers within 1e-12.
fn same(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => {
            let (x, y) = (x.as_f64().unwrap(), y.as_f64().unwrap());
            x == y || (x - y).abs() <= 1e-12 * x.abs().max(y.abs())
        }
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

#[test]
fn runs_stored_before_the_version_read_and_validate() {
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/engine-runs");
    let mut summaries = 0;
    for machine in [data.clone(), data.join("xeon")] {
        for entry in std::fs::read_dir(&machine).unwrap().flatten() {
            let run = RunDir::new(entry.path());
            if !run.summary_path().is_file() {
                continue;
            }
            let text = std::fs::read_to_string(run.summary_path()).unwrap();
            assert!(!text.contains("\"version\""), "{text}");
            assert_valid("run", &text);
            run.read_summary().unwrap();
            summaries += 1;
        }
    }
    assert!(summaries >= 5, "{summaries} runs");
    let capacity = RunDir::new(data.join("xeon/capacity"));
    let text = std::fs::read_to_string(capacity.capacity_path()).unwrap();
    assert_valid("capacity-file", &text);
    assert!(!capacity.read_capacity().unwrap().levels.is_empty());
}
