//! `tokenpace plan calibrate`, in-process: a run against the estimate,
//! the published points, recorded engine runs, and the JSON and CSV.

use crate::common;

use serde_json::Value;
use tokenpace_core::summary::RunSettings;

use crate::plan_support::*;

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

/// `plan calibrate RUN_DIR` for the 7B model at int4 on an RTX 4090 (the
/// deployment of [`DONE`]), with `extra` flags.
fn calibrate_qwen(run_dir: &str, extra: &[&str]) -> String {
    run(&[&["plan", "calibrate", run_dir], &DONE[2..], extra].concat())
}

#[test]
fn calibrate_fits_and_saves_an_efficiency_bounds_can_read() {
    let dir = TempDir::new("calibrate");
    write_run(dir.path());
    let run_dir = dir.path().to_str().unwrap();
    let saved = dir.path().join("fitted.toml");
    let v = serde_json::from_str::<Value>(&calibrate_qwen(
        run_dir,
        &["--save", saved.to_str().unwrap(), "--format", "json"],
    ))
    .unwrap();
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
    let table = calibrate_qwen(run_dir, &["--lang", "en"]);
    assert!(table.contains("fitted to this run"), "{table}");
}

#[test]
fn published_points_are_within_25_percent() {
    let v = json(&["plan", "calibrate", "--published", "--format", "json"]);
    let points = v.as_array().unwrap();
    let (outside, held): (Vec<&Value>, Vec<&Value>) = points
        .iter()
        .partition(|p| p["point"]["outside"].is_string());
    assert!(held.len() >= 20, "{} points held to ±25 %", held.len());
    for p in held {
        let e = p["error"].as_f64().unwrap();
        assert!(e.abs() <= 0.25, "{p}");
        // Out of sample: fitted without this point (leave-one-out).
        let held_out = p["held_out_error"].as_f64().unwrap();
        assert!(held_out.abs() <= 0.25, "{p}");
    }
    // A point outside the model says why and really is missed.
    for p in outside {
        assert!(!p["point"]["outside"].as_str().unwrap().is_empty(), "{p}");
        let worst = p["error"]
            .as_f64()
            .unwrap()
            .abs()
            .max(p["held_out_error"].as_f64().unwrap().abs());
        assert!(worst > 0.25, "{p}");
    }
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
    let calibrate = |run: &str, extra: &[&str]| calibrate_engine("ci-epyc-2vcpu", &[run], extra);
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
    // Copying the calibration run's measurement unchanged is the model
    // that knows nothing: the estimate must beat it clearly where the
    // workloads differ (decode slows with the 4x longer context's KV reads,
    // TTFT grows with the prompt), so a model that ignored either fails.
    let measured = |v: &Value, metric: &str| {
        v["errors"]
            .as_array()
            .unwrap()
            .iter()
            .find(|e| e["metric"] == metric)
            .unwrap()["measured"]
            .as_f64()
            .unwrap()
    };
    for e in errors {
        let metric = e["metric"].as_str().unwrap();
        let err = e["error"].as_f64().unwrap();
        assert!(err.abs() <= 0.25, "{metric}: {:+.1} %", err * 100.0);
        if metric == "decode_tok_s" || metric == "ttft_s" {
            let copied = measured(&fitted, metric) / measured(&checked, metric) - 1.0;
            assert!(
                err.abs() < copied.abs() / 2.0,
                "{metric}: the estimate's error {:+.1} % is not clearly below copying the calibration run ({:+.1} %)",
                err * 100.0,
                copied * 100.0
            );
        }
    }
}

#[test]
fn calibrate_json_validates_and_published_points_are_csv_rows() {
    let dir = TempDir::new("calibrate-schema");
    write_run(dir.path());
    let out = calibrate_qwen(dir.path().to_str().unwrap(), &["--format", "json"]);
    common::assert_valid("plan-calibrate", &out);
    let published = run(&["plan", "calibrate", "--published", "--format", "json"]);
    common::assert_valid("plan-calibrate-published", &published);
    let csv = run(&["plan", "calibrate", "--published", "--format", "csv"]);
    let lines: Vec<&str> = csv.lines().collect();
    assert!(
        lines[0].starts_with("model,hardware,quant,metric,"),
        "{csv}"
    );
    let points = serde_json::from_str::<Value>(&published).unwrap();
    assert_eq!(lines.len(), points.as_array().unwrap().len() + 1);
}

