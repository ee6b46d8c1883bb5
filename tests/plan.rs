//! `tokenpace plan bounds | remedies | calibrate` end to end, in-process
//! (and through the binary for exit codes).

use clap::Parser;
use serde_json::Value;
use std::process::{Command, Output};
use tokenpace::cli::Cli;
use tokenpace_core::summary::RunSettings;

mod common;

fn run(args: &[&str]) -> String {
    let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} did not parse: {e}"));
    let mut out = Vec::new();
    tokenpace::run(cli, &mut out).unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    String::from_utf8(out).unwrap()
}

fn run_err(args: &[&str]) -> String {
    let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} did not parse: {e}"));
    let mut out = Vec::new();
    format!("{:#}", tokenpace::run(cli, &mut out).unwrap_err())
}

/// A directory under the system's temporary directory, removed on drop
/// (kept free of dev-dependencies).
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new(name: &str) -> TempDir {
        let p = std::env::temp_dir().join(format!("tokenpace-plan-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&p);
        std::fs::create_dir_all(&p).unwrap();
        TempDir(p)
    }

    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run(args)).unwrap()
}

fn binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap()
}

const DONE: &[&str] = &[
    "plan",
    "bounds",
    "--model",
    "qwen2.5-7b",
    "--hardware",
    "rtx-4090",
    "--quant",
    "int4",
];

#[test]
fn bounds_prints_bounds_tiers_and_the_binding_resource() {
    let out = run(&[DONE, &["--lang", "en"]].concat());
    assert!(
        out.contains("qwen2.5-7b (Qwen2.5-7B-Instruct) on 1 × rtx-4090"),
        "{out}"
    );
    assert!(out.contains("weights 4.29 GB"), "{out}");
    let prefill = out
        .lines()
        .find(|l| l.trim_start().starts_with("prefill "))
        .unwrap();
    assert!(prefill.ends_with("compute"), "{prefill}");
    let decode = out
        .lines()
        .find(|l| l.trim_start().starts_with("decode (batch 1)"))
        .unwrap();
    assert!(decode.ends_with("memory bandwidth"), "{decode}");
    assert!(out.contains("overall tier: A"), "{out}");
    let zh = run(&[DONE, &["--lang", "zh"]].concat());
    assert!(zh.contains("显存带宽") && zh.contains("综合等级"), "{zh}");
    let md = run(&[DONE, &["--lang", "en", "--format", "markdown"]].concat());
    assert!(
        md.contains("| prefill |") && md.contains("**Memory**"),
        "{md}"
    );
}

#[test]
fn bounds_json_has_the_four_seed_metrics_graded() {
    let v = json(&[DONE, &["--format", "json"]].concat());
    assert_eq!(v["decode"]["binding"], "memory_bandwidth");
    assert_eq!(v["prefill"]["binding"], "compute");
    assert_eq!(v["quant"], "int4");
    let metrics: Vec<&str> = v["grade"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["metric"].as_str().unwrap())
        .collect();
    assert_eq!(
        metrics,
        ["ttft_s", "prefill_tok_s", "decode_tok_s", "output_chars_s"]
    );
    let decode = v["decode_tok_s"].as_f64().unwrap();
    assert!(decode > 150.0 && decode < 175.0, "{decode}");
}

#[test]
fn efficiency_flags_and_gpus_change_the_estimate() {
    let base = json(&[DONE, &["--format", "json"]].concat());
    let slow = json(
        &[
            DONE,
            &["--format", "json", "--bandwidth-efficiency", "0.35"],
        ]
        .concat(),
    );
    let ratio = base["decode_tok_s"].as_f64().unwrap() / slow["decode_tok_s"].as_f64().unwrap();
    assert!((ratio - 2.0).abs() < 1e-9, "{ratio}");
    let two = json(&[DONE, &["--format", "json", "--gpus", "2"]].concat());
    assert!(two["decode_tok_s"].as_f64().unwrap() > base["decode_tok_s"].as_f64().unwrap());
    let busy = json(
        &[
            DONE,
            &[
                "--format",
                "json",
                "--concurrency",
                "1000",
                "--prompt-tokens",
                "8000",
            ],
        ]
        .concat(),
    );
    assert_eq!(busy["memory"]["concurrency_capped"], true);
}

#[test]
fn list_shows_the_catalog_with_sources_in_json() {
    let out = run(&["plan", "bounds", "--list", "--lang", "en"]);
    for id in [
        "h100-sxm",
        "ascend-910b",
        "apple-m2-max",
        "qwen3-30b-a3b",
        "deepseek-v3",
    ] {
        assert!(out.contains(id), "{id} missing from {out}");
    }
    let v = json(&["plan", "bounds", "--list", "--format", "json"]);
    for h in v["hardware"].as_array().unwrap() {
        assert!(h["source"].as_str().unwrap().len() > 20, "{h}");
    }
    for m in v["models"].as_array().unwrap() {
        assert!(m["source"].as_str().unwrap().len() > 20, "{m}");
    }
}

