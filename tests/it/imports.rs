//! `tokenpace import` on files the tools themselves wrote against
//! `tokenpace sim` (tests/data/imports/README.md says how): the imported
//! TTFT percentiles are the ones each tool printed, the run is graded,
//! what a format lacks is named, and `report` and `compare` read the run.

use crate::common::{assert_valid, ok, serial, tokenpace, Sim};
use serde_json::Value;
use std::path::{Path, PathBuf};
use tokenpace_core::record::RequestRecord;

/// A sample file under tests/data/imports.
fn sample(path: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data/imports")
        .join(path)
}

/// Imports `file` into `out` and returns the JSON output.
fn import(file: &Path, out: &Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "import",
        file.to_str().unwrap(),
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ];
    args.extend(extra);
    let text = ok(&args);
    assert_valid("import", &text);
    serde_json::from_str(&text).unwrap()
}

/// TTFT's `stat` in ms, rounded to the 2 decimals the tools print.
fn ttft_ms(run: &Value, stat: &str) -> f64 {
    let s = run["summary"]["metrics"]["ttft_s"][stat].as_f64().unwrap();
    (s * 1e5).round() / 100.0
}

fn missing(run: &Value) -> Vec<String> {
    run["summary"]["settings"]["imported"]["missing"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m.as_str().unwrap().to_string())
        .collect()
}

fn records(dir: &Path) -> Vec<RequestRecord> {
    std::fs::read_to_string(dir.join("requests.jsonl"))
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn vllm_bench_serve_ttft_is_what_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("vllm");
    let run = import(&sample("vllm/vllm-bench.json"), &out, &[]);
    // Printed by vllm bench serve: "P50 TTFT (ms): 197.12", "P99 TTFT (ms): 285.47".
    assert_eq!(ttft_ms(&run, "p50"), 197.12);
    assert_eq!(ttft_ms(&run, "p99"), 285.47);
    assert_eq!(run["summary"]["settings"]["imported"]["format"], "vllm");
    assert_eq!(missing(&run), ["chunk_chars", "send_schedule"]);
    // Every chunk vLLM timed is a chunk of the record.
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(sample("vllm/vllm-bench.json")).unwrap())
            .unwrap();
    let recs = records(&out);
    let itls: usize = file["itls"].as_array().unwrap()[0]
        .as_array()
        .unwrap()
        .len();
    let first_sent = recs.iter().find(|r| r.id == 0).unwrap();
    assert_eq!(first_sent.chunks.len(), itls + 1);
    let table = ok(&[
        "import",
        sample("vllm/vllm-bench.json").to_str().unwrap(),
        "--out",
        dir.path().join("t").to_str().unwrap(),
    ]);
    assert!(table.contains("overall tier"), "{table}");
    assert!(table.contains("imported from vllm bench serve"), "{table}");
}

#[test]
fn aiperf_ttft_is_what_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let run = import(
        &sample("aiperf/profile_export.jsonl"),
        &dir.path().join("a"),
        &[],
    );
    // Printed by AIPerf: Time to First Token (ms) p50 183.66, p99 255.92.
    assert_eq!(ttft_ms(&run, "p50"), 183.66);
    assert_eq!(ttft_ms(&run, "p99"), 255.92);
    let imported = &run["summary"]["settings"]["imported"];
    assert_eq!(
        imported["tool_version"], "0.13.0",
        "read from the aggregate beside it"
    );
    assert_eq!(missing(&run), ["answer_text", "send_schedule"]);
    // No text kept: nothing derived from characters is reported.
    let metrics = &run["summary"]["metrics"];
    for m in [
        "output_chars_s",
        "chars_per_token",
        "longest_stall_s",
        "ttfv_s",
    ] {
        assert!(metrics.get(m).is_none(), "{m} without any text: {metrics}");
    }
}

