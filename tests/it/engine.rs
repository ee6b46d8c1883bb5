//! `tokenpace bench` with no URL: the embedded engine behind `serve`,
//! measured end to end by the same client as any server, on the real
//! default model from the model cache (scripts/test fetches it first; the
//! tests fail, not skip, without it).

#![cfg(feature = "engine")]

use crate::common;
use clap::Parser;
use tokenpace::cli::Cli;
use tokenpace_core::record::{CountSource, RequestRecord};

fn cached_model() -> String {
    let path = tokenpace_models::cache_dir(None)
        .join(tokenpace_models::DEFAULT_PACKAGE)
        .join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        path.is_file(),
        "the default model is not cached ({}): run `cargo run -- models --fetch` (scripts/test does) first",
        path.display()
    );
    path.display().to_string()
}

fn tokenpace(args: &[&str]) -> anyhow::Result<(tokenpace::Status, String)> {
    let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()))?;
    let mut out = Vec::new();
    let status = tokenpace::run(cli, &mut out)?;
    Ok((status, String::from_utf8(out)?))
}

#[test]
fn bench_without_a_url_measures_the_embedded_engine() {
    let model = cached_model();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let (_, text) = tokenpace(&[
        "bench",
        "--model",
        &model,
        "--concurrency",
        "2",
        "--requests",
        "6",
        "--prompt-tokens",
        "96",
        "--max-tokens",
        "12",
        "--ctx-size",
        "512",
        "--parallel",
        "2",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    assert!(
        text.contains("embedded engine") && text.contains("SmolLM2"),
        "{text}"
    );
    let records: Vec<RequestRecord> = std::fs::read_to_string(out.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 6);
    for r in &records {
        assert!(r.is_ok(), "{:?}", r.error);
        let output = r.output_tokens.unwrap();
        // ignore_eos: exactly max_tokens, counted by the server.
        assert_eq!(
            (output.count, output.source),
            (12, CountSource::ServerUsage)
        );
        let prompt = r.prompt_tokens.unwrap();
        assert_eq!(prompt.source, CountSource::ServerUsage);
        // 96 estimated tokens of text plus the chat template's own.
        assert!(
            prompt.count > 60 && prompt.count < 400,
            "prompt tokens {}",
            prompt.count
        );
        assert!(r.output_chars > 0 && !r.chunks.is_empty());
        let ttft = (r.first_token_ns().unwrap() - r.sent_ns) as f64 / 1e9;
        assert!(ttft > 0.0 && ttft < 30.0, "ttft {ttft}");
    }
    let run: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["counts"]["ok"], 6);
}

#[test]
fn serve_refuses_a_missing_model_and_bench_a_broken_one() {
    let err = tokenpace(&["serve", "--model", "/nonexistent/model.gguf"]).unwrap_err();
    assert!(err.to_string().contains("does not exist"), "{err}");
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.gguf");
    std::fs::write(&bad, b"GGUF\x03\x00\x00\x00 truncated").unwrap();
    let err = tokenpace(&["bench", "--model", bad.to_str().unwrap()]).unwrap_err();
    let msg = format!("{err:#}");
    assert!(msg.contains("corrupt or truncated"), "{msg}");
}

#[test]
fn capacity_without_a_url_searches_the_embedded_engine() {
    let model = cached_model();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("cap");
    let (_, text) = tokenpace(&[
        "capacity",
        "--model",
        &model,
        "--max-concurrency",
        "2",
        "--requests-per-level",
        "2",
        "--prompt-tokens",
        "48",
        "--max-tokens",
        "8",
        "--ctx-size",
        "256",
        "--parallel",
        "2",
        "--time-budget",
        "120",
        "--text",
        "en",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    // JSON only on stdout (the engine's header goes to stderr), valid
    // against the capacity schema.
    common::assert_valid("capacity", &text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    let levels = v["levels"].as_array().unwrap();
    assert!(!levels.is_empty(), "{text}");
    for l in levels {
        let counts = &l["summary"]["counts"];
        assert_eq!(counts["sent"], 2, "{l}");
        assert_eq!(counts["ok"], 2, "{l}");
        let c = l["concurrency"].as_u64().unwrap();
        assert!(out.join(format!("c{c}")).join("requests.jsonl").is_file());
    }
    assert!(out.join("capacity.json").is_file());
}

#[test]
fn the_default_mix_prints_json_that_validates_against_its_schema() {
    let model = cached_model();
    let (_, text) = tokenpace(&["bench", "--model", &model, "--format", "json"]).unwrap();
    common::assert_valid("mix", &text);
    let v: serde_json::Value = serde_json::from_str(&text).unwrap();
    assert_eq!(v["scenarios"].as_array().unwrap().len(), 5, "{text}");
    assert!(v["sweep"]["prefill_fit"]["prefill_tok_s"].as_f64().unwrap() > 0.0);
    let predicted = v["prediction"]["scenarios"].as_array().unwrap();
    assert!(!predicted.is_empty());
}