#[test]
fn user_catalogs_and_model_files_are_read() {
    let dir = TempDir::new("catalog");
    let cat = dir.path().join("lab.toml");
    std::fs::write(
        &cat,
        "[[hardware]]\nid = \"lab-card\"\nname = \"Lab card\"\nkind = \"gpu\"\nfp16_tflops = 100\nmemory_bandwidth_gb_s = 500\nmemory_gb = 32\nsource = \"our measurement, 2026\"\n",
    )
    .unwrap();
    let v = json(&[
        "plan",
        "bounds",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "lab-card",
        "--catalog",
        cat.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["hardware"], "lab-card");
    let model_dir = dir.path().join("Qwen2.5-7B-Instruct");
    std::fs::create_dir(&model_dir).unwrap();
    let config = model_dir.join("config.json");
    std::fs::write(
        &config,
        r#"{"hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
            "num_hidden_layers": 28, "num_key_value_heads": 4, "vocab_size": 152064}"#,
    )
    .unwrap();
    let from_file = json(&[
        "plan",
        "bounds",
        "--model-file",
        config.to_str().unwrap(),
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--format",
        "json",
    ]);
    assert_eq!(from_file["model"], "Qwen2.5-7B-Instruct");
    let catalog = json(&[DONE, &["--format", "json"]].concat());
    let (a, b) = (
        from_file["decode_tok_s"].as_f64().unwrap(),
        catalog["decode_tok_s"].as_f64().unwrap(),
    );
    assert!((a / b - 1.0).abs() < 0.01, "{a} vs {b}");
}

/// A GGUF header (version 3) with the shape keys of Llama-3.1-8B.
fn gguf_header() -> Vec<u8> {
    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }
    let keys: &[(&str, u32)] = &[
        ("llama.block_count", 32),
        ("llama.embedding_length", 4096),
        ("llama.feed_forward_length", 14336),
        ("llama.attention.head_count", 32),
        ("llama.attention.head_count_kv", 8),
        ("llama.vocab_size", 128256),
    ];
    let mut b = b"GGUF".to_vec();
    b.extend(3u32.to_le_bytes());
    b.extend(0u64.to_le_bytes());
    b.extend((keys.len() as u64 + 1).to_le_bytes());
    string(&mut b, "general.architecture");
    b.extend(8u32.to_le_bytes());
    string(&mut b, "llama");
    for (k, v) in keys {
        string(&mut b, k);
        b.extend(4u32.to_le_bytes());
        b.extend(v.to_le_bytes());
    }
    b
}

#[test]
fn a_gguf_header_gives_the_model_shape() {
    let dir = TempDir::new("gguf");
    let file = dir.path().join("llama-3.1-8b-q4_0.gguf");
    std::fs::write(&file, gguf_header()).unwrap();
    let v = json(&[
        "plan",
        "bounds",
        "--model-file",
        file.to_str().unwrap(),
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--format",
        "json",
    ]);
    assert_eq!(v["model"], "llama-3.1-8b-q4_0");
    assert_eq!(v["memory"]["kv_bytes_per_token"], 131072.0);
    let catalog = json(&[
        "plan",
        "bounds",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--format",
        "json",
    ]);
    let (a, b) = (
        v["decode_tok_s"].as_f64().unwrap(),
        catalog["decode_tok_s"].as_f64().unwrap(),
    );
    assert!((a / b - 1.0).abs() < 0.01, "{a} vs {b}");
    let truncated = dir.path().join("cut.gguf");
    std::fs::write(&truncated, &gguf_header()[..40]).unwrap();
    let err = run_err(&[
        "plan",
        "bounds",
        "--model-file",
        truncated.to_str().unwrap(),
        "--hardware",
        "l4",
    ]);
    assert!(
        err.contains("GGUF header") && err.contains("cut.gguf"),
        "{err}"
    );
}

#[test]
fn remedies_for_the_seed_long_summary() {
    let v = json(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--format",
        "json",
    ]);
    assert_eq!(v["required"]["prefill_tok_s"], 2000.0);
    let list = v["remedies"].as_array().unwrap();
    let find = |name: &str| list.iter().find(|r| r["remedy"] == name).unwrap();
    assert_eq!(find("prefix_cache")["needed"]["kind"], "hit_ratio_above");
    assert_eq!(find("prefix_cache")["needed"]["value"], 0.5);
    assert_eq!(find("split_prefill")["needed"]["value"], 3);
    let int4 = list
        .iter()
        .find(|r| r["remedy"] == "quantize" && r["to"] == "int4")
        .unwrap();
    assert_eq!(int4["meets_chars"], true);
    assert_eq!(find("speculative")["meets_chars"], true);
    let out = run(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--lang",
        "en",
    ]);
    assert!(
        out.contains("hit ratio > 50 %") && out.contains("≥ 3 devices"),
        "{out}"
    );
    assert!(out.contains("Assumptions"), "{out}");
    let zh = run(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--lang",
        "zh",
    ]);
    assert!(
        zh.contains("命中率需 > 50 %") && zh.contains("假设"),
        "{zh}"
    );
}