/// The value at rank ⌈p·n⌉ of `sorted`: GuideLLM's percentile.
fn nearest_rank(sorted: &[f64], p: f64) -> f64 {
    let rank = (p * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

#[test]
fn guidellm_ttfts_are_its_own_and_give_what_it_printed() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("g");
    let run = import(&sample("guidellm/benchmarks.json"), &out, &[]);
    assert_eq!(missing(&run), ["chunk_times", "send_schedule"]);
    let file: Value =
        serde_json::from_str(&std::fs::read_to_string(sample("guidellm/benchmarks.json")).unwrap())
            .unwrap();
    let bench = &file["benchmarks"][0];
    let mut theirs: Vec<f64> = bench["requests"]["successful"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["time_to_first_token_ms"].as_f64().unwrap())
        .collect();
    let mut ours: Vec<f64> = records(&out)
        .iter()
        .map(|r| (r.first_token_ns().unwrap() - r.sent_ns) as f64 / 1e6)
        .collect();
    theirs.sort_by(f64::total_cmp);
    ours.sort_by(f64::total_cmp);
    assert_eq!(ours.len(), theirs.len());
    for (a, b) in ours.iter().zip(&theirs) {
        assert!((a - b).abs() < 1e-6, "{a} ms imported, {b} ms in the file");
    }
    // Printed by GuideLLM: TTFT Mdn 186.0, p95 247.9 (ms); its file's p99.
    let round1 = |x: f64| (x * 10.0).round() / 10.0;
    assert_eq!(round1(nearest_rank(&ours, 0.50)), 186.0);
    assert_eq!(round1(nearest_rank(&ours, 0.95)), 247.9);
    let p99 = bench["metrics"]["time_to_first_token_ms"]["successful"]["percentiles"]["p99"]
        .as_f64()
        .unwrap();
    assert!((nearest_rank(&ours, 0.99) - p99).abs() < 1e-6);
}

#[test]
fn the_format_is_told_from_the_content_and_a_wrong_one_is_named() {
    let dir = tempfile::tempdir().unwrap();
    for (file, format) in [
        ("vllm/vllm-bench.json", "vllm"),
        ("guidellm/benchmarks.json", "guidellm"),
        ("aiperf/profile_export.jsonl", "aiperf"),
        (
            "inference-perf/per_request_lifecycle_metrics.json",
            "inference-perf",
        ),
    ] {
        let out = dir.path().join(format);
        let run = import(&sample(file), &out, &["--from", format]);
        assert_eq!(run["summary"]["settings"]["imported"]["format"], format);
        // Asked as another format: an error naming the file, no panic.
        let other = if format == "vllm" { "aiperf" } else { "vllm" };
        let err = tokenpace(&[
            "import",
            sample(file).to_str().unwrap(),
            "--out",
            dir.path().join("wrong").to_str().unwrap(),
            "--from",
            other,
        ])
        .unwrap_err();
        assert!(
            format!("{err:#}").contains(file.rsplit('/').next().unwrap()),
            "{err:#}"
        );
    }
    // The aggregate alone holds no request: it says which file to give.
    let err = tokenpace(&[
        "import",
        sample("aiperf/profile_export_aiperf.json")
            .to_str()
            .unwrap(),
        "--out",
        dir.path().join("agg").to_str().unwrap(),
    ])
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("import profile_export.jsonl"),
        "{err:#}"
    );
}

#[test]
fn hostile_files_get_one_clear_error() {
    let dir = tempfile::tempdir().unwrap();
    let vllm = std::fs::read_to_string(sample("vllm/vllm-bench.json")).unwrap();
    let cases: [(&str, String, &str); 6] = [
        ("empty.json", String::new(), "not a result file"),
        ("garbage.json", "\u{0}\u{1}{{{".into(), "not a result file"),
        ("cut.json", vllm[..vllm.len() / 2].to_string(), "not JSON"),
        (
            "longer.json",
            vllm.replacen("\"ttfts\": [", "\"ttfts\": [-1.5, ", 1),
            "entries",
        ),
        ("negative.json", negative_ttft(&vllm), "ttfts[0]"),
        (
            "no-detail.json",
            r#"{"ttfts_mean": 1, "ttfts": []}"#.into(),
            "--save-detailed",
        ),
    ];
    for (name, text, says) in cases {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        let err = tokenpace(&[
            "import",
            path.to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ])
        .unwrap_err();
        let err = format!("{err:#}");
        assert!(err.contains(name) && err.contains(says), "{name}: {err}");
    }
}

/// The vLLM sample with its first TTFT made negative.
fn negative_ttft(vllm: &str) -> String {
    let mut v: Value = serde_json::from_str(vllm).unwrap();
    v["ttfts"][0] = Value::from(-0.2);
    v.to_string()
}

