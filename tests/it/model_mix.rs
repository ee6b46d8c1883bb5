//! Mixed traffic (`bench --model-mix`): several models behind one
//! endpoint, each request sent to its model by weight, the run reported
//! per model and overall. The simulator serves `slow` at half the decode
//! speed of every other name (`model_speeds`), so the per-model figures
//! must tell the two apart.

use crate::bench_support::{bench, records, serial};
use std::collections::BTreeMap;
use tokenpace_core::aggregate::Aggregate;
use tokenpace_core::metric::Metric;
use tokenpace_core::request_metrics::MetricOptions;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_sim::config::SimConfig;

/// The simulator's decode speed, tok/s; `slow` gets half.
const DECODE: f64 = 200.0;

fn mixed_sim() -> crate::common::Sim {
    let mut config = SimConfig::default();
    config.model_speeds.insert("slow".into(), 0.5);
    config.timing.ttft_ms = 30.0;
    config.timing.decode = DECODE;
    config.text.lang = tokenpace_corpus::TextLang::En;
    crate::common::Sim::start(config)
}

#[test]
fn requests_go_to_their_models_by_weight_and_are_reported_per_model() {
    let _serial = serial();
    let sim = mixed_sim();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let url = sim.url();
    let args = [
        url.as_str(),
        "--out",
        out.to_str().unwrap(),
        "--model-mix",
        "fast=3,slow=1::20",
        "--concurrency",
        "4",
        "--requests",
        "40",
        "--max-tokens",
        "40",
        "--format",
        "json",
    ];
    let (_, json) = bench(&args).unwrap();
    sim.stop();
    crate::common::assert_valid("bench", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let summary: RunSummary = serde_json::from_value(v["summary"].clone()).unwrap();
    let recs = records(&out);
    // Each model graded apart in the JSON, on its own decode speed.
    let grades = v["model_grades"].as_array().expect("model_grades");
    let graded: Vec<(&str, f64)> = grades
        .iter()
        .map(|g| {
            let decode = g["grade"]["metrics"]
                .as_array()
                .unwrap()
                .iter()
                .find(|m| m["metric"] == "decode_tok_s")
                .unwrap_or_else(|| panic!("no decode grade: {g}"));
            (
                g["model"].as_str().unwrap(),
                decode["value"].as_f64().unwrap(),
            )
        })
        .collect();
    assert_eq!(graded.len(), 2, "{grades:?}");
    assert_eq!((graded[0].0, graded[1].0), ("fast", "slow"));
    assert!(graded[0].1 > 1.5 * graded[1].1, "{graded:?}");

    // Per-model counts are the weights' exact shares (40 = 10 cycles of 4).
    let mut by_model: BTreeMap<&str, usize> = BTreeMap::new();
    for r in &recs {
        assert!(r.is_ok(), "{:?}", r.error);
        *by_model.entry(r.model.as_deref().unwrap()).or_default() += 1;
        // Each entry's own answer length was asked for and honoured.
        let want = if r.model.as_deref() == Some("slow") {
            20
        } else {
            40
        };
        assert_eq!(r.output_tokens.unwrap().count, want, "request {}", r.id);
    }
    assert_eq!(by_model, BTreeMap::from([("fast", 30), ("slow", 10)]));
    let names: Vec<&str> = summary.models.iter().map(|m| m.model.as_str()).collect();
    assert_eq!(names, ["fast", "slow"]);
    assert_eq!(summary.models[0].aggregate.counts.sent, 30);
    assert_eq!(summary.models[1].aggregate.counts.sent, 10);

    // Each model's decode is its own speed.
    let decode = |i: usize| {
        summary.models[i]
            .aggregate
            .get(Metric::DecodeTokS, Statistic::P50)
            .unwrap()
    };
    for (i, want) in [(0, DECODE), (1, DECODE / 2.0)] {
        let got = decode(i);
        assert!(
            (got - want).abs() < 0.1 * want,
            "{}: decode {got:.1} tok/s, the simulator serves it at {want}",
            summary.models[i].model
        );
    }

    // The overall figures are the pooled records'.
    let opts = MetricOptions {
        stall_threshold_s: summary.settings.stall_threshold_s,
        network_overhead_s: summary.settings.network_overhead_s,
    };
    let pooled = Aggregate::of(&recs, &opts);
    assert_eq!(summary.counts, pooled.counts);
    // Equal but for the last digit JSON's shortest form may round.
    assert_eq!(
        summary.metrics.keys().collect::<Vec<_>>(),
        pooled.metrics.keys().collect::<Vec<_>>()
    );
    for (m, stats) in &pooled.metrics {
        for st in [Statistic::Mean, Statistic::P50, Statistic::P99] {
            let (a, b) = (summary.metrics[m].get(st), stats.get(st));
            assert!(
                (a - b).abs() <= 1e-9 * b.abs().max(1.0),
                "{m:?} {st}: {a} vs {b}"
            );
        }
        assert_eq!(summary.metrics[m].n, stats.n, "{m:?}");
    }
    assert_eq!(
        summary
            .models
            .iter()
            .map(|m| m.aggregate.counts.sent)
            .sum::<u64>(),
        summary.counts.sent
    );
}

#[test]
fn the_table_shows_each_model_and_the_pooled_run() {
    let _serial = serial();
    let sim = mixed_sim();
    let url = sim.url();
    let (_, table) = bench(&[
        url.as_str(),
        "--model-mix",
        "fast=1,slow=1",
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "8",
    ])
    .unwrap();
    sim.stop();
    assert!(table.contains("fast=1 slow=1"), "{table}");
    let per_model = table.split("Per model").nth(1).expect(&table);
    for row in ["fast", "slow", "all"] {
        assert!(
            per_model.lines().any(|l| l.trim_start().starts_with(row)),
            "no {row} row:\n{table}"
        );
    }
}

#[test]
fn a_mix_is_refused_with_sessions_and_a_bad_spec_names_the_fix() {
    for (extra, says) in [
        (
            &["--model-mix", "a=1", "--turns", "3"][..],
            "--model-mix spreads single requests",
        ),
        (&["--model-mix", "a=0"][..], "weight 0"),
        (
            &["--model-mix", "missing.toml"][..],
            "cannot read the --model-mix file",
        ),
    ] {
        let mut args = vec!["http://127.0.0.1:9"];
        args.extend_from_slice(extra);
        let e = bench(&args).unwrap_err().to_string();
        assert!(e.contains(says), "{extra:?}: {e}");
    }
}