#[test]
fn remedies_with_a_model_compare_cards() {
    let v = json(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--model",
        "qwen2.5-32b",
        "--hardware",
        "l40s",
        "--quant",
        "int4",
        "--format",
        "json",
    ]);
    let list = v["remedies"].as_array().unwrap();
    assert!(list
        .iter()
        .any(|r| r["remedy"] == "hardware" && r["id"] == "h100-sxm"));
    assert_eq!(list[0]["meets_ttft"], true);
    assert_eq!(list[0]["meets_chars"], true);
    let out = run(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--model",
        "qwen2.5-14b",
        "--hardware",
        "l40s",
        "--quant",
        "fp16",
        "--lang",
        "en",
    ]);
    assert!(out.contains("recomputed by the roofline"), "{out}");
}

#[test]
fn scenario_appends_remedies_only_when_a_given_rate_misses() {
    let out = run(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--lang",
        "en",
    ]);
    assert!(out.contains("Remedies"), "{out}");
    let v = json(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--format",
        "json",
    ]);
    assert!(v["remedies"].is_array());
    assert!(v["predicted"].is_object(), "the plan's own shape is kept");
    let fast = json(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--prefill",
        "5000",
        "--decode",
        "50",
        "--format",
        "json",
    ]);
    assert!(fast.get("remedies").is_none());
}

fn write_run(dir: &std::path::Path) {
    // Two requests of 1000 prompt tokens, TTFT 0.2 s (5000 tok/s prefill),
    // then 41 tokens 10 ms apart (100 tok/s decode).
    let records = [
        common::stream(0, 200, 41, 10, 1, Some(1000)),
        common::stream(1, 200, 41, 10, 1, Some(1000)),
    ];
    let settings = RunSettings {
        stall_threshold_s: 0.25,
        concurrency: Some(1),
        ..Default::default()
    };
    common::write_run(dir, &records, settings);
}

#[test]
fn calibrate_fits_and_saves_an_efficiency_bounds_can_read() {
    let dir = TempDir::new("calibrate");
    write_run(dir.path());
    let run_dir = dir.path().to_str().unwrap();
    let saved = dir.path().join("fitted.toml");
    let v = json(&[
        "plan",
        "calibrate",
        run_dir,
        "--model",
        "qwen2.5-7b",
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--save",
        saved.to_str().unwrap(),
        "--format",
        "json",
    ]);
    let errors = v["errors"].as_array().unwrap();
    let prefill = errors
        .iter()
        .find(|e| e["metric"] == "prefill_tok_s")
        .unwrap();
    assert!((prefill["measured"].as_f64().unwrap() - 5000.0).abs() < 1e-6);
    assert!(
        prefill["error"].as_f64().unwrap() > 0.0,
        "the estimate is optimistic here"
    );
    let fitted = std::fs::read_to_string(&saved).unwrap();
    assert!(
        fitted.contains("compute = ") && fitted.contains("bandwidth = "),
        "{fitted}"
    );
    let again = json(
        &[
            DONE,
            &[
                "--efficiency",
                saved.to_str().unwrap(),
                "--prompt-tokens",
                "1000",
                "--output-tokens",
                "41",
                "--format",
                "json",
            ],
        ]
        .concat(),
    );
    assert!((again["prefill_tok_s"].as_f64().unwrap() / 5000.0 - 1.0).abs() < 1e-6);
    assert!((again["decode_tok_s"].as_f64().unwrap() / 100.0 - 1.0).abs() < 1e-6);
    let table = run(&[
        "plan",
        "calibrate",
        run_dir,
        "--model",
        "qwen2.5-7b",
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--lang",
        "en",
    ]);
    assert!(table.contains("fitted to this run"), "{table}");
}

#[test]
fn published_points_are_within_25_percent() {
    let v = json(&["plan", "calibrate", "--published", "--format", "json"]);
    let points = v.as_array().unwrap();
    assert!(points.len() >= 12);
    for p in points {
        let e = p["error"].as_f64().unwrap();
        assert!(e.abs() <= 0.25, "{p}");
    }
}

