//! `tokenpace plan bounds`, in-process: the estimate, the catalog, model
//! files, and its JSON against its schema.

use crate::common;

use serde_json::Value;

use crate::plan_support::*;

/// `plan bounds` of a model (the flags naming it) on an RTX 4090 with int4
/// weights, as JSON.
fn int4_on_4090(model: &[&str]) -> Value {
    let rest = [
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
        "--format",
        "json",
    ];
    json(&[&["plan", "bounds"], model, &rest].concat())
}

/// Two estimates of the same shape decode alike (within 1 %).
fn assert_same_decode(a: &Value, b: &Value) {
    let (a, b) = (
        a["decode_tok_s"].as_f64().unwrap(),
        b["decode_tok_s"].as_f64().unwrap(),
    );
    assert!((a / b - 1.0).abs() < 0.01, "{a} vs {b}");
}

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
    let v = int4_on_4090(&["--model", "qwen2.5-7b"]);
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
    let base = int4_on_4090(&["--model", "qwen2.5-7b"]);
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
    let from_file = int4_on_4090(&["--model-file", config.to_str().unwrap()]);
    assert_eq!(from_file["model"], "Qwen2.5-7B-Instruct");
    let catalog = int4_on_4090(&["--model", "qwen2.5-7b"]);
    assert_same_decode(&from_file, &catalog);
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
    let v = int4_on_4090(&["--model-file", file.to_str().unwrap()]);
    assert_eq!(v["model"], "llama-3.1-8b-q4_0");
    assert_eq!(v["memory"]["kv_bytes_per_token"], 131072.0);
    let catalog = int4_on_4090(&["--model", "llama-3.1-8b"]);
    assert_same_decode(&v, &catalog);
    let truncated = dir.path().join("cut.gguf");
    std::fs::write(&truncated, &gguf_header()[..40]).unwrap();
    let path = truncated.to_str().unwrap();
    let err = run_err(&["plan", "bounds", "--model-file", path, "--hardware", "l4"]);
    assert!(
        err.contains("GGUF header") && err.contains("cut.gguf"),
        "{err}"
    );
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
fn bounds_json_validates() {
    common::assert_valid("plan-bounds", &run(&[DONE, &["--format", "json"]].concat()));
    common::assert_valid(
        "plan-bounds-list",
        &run(&["plan", "bounds", "--list", "--format", "json"]),
    );
}
