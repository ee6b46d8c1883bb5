//! Request ids: `bench` sends one per request in `X-Request-ID` and keeps
//! it in the record, so records join one to one with the server's log (here
//! the simulator's truth, which logs the header it received).

use crate::bench_support::{bench, bench_against_truth, serial};
use std::collections::BTreeSet;
use std::time::Duration;

fn run(
    extra: &[&str],
) -> (
    Vec<tokenpace_core::record::RequestRecord>,
    Vec<Option<String>>,
) {
    let mut args = vec!["--concurrency", "3", "--requests", "9", "--max-tokens", "4"];
    args.extend_from_slice(extra);
    let (table, records, truth) = bench_against_truth(&args, Duration::ZERO);
    table.unwrap();
    // Pair by the server's response id, then compare what each side logged.
    let logged = records
        .iter()
        .map(|r| truth[r.response_id.as_deref().unwrap()].request_id.clone())
        .collect();
    assert_eq!(truth.len(), 9, "the server saw every request once");
    (records, logged)
}

#[test]
fn every_request_carries_an_id_the_server_logged() {
    let _serial = serial();
    let (records, logged) = run(&[]);
    assert_eq!(records.len(), 9);
    let ids: BTreeSet<&str> = records
        .iter()
        .map(|r| r.request_id.as_deref().expect("every record keeps its id"))
        .collect();
    assert_eq!(ids.len(), 9, "ids are unique: {ids:?}");
    for (r, server) in records.iter().zip(&logged) {
        assert_eq!(r.request_id.as_deref(), server.as_deref());
        let id = r.request_id.as_deref().unwrap();
        assert!(
            id.starts_with("tp-") && id.ends_with(&format!("-{}", r.id)),
            "{id}"
        );
    }
}

#[test]
fn no_request_id_sends_none() {
    let _serial = serial();
    let (records, logged) = run(&["--no-request-id"]);
    assert!(records.iter().all(|r| r.request_id.is_none()));
    assert!(logged.iter().all(Option::is_none), "{logged:?}");
}

#[test]
fn a_bad_header_name_is_named_before_any_request() {
    let e = bench(&["http://127.0.0.1:9", "--request-id-header", "X Id"]).unwrap_err();
    assert!(e.to_string().contains("--request-id-header 'X Id'"), "{e}");
}

/// A sweep's levels and the warm-up number their records from 0 again; the
/// ids they send must still be unique (vLLM refuses a duplicate id in
/// flight, and a log joined on ids would mix the levels up).
#[test]
fn ids_are_unique_across_a_sweeps_levels_and_the_warm_up() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = crate::bench_support::sim(tokenpace_sim::config::SimConfig {
        truth: Some(truth_path.clone()),
        ..Default::default()
    });
    let url = sim.url();
    let out = dir.path().join("run");
    let args = [
        url.as_str(),
        "--concurrency",
        "1,3",
        "--requests",
        "3",
        "--warmup",
        "2",
        "--max-tokens",
        "4",
        "--out",
        out.to_str().unwrap(),
    ];
    bench(&args).unwrap();
    sim.stop();
    let truth = crate::bench_support::truth(&truth_path);
    let ids: BTreeSet<String> = truth
        .values()
        .map(|t| t.request_id.clone().expect("every request carries an id"))
        .collect();
    assert!(truth.len() >= 6, "{} requests", truth.len());
    assert_eq!(ids.len(), truth.len(), "{ids:?}");
}
