//! Every command's JSON output has a JSON Schema in `schemas/`, generated
//! from the typed result it serialises (so the file cannot drift from the
//! code) and checked against real output of the command.
//!
//! After changing a result type: `TOKENPACE_UPDATE_SCHEMAS=1 cargo test
//! --test it schemas::`, then review the diff of `schemas/`.

use crate::common;
use crate::common::{assert_valid, tokenpace};

#[test]
fn schema_files_match_the_result_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("TOKENPACE_UPDATE_SCHEMAS").is_some();
    for (name, schema) in tokenpace::output::schemas() {
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
    for load in [
        &["--concurrency", "2"][..],
        &["--concurrency", "1,2"],
        &["--prompt-tokens", "32,128"],
    ] {
        let args: Vec<&str> = ["bench", url.as_str()]
            .into_iter()
            .chain(load.iter().copied())
            .chain(common)
            .collect();
        let (_, out) = tokenpace(&args).unwrap();
        assert_valid("bench", &out);
    }
    sim.stop();
}

#[test]
fn capacity_json_validates() {
    let sim = fast_sim();
    let url = sim.url();
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
    ])
    .unwrap();
    assert_valid("capacity", &out);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert!(!v["levels"].as_array().unwrap().is_empty(), "{out}");
    sim.stop();
}
