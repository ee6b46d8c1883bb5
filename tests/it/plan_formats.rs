//! Weight and KV-cache formats on the command line: each model's own
//! format as the default, `--weights` to force another, `--kv-cache fp8`,
//! and where each card runs a format natively.

use crate::plan_support::*;

const GPT_OSS_ON_H100: [&str; 6] = [
    "plan",
    "bounds",
    "--model",
    "gpt-oss-120b",
    "--hardware",
    "h100-sxm",
];

#[test]
fn gpt_oss_120b_fits_one_h100_in_its_own_mxfp4() {
    let out = run(&[&GPT_OSS_ON_H100[..], &["--lang", "en"]].concat());
    assert!(
        out.contains("mxfp4 weights (weight-only on h100-sxm"),
        "{out}"
    );
    assert!(out.contains("overall tier: A"), "{out}");
    let e = json(&[&GPT_OSS_ON_H100[..], &["--format", "json"]].concat());
    assert_eq!(e["quant"], "mxfp4");
    assert_eq!(e["support"], "weight_only");
    assert_eq!(e["devices"], 1);
    let m = &e["memory"];
    assert!(
        m["weight_bytes"].as_f64() < m["usable_bytes"].as_f64(),
        "{m}"
    );
}

#[test]
fn forced_to_fp16_gpt_oss_needs_four_h100s_and_the_error_names_mxfp4() {
    let err = run_err(&[&GPT_OSS_ON_H100[..], &["--weights", "fp16"]].concat());
    assert!(err.contains("use at least 4 devices (--gpus 4)"), "{err}");
    assert!(err.contains("--weights mxfp4"), "{err}");
    // The old flag name still works.
    let err = run_err(&[&GPT_OSS_ON_H100[..], &["--quant", "bf16"]].concat());
    assert!(err.contains("at fp16 needs"), "{err}");
    let four = json(
        &[
            &GPT_OSS_ON_H100[..],
            &["--weights", "fp16", "--gpus", "4", "--format", "json"],
        ]
        .concat(),
    );
    assert_eq!(four["quant"], "fp16");
}

#[test]
fn the_catalog_lists_fp8_rates_for_h100_b200_and_mi300x() {
    let list = json(&["plan", "bounds", "--list", "--format", "json"]);
    let hw = |id: &str| {
        list["hardware"]
            .as_array()
            .unwrap()
            .iter()
            .find(|h| h["id"] == id)
            .unwrap_or_else(|| panic!("{id} missing"))
            .clone()
    };
    for id in ["h100-sxm", "b200", "mi300x"] {
        let h = hw(id);
        assert!(
            h["fp8_tflops"].as_f64().unwrap() > h["fp16_tflops"].as_f64().unwrap(),
            "{h}"
        );
        assert!(h["source"].as_str().unwrap().contains("FP8"), "{h}");
    }
    assert!(hw("b200")["fp4_tflops"].is_number());
    assert!(hw("h100-sxm")["fp4_tflops"].is_null());
    let gpt_oss = list["models"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["id"] == "gpt-oss-120b")
        .unwrap();
    assert_eq!(gpt_oss["weights"], "mxfp4");
    let table = run(&["plan", "bounds", "--list", "--lang", "en"]);
    assert!(
        table.contains("FP8 TFLOPS") && table.contains("FP4 TFLOPS"),
        "{table}"
    );
}

#[test]
fn an_fp8_kv_cache_halves_bytes_per_token_and_doubles_what_fits() {
    let at = |kv: &str| {
        json(
            &[
                &GPT_OSS_ON_H100[..],
                &["--kv-cache", kv, "--format", "json"],
            ]
            .concat(),
        )["memory"]
            .clone()
    };
    let (fp16, fp8) = (at("fp16"), at("fp8"));
    let per_token = |m: &serde_json::Value| m["kv_bytes_per_token"].as_f64().unwrap();
    assert_eq!(per_token(&fp16), 2.0 * per_token(&fp8));
    let fit = |m: &serde_json::Value| m["contexts_fit"].as_f64().unwrap();
    assert!(fit(&fp8) >= 2.0 * fit(&fp16) && fit(&fp8) <= 2.0 * fit(&fp16) + 1.0);
    let out = run(&[&GPT_OSS_ON_H100[..], &["--kv-cache", "fp8", "--lang", "en"]].concat());
    assert!(
        out.lines().next().unwrap().ends_with(", fp8 KV cache"),
        "{out}"
    );
}

#[test]
fn native_formats_are_named_and_no_gain_is_claimed_below_the_model_format() {
    let b200 = run(&[
        "plan",
        "bounds",
        "--model",
        "gpt-oss-120b",
        "--hardware",
        "b200",
        "--lang",
        "en",
    ]);
    assert!(b200.contains("mxfp4 weights (native on b200)"), "{b200}");
    let remedies = run(&[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--model",
        "gpt-oss-120b",
        "--hardware",
        "h100-sxm",
        "--lang",
        "en",
    ]);
    assert!(
        remedies.contains("narrower weights: none, mxfp4 weights are already 4.25 bits"),
        "{remedies}"
    );
    assert!(!remedies.contains("int4 weights"), "{remedies}");
}

#[test]
fn where_memory_binds_an_fp8_kv_cache_doubles_the_capacity() {
    let capacity = |kv: &str| {
        let v = json(&[
            "plan",
            "capacity",
            "--model",
            "gpt-oss-120b",
            "--hardware",
            "h100-sxm",
            "--prompt-tokens",
            "8000",
            "--output-tokens",
            "1000",
            "--text",
            "en",
            "--kv-cache",
            kv,
            "--format",
            "json",
        ]);
        assert_eq!(v["model"]["roofline"]["kv_cache"], kv);
        assert_eq!(v["capacity"]["limit"], "memory_capacity", "{v}");
        v["capacity"]["tier_a_max_concurrency"].as_f64().unwrap()
    };
    let (fp16, fp8) = (capacity("fp16"), capacity("fp8"));
    assert!(
        fp8 >= 2.0 * fp16 && fp8 <= 2.0 * fp16 + 1.0,
        "{fp16} → {fp8}"
    );
}
