//! `bench --until-precise P` against the simulator: it stops once the p99
//! TTFT's 95 % interval is within ± P %, checked again on the requests
//! that had finished when it stopped, and a cap ends it unconverged.

use crate::common::{ok, serial, tokenpace, Sim};
use serde_json::Value;
use tokenpace_core::precision::p99_half_width_pct;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::request_metrics::{MetricOptions, RequestMetrics};
use tokenpace_sim::config::{JitterDist, SimConfig, TimingConfig};

/// TTFT 20 ms plus exponential jitter of scale 10 ms, fast decode.
fn sim() -> Sim {
    Sim::start(SimConfig {
        timing: TimingConfig {
            ttft_ms: 20.0,
            ttft_jitter_ms: 10.0,
            jitter_dist: JitterDist::Exponential,
            prefill: 1e9,
            decode: 2000.0,
            ..TimingConfig::default()
        },
        seed: 3,
        ..SimConfig::default()
    })
}

fn bench(url: &str, out: &std::path::Path, extra: &[&str]) -> Value {
    let mut args = vec![
        "bench",
        url,
        "--model",
        "m",
        "--concurrency",
        "8",
        "--max-tokens",
        "2",
        "--prompt-tokens",
        "16",
        "--format",
        "json",
        "--out",
        out.to_str().unwrap(),
    ];
    args.extend_from_slice(extra);
    serde_json::from_str(&ok(&args)).unwrap()
}

/// The run's records in the order they finished.
fn records(out: &std::path::Path) -> Vec<RequestRecord> {
    let text = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    text.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

fn ttfts(records: &[RequestRecord]) -> Vec<f64> {
    let opts = MetricOptions::default();
    (records.iter().filter(|r| r.is_ok()))
        .filter_map(|r| RequestMetrics::of(r, &opts).ttft_s)
        .collect()
}

#[test]
fn stops_when_the_p99_ttft_is_precise_and_says_when() {
    let _guard = serial();
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let v = bench(
        &sim.url(),
        &out,
        &["--until-precise", "12", "--max-requests", "20000"],
    );
    let p = &v["summary"]["precision"];
    assert_eq!(p["converged"], true, "{p}");
    let n = p["requests"].as_u64().unwrap() as usize;
    let said = p["half_width_pct"].as_f64().unwrap();
    assert!(said <= 12.0 && n < 20_000, "{p}");
    // The requests finished at the stop give the interval it reported …
    let all = records(&out);
    let at_stop = p99_half_width_pct(&ttfts(&all[..n])).unwrap();
    assert!((at_stop - said).abs() < 1e-9, "{at_stop} vs {said}");
    // … and it did not go on long after: those in flight finish, and a
    // stream may have sent its next before it heard the stop (8 streams).
    assert!(
        all.len() >= n && all.len() <= n + 2 * 8,
        "{} after {n}",
        all.len()
    );
    // A tenth fewer requests were not yet precise enough.
    let fewer = p99_half_width_pct(&ttfts(&all[..n * 9 / 10]));
    assert!(fewer.is_none_or(|h| h > 12.0), "{fewer:?}");
    // The run's interval is in its summary too, as the table shows it.
    let ci = &v["summary"]["metrics"]["ttft_s"]["ci"]["p99"];
    assert!(
        ci["low"].as_f64().is_some() && ci["high"].as_f64().is_some(),
        "{ci}"
    );
    sim.stop();
}

#[test]
fn a_cap_ends_it_and_the_run_says_it_was_not_reached() {
    let _guard = serial();
    let sim = sim();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let url = sim.url();
    let v = bench(
        &url,
        &out,
        &["--until-precise", "0.5", "--max-requests", "400"],
    );
    let p = &v["summary"]["precision"];
    assert_eq!(
        (p["converged"].clone(), p["requests"].clone()),
        (false.into(), 400.into()),
        "{p}"
    );
    assert!(p["half_width_pct"].as_f64().unwrap() > 0.5, "{p}");
    assert_eq!(records(&out).len(), 400);
    let text = ok(&[
        "bench",
        &url,
        "--model",
        "m",
        "--concurrency",
        "4",
        "--max-tokens",
        "2",
        "--until-precise",
        "0.5",
        "--max-requests",
        "40",
    ]);
    assert!(
        text.contains("--until-precise 0.5 %: not reached"),
        "{text}"
    );
    assert!(
        text.contains("p99 TTFT not yet bounded over 40 finished requests"),
        "{text}"
    );
    // An open loop is refused before anything is sent.
    let e = tokenpace(&["bench", &url, "--rate", "5", "--until-precise", "5"]).unwrap_err();
    assert!(format!("{e:#}").contains("--concurrency"), "{e:#}");
    sim.stop();
}
