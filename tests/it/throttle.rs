//! Rate limits against the simulator's truth: every 429 it sent is a
//! `throttled` record with its Retry-After and rate-limit headers, never
//! retried unless asked; with `--retry-throttled` each is sent again after
//! at least its Retry-After, and the retries are reported apart.

use crate::bench_support::{bench, records, serial, sim, truth};
use std::collections::HashMap;
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokenpace_core::summary::RunSummary;
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::faults::{FaultKind, FaultRule};
use tokenpace_sim::truth::RequestTruth;

/// A run of `bench` with `args` against a simulator throttling every
/// third request: its table, records, `run.json` and the truth by the
/// request-id header (throttled answers have no response id).
fn throttled_run(args: &[&str]) -> (String, Vec<RequestRecord>, RunSummary, Vec<RequestTruth>) {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let mut config = SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    };
    config.faults.inject.push(FaultRule {
        kind: FaultKind::Http429,
        probability: None,
        every: Some(3),
    });
    let sim = sim(config);
    let out = dir.path().join("run");
    let url = sim.url();
    let mut all = vec![url.as_str(), "--out", out.to_str().unwrap(), "--lang", "en"];
    all.extend_from_slice(args);
    let table = match bench(&all) {
        Ok((_, t)) => t,
        Err(e) => panic!("bench failed: {e:#}"),
    };
    sim.stop();
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    let truth = truth(&truth_path).into_values().collect();
    (table, records(&out), summary, truth)
}

fn by_request_id(truth: &[RequestTruth]) -> HashMap<&str, Vec<&RequestTruth>> {
    let mut by: HashMap<&str, Vec<&RequestTruth>> = HashMap::new();
    for t in truth {
        let id = t.request_id.as_deref().expect("bench sends X-Request-ID");
        by.entry(id).or_default().push(t);
    }
    for attempts in by.values_mut() {
        attempts.sort_by_key(|t| t.received_ns);
    }
    by
}

fn throttled_by_sim(t: &RequestTruth) -> bool {
    t.status == 429 && t.faults.iter().any(|f| f.kind == FaultKind::Http429)
}

#[test]
fn every_429_is_a_throttled_record_and_none_is_retried() {
    let _serial = serial();
    let args = [
        "--requests",
        "9",
        "--concurrency",
        "3",
        "--max-tokens",
        "8",
        "--prompt-tokens",
        "16",
    ];
    let (table, records, summary, truth) = throttled_run(&args);
    assert_eq!(records.len(), 9, "every request is accounted for");
    // Never retried silently: one request reached the server per record.
    assert_eq!(truth.len(), records.len());
    let by_id = by_request_id(&truth);
    let mut throttled = 0;
    for r in &records {
        let sent = &by_id[r.request_id.as_deref().unwrap()];
        assert_eq!(sent.len(), 1, "{r:?}");
        let kind = r.error.as_ref().map(|e| e.kind);
        if throttled_by_sim(sent[0]) {
            throttled += 1;
            assert_eq!(kind, Some(ErrorKind::Throttled), "{r:?}");
            assert_eq!(r.error.as_ref().unwrap().status, Some(429));
            assert_eq!(r.retry_after_ms, Some(1000), "{r:?}");
            let header = |n: &str| r.rate_limits.get(n).map(|v| &**v);
            assert_eq!(header("x-ratelimit-remaining-requests"), Some("0"));
            assert_eq!(header("retry-after"), Some("1"));
            assert!(r.retries.is_none());
        } else {
            assert_eq!(kind, None, "{r:?}");
            assert!(r.rate_limits.is_empty() && r.retry_after_ms.is_none());
        }
    }
    assert!(throttled > 0, "the simulator throttled every third request");
    let c = &summary.counts;
    assert_eq!(c.by_kind.get(&ErrorKind::Throttled), Some(&throttled));
    assert_eq!((c.sent, c.ok + c.failed), (9, 9));
    assert_eq!(c.by_kind.get(&ErrorKind::HttpStatus), None);
    let t = summary
        .throttling
        .expect("run.json says the run was throttled");
    assert_eq!((t.throttled, t.retried, t.retries), (throttled, 0, 0));
    assert_eq!(t.retry_after_median_s, Some(1.0));
    assert_eq!(t.lowest_remaining_requests, Some(0));
    let said = format!("THROTTLED: {throttled} of 9 requests");
    assert!(table.contains(&said), "{table}");
    assert!(
        table.contains("rate limits, lowest remaining: 0 requests"),
        "{table}"
    );
}

#[test]
fn retry_throttled_waits_the_retry_after_and_reports_the_retries_apart() {
    let _serial = serial();
    // One stream: a retry follows its request, so it is never throttled again.
    let args = [
        "--requests",
        "6",
        "--concurrency",
        "1",
        "--max-tokens",
        "8",
        "--prompt-tokens",
        "16",
        "--retry-throttled",
    ];
    let (table, records, summary, truth) = throttled_run(&args);
    assert_eq!(records.len(), 6);
    let by_id = by_request_id(&truth);
    let mut retried = 0;
    for r in &records {
        assert!(r.is_ok(), "retried until answered: {r:?}");
        let sent = &by_id[r.request_id.as_deref().unwrap()];
        let refused = sent.iter().filter(|t| throttled_by_sim(t)).count() as u32;
        assert_eq!(r.retries.map_or(0, |x| x.throttled), refused, "{r:?}");
        if let Some(x) = r.retries {
            retried += 1;
            // The truth's clock is the server's: the retry reached it at
            // least Retry-After (1 s) after the 429 left.
            let gap = sent[1].received_ns - sent[0].end_ns;
            assert!(gap >= 1_000_000_000, "retried after {gap} ns");
            assert!(x.waited_ns >= 1_000_000_000, "{x:?}");
            assert!(r.sent_ns - x.first_sent_ns >= x.waited_ns, "{x:?}");
        }
    }
    assert!(retried > 0, "the simulator throttled every third request");
    let retries: usize = truth.iter().filter(|t| throttled_by_sim(t)).count();
    assert_eq!(truth.len(), records.len() + retries);
    let t = summary.throttling.expect("run.json reports the retries");
    assert_eq!(
        (t.throttled, t.retried, t.retries),
        (0, retried, retries as u64)
    );
    assert!(t.retry_wait_s >= retries as f64 * 1.0, "{t:?}");
    assert_eq!(summary.counts.failed, 0);
    let said = format!(
        "retried after throttling (--retry-throttled): {retried} requests, {retries} retries"
    );
    assert!(table.contains(&said), "{table}");
}