#[test]
fn bad_input_names_the_problem_and_exits_2() {
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7",
                "--hardware",
                "rtx-4090",
            ],
            "did you mean qwen2.5-7b",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "rtx4080",
            ],
            "did you mean rtx-4090",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "llama-3.1-70b",
                "--hardware",
                "rtx-4090",
            ],
            "141.2 GB for its weights",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--prompt-tokens",
                "0",
            ],
            "--prompt-tokens",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--concurrency",
                "NaN",
            ],
            "--concurrency",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--rtt",
                "-1",
            ],
            "--rtt",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--bandwidth-efficiency",
                "1.5",
            ],
            "--bandwidth-efficiency",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--gpus",
                "0",
            ],
            "--gpus",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--quant",
                "int3",
            ],
            "--quant",
        ),
        (&["plan", "bounds", "--hardware", "l4"], "needs a model"),
        (
            &["plan", "bounds", "--model", "qwen2.5-7b"],
            "needs a device",
        ),
        (
            &[
                "plan",
                "bounds",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
                "--catalog",
                "/nonexistent.toml",
            ],
            "could not read catalog",
        ),
        (
            &[
                "plan",
                "remedies",
                "--prompt-tokens",
                "100",
                "--output-tokens",
                "10",
            ],
            "--prefill and --decode",
        ),
        (
            &[
                "plan",
                "remedies",
                "--preset",
                "long-summary",
                "--cache-hit",
                "1",
            ],
            "--cache-hit",
        ),
        (
            &[
                "plan",
                "remedies",
                "--preset",
                "long-summary",
                "--spec-acceptance",
                "-0.1",
            ],
            "--spec-acceptance",
        ),
        (
            &[
                "plan",
                "calibrate",
                "/nonexistent",
                "--model",
                "qwen2.5-7b",
                "--hardware",
                "l4",
            ],
            "does not exist",
        ),
    ];
    for (args, expected) in cases {
        let out = binary(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected '{expected}' in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
    // The same message in-process.
    let err = run_err(&[
        "plan",
        "bounds",
        "--model",
        "deepseek-v3",
        "--hardware",
        "h100-sxm",
        "--quant",
        "int4",
    ]);
    assert!(err.contains("--gpus 6"), "{err}");
}

#[test]
fn snapshot_bounds_table_en() {
    insta::assert_snapshot!(run(&[DONE, &["--lang", "en"]].concat()));
}

#[test]
fn snapshot_bounds_markdown_zh() {
    insta::assert_snapshot!(run(&[
        "plan",
        "bounds",
        "--model",
        "llama-3.1-70b",
        "--hardware",
        "h100-sxm",
        "--gpus",
        "2",
        "--concurrency",
        "16",
        "--prompt-tokens",
        "4000",
        "--output-tokens",
        "600",
        "--lang",
        "zh",
        "--format",
        "markdown",
    ]));
}

#[test]
fn snapshot_remedies_long_summary_zh() {
    insta::assert_snapshot!(run(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--lang",
        "zh"
    ]));
}

#[test]
fn snapshot_calibrate_published_markdown() {
    insta::assert_snapshot!(run(&[
        "plan",
        "calibrate",
        "--published",
        "--format",
        "markdown",
        "--lang",
        "en"
    ]));
}

/// The CPU estimate, calibrated on one real engine run on the CI machine,
/// predicts another run with a 4× longer prompt and half the answer within
/// ±25 % on every metric (recorded runs: tests/data/engine-runs).
#[test]
fn calibrated_on_one_engine_run_the_estimate_predicts_another() {
    let dir = TempDir::new("calibrate-engine");
    let saved = dir.path().join("ci-machine.toml");
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/engine-runs");
    let catalog = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/catalog-ci-machine.toml"
    );
    let calibrate = |run: &str, extra: &[&str]| {
        let run = format!("{data}/{run}");
        let mut args = vec![
            "plan",
            "calibrate",
            &run,
            "--model",
            "smollm2-135m",
            "--hardware",
            "ci-epyc-2vcpu",
            "--catalog",
            catalog,
            "--quant",
            "int4",
            "--format",
            "json",
        ];
        args.extend_from_slice(extra);
        json(&args)
    };
    let fitted = calibrate("p256-c1", &["--save", saved.to_str().unwrap()]);
    // With the default (GPU-fitted) efficiencies the CPU estimate is far off.
    let decode_error = |v: &Value| {
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["metric"] == "decode_tok_s")
            .unwrap()["error"]
            .as_f64()
            .unwrap()
    };
    assert!(decode_error(&fitted) > 0.5, "{fitted}");
    let checked = calibrate("p1024-c1", &["--efficiency", saved.to_str().unwrap()]);
    let errors = checked["errors"].as_array().unwrap();
    assert_eq!(errors.len(), 4, "{checked}");
    for e in errors {
        let err = e["error"].as_f64().unwrap();
        assert!(err.abs() <= 0.25, "{}: {:+.1} %", e["metric"], err * 100.0);
    }
}
