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
        // Cut on the engine's own tokenizer (serve's /tokenize), chat
        // template included: the length asked for.
        assert!(
            prompt.count.abs_diff(96) <= 1,
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
    let fit = &v["sweep"]["prefill_fit"];
    assert!(
        fit["prefill_tok_s"].as_f64().is_some_and(|p| p > 0.0),
        "the sweep's prefill line: {fit}"
    );
    let predicted = v["prediction"]["scenarios"].as_array();
    assert!(predicted.is_some_and(|p| !p.is_empty()), "{text}");
}

/// `tokenpace serve` on the default model as a process of its own, on a
/// port the system picks: the child and its `host:port`.
fn serve_process(extra: &[&str]) -> (std::process::Child, String) {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args([
            "--lang",
            "en",
            "serve",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--model",
        ])
        .arg(cached_model())
        .args(extra)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    let stdout = child.stdout.take().unwrap();
    let line = std::io::BufReader::new(stdout)
        .lines()
        .map_while(Result::ok)
        .find(|l| l.contains("http://"))
        .expect("serve says where it listens");
    let url = line.split("http://").nth(1).unwrap();
    let addr = url.split('/').next().unwrap().to_string();
    (child, addr)
}

/// Chinese answers through the engine: the characters and CJK characters
/// each record counts are exactly those in the text the server sent (read
/// from its bytes by a recording proxy, not by the client).
#[test]
fn chinese_answers_are_counted_exactly_through_the_engine() {
    // A fixed seed: sampled from the clock, the small model now and then
    // answers without Chinese, and the test would test nothing.
    let (mut serve, addr) = serve_process(&["--seed", "7"]);
    let proxy = common::proxy::Proxy::start(&addr);
    let dir = tempfile::tempdir().unwrap();
    let prompts = dir.path().join("zh.jsonl");
    // Repeating Chinese text: even this small model continues it in Chinese.
    let text =
        "北京是中国的首都。上海是中国最大的城市。北京是中国的首都。上海是中国最大的城市。北京是";
    std::fs::write(&prompts, serde_json::json!({ "prompt": text }).to_string()).unwrap();
    let out = dir.path().join("run");
    let result = tokenpace(&[
        "bench",
        &proxy.url,
        "--backend",
        "openai-completions",
        "--dataset",
        prompts.to_str().unwrap(),
        "--requests",
        "3",
        "--concurrency",
        "1",
        "--max-tokens",
        "24",
        "--out",
        out.to_str().unwrap(),
    ]);
    let _ = serve.kill();
    let _ = serve.wait();
    result.unwrap();
    let said: std::collections::HashMap<String, String> = proxy
        .bodies()
        .iter()
        .filter_map(|body| {
            let mut id = None;
            let mut text = String::new();
            for data in common::proxy::sse_data(body) {
                let Ok(v) = serde_json::from_str::<serde_json::Value>(&data) else {
                    continue;
                };
                id = id.or_else(|| v["id"].as_str().map(str::to_owned));
                text.push_str(v["choices"][0]["text"].as_str().unwrap_or(""));
            }
            Some((id?, text))
        })
        .collect();
    let records: Vec<RequestRecord> = std::fs::read_to_string(out.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(records.len(), 3);
    for r in &records {
        let text = &said[r.response_id.as_deref().unwrap()];
        let cjk = text
            .chars()
            .filter(|&c| tokenpace_core::text::is_cjk(c))
            .count() as u32;
        assert_eq!(
            (r.output_chars, r.output_cjk_chars),
            (text.chars().count() as u32, cjk),
            "{text:?}"
        );
        assert!(cjk >= 8, "the answer was Chinese: {text:?}");
    }
}

/// The engine's prefix cache, seen where a user sees it: a session's later
/// turns, whose history it holds, start answering far sooner than with the
/// cache off.
#[test]
fn the_engines_kv_reuse_shows_in_later_turns_ttft() {
    let model = cached_model();
    let later_turns_ttft = |extra: &[&str]| {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let mut args = vec![
            "bench",
            "--model",
            &model,
            "--turns",
            "3",
            "--think-time",
            "0",
            "--concurrency",
            "1",
            "--requests",
            "2",
            "--prompt-tokens",
            "300",
            "--max-tokens",
            "8",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        tokenpace(&args).unwrap();
        let ttfts: Vec<f64> = std::fs::read_to_string(out.join("requests.jsonl"))
            .unwrap()
            .lines()
            .map(|l| serde_json::from_str::<RequestRecord>(l).unwrap())
            .filter(|r| r.turn.unwrap().turn > 0)
            .map(|r| (r.first_token_ns().unwrap() - r.sent_ns) as f64 / 1e9)
            .collect();
        assert_eq!(ttfts.len(), 4);
        ttfts.iter().sum::<f64>() / ttfts.len() as f64
    };
    let cached = later_turns_ttft(&[]);
    let cold = later_turns_ttft(&["--no-prefix-cache"]);
    eprintln!("later turns' TTFT: {cached:.3} s with the prefix cache, {cold:.3} s without");
    // Turns 1 and 2 hold 300 new tokens of 610 and 920: the cache spares
    // half the prefill work or more; fixed costs make the TTFT saving less.
    assert!(
        cached < 0.7 * cold,
        "{cached:.3} s with the cache, {cold:.3} s without"
    );
}