#[test]
fn snapshot_calibrate_run_table_zh() {
    let dir = TempDir::new("calibrate-snapshot");
    write_run(dir.path());
    insta::assert_snapshot!(calibrate_qwen(
        dir.path().to_str().unwrap(),
        &["--lang", "zh"]
    ));
}

/// `plan calibrate` on recorded engine runs on one host of the CI machine
/// (`hardware`, a `docs/examples/catalog-ci-machine.toml` entry), as JSON.
fn calibrate_engine(hardware: &str, runs: &[&str], extra: &[&str]) -> Value {
    let data = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/data/engine-runs");
    let catalog = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/examples/catalog-ci-machine.toml"
    );
    let runs: Vec<String> = runs.iter().map(|r| format!("{data}/{r}")).collect();
    let mut args: Vec<&str> = vec!["plan", "calibrate"];
    args.extend(runs.iter().map(String::as_str));
    args.extend([
        "--model",
        "smollm2-135m",
        "--hardware",
        hardware,
        "--catalog",
        catalog,
        "--quant",
        "int4",
        "--format",
        "json",
    ]);
    args.extend_from_slice(extra);
    json(&args)
}

/// A metric's error in a `plan calibrate --format json` answer.
fn error_of(v: &Value, metric: &str) -> f64 {
    v["errors"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["metric"] == metric)
        .unwrap_or_else(|| panic!("no {metric} in {v}"))["error"]
        .as_f64()
        .unwrap()
}

/// On a CPU, decode is bound by arithmetic, which a batch does not share:
/// from runs at 1 and 2 streams (the compute fraction of decode), the
/// estimate holds both within ±25 % and predicts a third run; fitted from
/// the 1-stream run alone, it misses the 2-stream decode by far more.
/// Checked on both hosts the CI VM lands on (their runs are in
/// tests/data/engine-runs and tests/data/engine-runs/xeon).
#[test]
fn calibrated_at_two_concurrencies_the_cpu_estimate_holds_two_streams() {
    let dir = TempDir::new("calibrate-cpu");
    for (hardware, prefix) in [("ci-epyc-2vcpu", ""), ("ci-xeon-2vcpu", "xeon/")] {
        let run = |name: &str| format!("{prefix}{name}");
        let saved = dir.path().join(format!("{hardware}.toml"));
        let both = calibrate_engine(
            hardware,
            &[&run("p256-c1"), &run("p128-c2")],
            &["--save", saved.to_str().unwrap()],
        );
        assert!(
            both["fitted"]["decode_compute"].as_f64().unwrap() < 0.5,
            "{both}"
        );
        let runs = both["runs"].as_array().unwrap();
        assert_eq!(runs.len(), 2);
        for r in runs {
            for e in r["fitted_errors"].as_array().unwrap() {
                let err = e["error"].as_f64().unwrap();
                assert!(
                    err.abs() <= 0.25,
                    "{hardware} {}: {}: {:+.1} %",
                    r["run"],
                    e["metric"],
                    err * 100.0
                );
            }
        }
        let efficiency = ["--efficiency", saved.to_str().unwrap()];
        let checked = calibrate_engine(hardware, &[&run("p1024-c1")], &efficiency);
        for e in checked["errors"].as_array().unwrap() {
            let err = e["error"].as_f64().unwrap();
            assert!(
                err.abs() <= 0.25,
                "{hardware} p1024-c1 {}: {:+.1} %",
                e["metric"],
                err * 100.0
            );
        }
        // Without the second concurrency the 2-stream decode is far off.
        let one = dir.path().join(format!("{hardware}-one.toml"));
        calibrate_engine(
            hardware,
            &[&run("p256-c1")],
            &["--save", one.to_str().unwrap()],
        );
        let two = calibrate_engine(
            hardware,
            &[&run("p128-c2")],
            &["--efficiency", one.to_str().unwrap()],
        );
        assert!(error_of(&two, "decode_tok_s") > 0.5, "{hardware}: {two}");
    }
    // Four streams, measured on the Xeon host only, held out of the fit:
    // every metric within ±25 %, TTFT and prefill included (four prompts
    // that arrive together share one prefill batch, docs/plan.md).
    let saved = dir.path().join("ci-xeon-2vcpu.toml");
    let four = calibrate_engine(
        "ci-xeon-2vcpu",
        &["xeon/p128-c4"],
        &["--efficiency", saved.to_str().unwrap()],
    );
    for metric in ["prefill_tok_s", "decode_tok_s", "ttft_s", "output_chars_s"] {
        let err = error_of(&four, metric);
        assert!(err.abs() <= 0.25, "p128-c4 {metric}: {:+.1} %", err * 100.0);
    }
}