#[test]
fn an_imported_run_is_reported_and_compared_with_a_tokenpace_run() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let imported = dir.path().join("vllm");
    import(&sample("vllm/vllm-bench.json"), &imported, &[]);
    let page = dir.path().join("vllm.html");
    ok(&[
        "report",
        imported.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
    ]);
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(html.contains("imported from vllm bench serve"));
    assert!(
        html.contains("keeps not its text"),
        "the caveat is on the page"
    );

    let mut config = tokenpace_sim::config::SimConfig::default();
    config.timing.ttft_ms = 150.0;
    config.timing.decode = 200.0;
    let sim = Sim::start(config);
    let ours = dir.path().join("ours");
    ok(&[
        "bench",
        &sim.url(),
        "--concurrency",
        "4",
        "--requests",
        "12",
        "--max-tokens",
        "32",
        "--prompt-tokens",
        "128",
        "--out",
        ours.to_str().unwrap(),
        "--format",
        "json",
    ]);
    sim.stop();
    let text = ok(&[
        "compare",
        ours.to_str().unwrap(),
        imported.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_valid("compare", &text);
    let v: Value = serde_json::from_str(&text).unwrap();
    let metrics = v["comparisons"][0]["changes"].to_string();
    assert!(metrics.contains("ttft_s"), "{metrics}");
}

#[test]
fn inference_perf_per_request_file_is_imported_and_graded() {
    let dir = tempfile::tempdir().unwrap();
    let file = sample("inference-perf/per_request_lifecycle_metrics.json");
    let out = dir.path().join("iperf");
    let run = import(&file, &out, &[]);
    assert_eq!(
        run["summary"]["settings"]["imported"]["format"],
        "inference-perf"
    );
    // Each chunk's text and the failure's HTTP status are kept: only the
    // schedule is missing.
    assert_eq!(missing(&run), ["send_schedule"]);
    let by_kind = &run["summary"]["counts"]["by_kind"];
    assert_eq!(by_kind["http_status"], 1, "{by_kind}");
    let counts = &run["summary"]["counts"];
    assert_eq!(
        (counts["sent"].as_u64(), counts["ok"].as_u64()),
        (Some(3), Some(2))
    );
    let metric = |m: &str, st: &str| run["summary"]["metrics"][m][st].as_f64().unwrap();
    // TTFT: chunk_times[0] − start_time, 0.15 and 0.20 s.
    assert!((metric("ttft_s", "mean") - 0.175).abs() < 1e-9);
    // Decode: tokens after the first over first → last chunk: 3 in
    // 0.035 s (server usage 4) and 2 in 0.05 s (its tokenizer's 3).
    let decode = (3.0 / 0.035 + 2.0 / 0.05) / 2.0;
    assert!((metric("decode_tok_s", "mean") - decode).abs() < 1e-6);
    let recs = records(&out);
    let chars: Vec<u32> = recs[0].chunks.iter().map(|c| c.chars).collect();
    assert_eq!(chars, [5, 4, 2, 1], "Hello, ' wor', ld, !");
    let table = ok(&[
        "import",
        file.to_str().unwrap(),
        "--from",
        "inference-perf",
        "--out",
        dir.path().join("t").to_str().unwrap(),
    ]);
    assert!(table.contains("overall tier"), "{table}");
    assert!(table.contains("imported from inference-perf"), "{table}");
}

#[test]
fn aggregate_only_files_are_refused_with_what_they_lack() {
    let dir = tempfile::tempdir().unwrap();
    for (file, says) in [
        (
            "inference-perf/summary_lifecycle_metrics.json",
            "per_request_lifecycle_metrics.json",
        ),
        (
            "inference-benchmarker/results.json",
            "throughput: 248 ok, 2 failed",
        ),
    ] {
        let err = tokenpace(&[
            "import",
            sample(file).to_str().unwrap(),
            "--out",
            dir.path().join("out").to_str().unwrap(),
        ])
        .unwrap_err();
        let err = format!("{err:#}");
        assert!(err.contains(says), "{file}: {err}");
        assert!(!dir.path().join("out").exists(), "no run written");
    }
}
