//! Every command's JSON output has a JSON Schema in `schemas/`, generated
//! from the typed result it serialises (so the file cannot drift from the
//! code) and checked against real output of the command.
//!
//! After changing a result type: `TOKENPACE_UPDATE_SCHEMAS=1 cargo test
//! --test schemas`, then review the diff of `schemas/`.

mod common;

use common::{assert_valid, tokenpace};

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
            "{} is out of date with its result type: run TOKENPACE_UPDATE_SCHEMAS=1 cargo test --test schemas and review the diff",
            path.display()
        );
    }
}

#[test]
fn grade_json_validates() {
    let (_, out) = tokenpace(&[
        "grade",
        "--ttft",
        "1.8",
        "--prefill",
        "1200",
        "--decode",
        "28",
        "--chars-per-s",
        "24",
        "--format",
        "json",
    ])
    .unwrap();
    assert_valid("grade", &out);
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
