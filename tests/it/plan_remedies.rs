//! `tokenpace plan remedies` and the remedies `plan scenario` appends,
//! in-process, and their JSON against their schemas.

use crate::common;

use crate::plan_support::*;

/// A 14B model on an L40S (fp16 weights by default): the roofline gives
/// the rates.
const L40S_14B: &[&str] = &["--model", "qwen2.5-14b", "--hardware", "l40s"];

#[test]
fn remedies_for_the_seed_long_summary() {
    let v = long_summary_json("remedies", &[]);
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
    let out = long_summary("remedies", &["--lang", "en"]);
    assert!(
        out.contains("hit ratio > 50 %") && out.contains("≥ 3 devices"),
        "{out}"
    );
    assert!(out.contains("Assumptions"), "{out}");
    let zh = long_summary("remedies", &["--lang", "zh"]);
    assert!(
        zh.contains("命中率需 > 50 %") && zh.contains("假设"),
        "{zh}"
    );
}

#[test]
fn remedies_with_a_model_compare_cards() {
    let v = long_summary_json(
        "remedies",
        &[
            "--model",
            "qwen2.5-32b",
            "--hardware",
            "l40s",
            "--quant",
            "int4",
        ],
    );
    let list = v["remedies"].as_array().unwrap();
    assert!(list
        .iter()
        .any(|r| r["remedy"] == "hardware" && r["id"] == "h100-sxm"));
    assert_eq!(list[0]["meets_ttft"], true);
    assert_eq!(list[0]["meets_chars"], true);
    let out = long_summary(
        "remedies",
        &[L40S_14B, &["--quant", "fp16", "--lang", "en"]].concat(),
    );
    assert!(out.contains("recomputed by the roofline"), "{out}");
}

#[test]
fn scenario_appends_remedies_only_when_a_given_rate_misses() {
    let out = long_summary("scenario", &["--lang", "en"]);
    assert!(out.contains("Remedies"), "{out}");
    let v = long_summary_json("scenario", &[]);
    assert!(v["remedies"].is_array());
    assert!(v["predicted"].is_object(), "the plan's own shape is kept");
    let fast = long_summary_json("scenario", &["--prefill", "5000", "--decode", "50"]);
    assert!(fast.get("remedies").is_none());
}

#[test]
fn snapshot_remedies_long_summary_zh() {
    insta::assert_snapshot!(long_summary("remedies", &["--lang", "zh"]));
}

#[test]
fn remedies_and_scenario_json_validate() {
    common::assert_valid(
        "plan-remedies",
        &long_summary("remedies", &["--format", "json"]),
    );
    common::assert_valid(
        "plan-remedies",
        &long_summary("remedies", &[L40S_14B, &["--format", "json"]].concat()),
    );
    common::assert_valid(
        "plan-scenario",
        &long_summary("scenario", &["--format", "json"]),
    );
    common::assert_valid(
        "plan-scenario",
        &run(&[
            "plan", "scenario", "--preset", "web-chat", "--format", "json",
        ]),
    );
    common::assert_valid(
        "plan-scenario-list",
        &run(&["plan", "scenario", "--list", "--format", "json"]),
    );
}

#[test]
fn snapshot_remedies_with_a_model_markdown_en() {
    insta::assert_snapshot!(long_summary(
        "remedies",
        &[L40S_14B, &["--format", "markdown", "--lang", "en"]].concat()
    ));
}

#[test]
fn snapshot_scenario_markdown_zh() {
    insta::assert_snapshot!(long_summary(
        "scenario",
        &["--format", "markdown", "--lang", "zh"]
    ));
}
