//! `bench --trace`: the sample traces replayed against the simulator (every
//! request accounted for, at the trace's times, with its lengths), bad
//! traces refused before anything is sent, and the flags' conflicts.

use crate::trace_support;

use crate::bench_support::{bench, records, serial, sim, truth};
use tokenpace_client::trace::{TraceReader, TraceRequest};
use tokenpace_core::record::{CountSource, RequestRecord};
use tokenpace_core::summary::RunSummary;
use tokenpace_sim::config::SimConfig;

fn sample(name: &str) -> String {
    trace_support::dir()
        .join(name)
        .to_str()
        .unwrap()
        .to_string()
}

fn requests(name: &str) -> Vec<TraceRequest> {
    TraceReader::open(&trace_support::dir().join(name), None, None)
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap()
}

#[test]
fn samples_are_what_the_generator_writes() {
    for (name, text) in trace_support::samples() {
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join(&name);
        if std::env::var_os("TOKENPACE_UPDATE_TRACES").is_some() {
            std::fs::write(&path, &text).unwrap();
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{name} differs from tests/it/trace_support; TOKENPACE_UPDATE_TRACES=1 cargo test --test it trace:: rewrites it"
        );
    }
    let m = requests("mooncake_sample.jsonl");
    assert_eq!(m.len(), 1000);
    // Prefixes are shared: many requests start with another's first block.
    let firsts: std::collections::HashSet<u64> = m.iter().map(|r| r.hash_ids[0]).collect();
    assert!(firsts.len() < 100, "{} distinct first blocks", firsts.len());
}

/// The acceptance run: 1000 Mooncake requests at 10× speed. The strict
/// target (schedule lag p99 ≤ 2 ms, docs/benchmarks.md) is measured on a
/// quiet machine; here other tests may share the cores, so the bound is a
/// sanity bound that still fails when sends wait for prompts or the loop
/// falls behind the trace.
#[test]
fn a_mooncake_trace_replays_at_ten_times_speed() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_file = dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_file.clone()),
        ..SimConfig::default()
    });
    let out = dir.path().join("run");
    let (_, json) = bench(&[
        &sim.url(),
        "--trace",
        &sample("mooncake_sample.jsonl"),
        "--trace-speed",
        "10",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    let trace = requests("mooncake_sample.jsonl");
    let mut recs = records(&out);
    recs.sort_by_key(|r| r.id);
    // Every request accounted for: one record each, in the summary too.
    assert_eq!(recs.len(), trace.len());
    assert!(recs.iter().zip(&trace).all(|(r, t)| r.id == t.index));
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary.counts.sent, 1000);
    assert_eq!(summary.counts.ok + summary.counts.failed, 1000, "{json}");
    assert_eq!(
        truth(&truth_file).len(),
        1000,
        "the simulator saw each once"
    );
    // At the trace's times ÷ 10, to the nanosecond's rounding.
    let t0 = recs[0].scheduled_ns;
    for (r, t) in recs.iter().zip(&trace) {
        let want = t.at_ns / 10;
        assert!(
            r.scheduled_ns - t0 + 1 >= want && r.scheduled_ns - t0 <= want + 1,
            "request {}",
            r.id
        );
    }
    // With its lengths: the answer exactly (ignore_eos), the prompt cut on
    // the simulator's own /tokenize to the trace's length.
    for (r, t) in recs.iter().zip(&trace).filter(|(r, _)| r.is_ok()) {
        assert_eq!(
            r.output_tokens.map(|c| c.count),
            Some(t.output_tokens),
            "request {}",
            r.id
        );
        let p = r.prompt_tokens.unwrap();
        assert_eq!(p.source, CountSource::ServerUsage);
        assert!(
            p.count.abs_diff(t.input_tokens) <= 1,
            "request {}: {} for {}",
            r.id,
            p.count,
            t.input_tokens
        );
    }
    // The simulator's prefix cache hits where the trace's requests share
    // leading hash_ids with an earlier one, and only there: never more than
    // those blocks hold, and in all nearly that (an earlier sharer still
    // prefilling has not stored its blocks yet); each record's count is the
    // server's.
    let by_id = truth(&truth_file);
    let mut seen = std::collections::HashSet::new();
    let (mut shared, mut shared_hit, mut fresh_hit) = (0, 0, 0);
    let (mut expected_all, mut cached_all) = (0u64, 0u64);
    for (r, t) in recs.iter().zip(&trace) {
        let cached = u64::from(r.cached_tokens.unwrap_or(0));
        let hit = cached > 0;
        let lead = t.hash_ids.iter().take_while(|h| seen.contains(*h)).count() as u64;
        let expected = (lead * 512).min(u64::from(t.input_tokens) - 1);
        if r.is_ok() {
            let server = by_id[r.response_id.as_deref().unwrap()].cached_tokens;
            assert_eq!(Some(cached), server.or(Some(0)), "request {}", r.id);
            assert!(
                cached <= expected,
                "request {}: {cached} cached, its shared blocks hold {expected}",
                r.id
            );
            expected_all += expected;
            cached_all += cached;
        }
        if seen.contains(&t.hash_ids[0]) {
            shared += 1;
            shared_hit += usize::from(hit);
        } else {
            fresh_hit += usize::from(hit);
        }
        seen.extend(t.hash_ids.iter().copied());
    }
    eprintln!("cached {cached_all} of the {expected_all} tokens the shared blocks hold");
    assert!(
        cached_all * 10 >= expected_all * 8,
        "cached {cached_all} of the {expected_all} tokens the shared blocks hold"
    );
    assert_eq!(
        fresh_hit, 0,
        "a request with a new first block found it cached"
    );
    assert!(
        shared_hit * 10 >= shared * 9,
        "{shared_hit} of {shared} sharing requests hit the cache"
    );
    let mut lag: Vec<f64> = recs
        .iter()
        .map(|r| (r.sent_ns - r.scheduled_ns) as f64 / 1e6)
        .collect();
    lag.sort_by(f64::total_cmp);
    let (p50, p99) = (lag[lag.len() / 2], lag[lag.len() * 99 / 100]);
    eprintln!(
        "1000 requests at 10x: {} ok; cache hits on {shared_hit} of {shared} sharing requests; schedule lag p50 {p50:.3} ms, p99 {p99:.3} ms",
        summary.counts.ok
    );
    if std::env::var_os("TRACE_DEBUG").is_some() {
        for r in recs
            .iter()
            .filter(|r| r.sent_ns - r.scheduled_ns > 2_000_000)
        {
            eprintln!(
                "late {} at {:.3} s by {:.3} ms",
                r.id,
                r.scheduled_ns as f64 / 1e9,
                (r.sent_ns - r.scheduled_ns) as f64 / 1e6
            );
        }
    }
    assert!(
        p50 < 1.0 && p99 <= 10.0,
        "schedule lag p50 {p50:.3} ms, p99 {p99:.3} ms"
    );
    // Neutral to the client: the requests reached the server (its kernel's
    // arrival stamps) when the trace said, ÷ 10.
    let (error, spacing) = arrival_error_ms(&recs, &trace, &by_id, 10.0);
    eprintln!(
        "server arrivals against the trace ÷ 10: error p99 {error:.3} ms (spacing error p99 {spacing:.3} ms)"
    );
    assert!(error <= 1.0, "arrival error p99 {error:.3} ms");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(
        v["summary"]["metrics"]["schedule_lag_s"]["p99"]
            .as_f64()
            .is_some(),
        "lag is reported as for --rate"
    );
    sim.stop();
}

#[test]
fn a_window_and_a_cap_choose_the_requests() {
    let _serial = serial();
    let sim = sim(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let trace = requests("burstgpt_sample.csv");
    let run = |extra: &[&str]| {
        let out = dir.path().join(format!("run{}", extra.len()));
        let mut args = vec![
            sim.url(),
            "--trace".into(),
            sample("burstgpt_sample.csv"),
            "--trace-speed".into(),
            "20".into(),
            "--out".into(),
            out.to_str().unwrap().to_string(),
        ];
        args.extend(extra.iter().map(|s| s.to_string()));
        bench(&args.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
        let mut ids: Vec<u64> = records(&out).iter().map(|r| r.id).collect();
        ids.sort();
        ids
    };
    let in_window = |t: &&TraceRequest| (10e9..25e9).contains(&(t.at_ns as f64));
    let want: Vec<u64> = trace.iter().filter(in_window).map(|t| t.index).collect();
    assert!(want.len() > 5 && want.len() < trace.len());
    assert_eq!(
        run(&["--trace-start", "10", "--trace-duration", "15"]),
        want
    );
    assert_eq!(
        run(&[
            "--trace-start",
            "10",
            "--requests",
            "4",
            "--trace-log-type",
            "api"
        ])
        .len(),
        4
    );
    sim.stop();
}

#[test]
fn bad_traces_stop_before_anything_is_sent() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_file = dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_file.clone()),
        ..SimConfig::default()
    });
    for (name, says) in [
        ("bad_mooncake_line.jsonl", "line 13: not a Mooncake request"),
        (
            "bad_azure_columns.csv",
            "line 1 column 'Region': not a column of a azure trace",
        ),
        (
            "bad_burstgpt_order.csv",
            "line 8: its timestamp is earlier than line 7's",
        ),
    ] {
        let err = bench(&[&sim.url(), "--trace", &sample(name)]).unwrap_err();
        let text = format!("{err:#}");
        assert!(text.contains(name) && text.contains(says), "{text}");
    }
    let err = bench(&[
        &sim.url(),
        "--trace",
        &sample("azure_sample.csv"),
        "--trace-start",
        "100000",
    ])
    .unwrap_err();
    assert!(
        format!("{err:#}").contains("no request in the window"),
        "{err:#}"
    );
    let err = bench(&[&sim.url(), "--trace", "/nonexistent/t.jsonl"]).unwrap_err();
    assert!(format!("{err:#}").contains("cannot open it"), "{err:#}");
    let seen = std::fs::read_to_string(&truth_file).unwrap_or_default();
    assert!(!seen.contains("\"type\":\"request\""), "nothing was sent");
    sim.stop();
}

#[test]
fn trace_flags_conflict_with_other_loads() {
    for other in [
        &["--rate", "5"][..],
        &["--concurrency", "4"],
        &["--dataset", "d.jsonl"],
        &["--prompt-tokens", "64"],
    ] {
        let mut args = vec!["http://127.0.0.1:9", "--trace", "t.jsonl"];
        args.extend_from_slice(other);
        let err = bench(&args).unwrap_err().to_string();
        assert!(err.contains("cannot be used with"), "{other:?}: {err}");
    }
    let err = bench(&["http://127.0.0.1:9", "--trace-speed", "10"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("--trace <FILE>"), "{err}");
    let err = bench(&["http://127.0.0.1:9", "--trace", "t", "--trace-speed", "0"])
        .unwrap_err()
        .to_string();
    assert!(err.contains("0"), "{err}");
}

/// How far the requests reached the server from their times in the trace,
/// as the simulator's kernel stamped their arrival (its truth), ms: each
/// request's arrival minus its planned time (trace time ÷ speed), less the
/// median of that difference (the one constant between the server's clock
/// and the schedule's start, plus loopback transit); p99 of the rest.
/// Also the p99 of the spacing error between consecutive arrivals (each
/// such gap carries two requests' errors), for the record.
fn arrival_error_ms(
    recs: &[RequestRecord],
    trace: &[TraceRequest],
    truth: &std::collections::HashMap<String, tokenpace_sim::truth::RequestTruth>,
    speed: f64,
) -> (f64, f64) {
    let arrivals: Vec<f64> = recs
        .iter()
        .map(|r| {
            let t = &truth[r.response_id.as_deref().expect("every request answered")];
            t.arrived_ns.unwrap_or(t.received_ns) as f64
        })
        .collect();
    let planned: Vec<f64> = trace.iter().map(|t| t.at_ns as f64 / speed).collect();
    let mut offsets: Vec<f64> = arrivals.iter().zip(&planned).map(|(a, p)| a - p).collect();
    offsets.sort_by(f64::total_cmp);
    let median = offsets[offsets.len() / 2];
    let mut errors: Vec<f64> = arrivals
        .iter()
        .zip(&planned)
        .map(|(a, p)| (a - p - median).abs() / 1e6)
        .collect();
    errors.sort_by(f64::total_cmp);
    let mut spacing: Vec<f64> = arrivals
        .windows(2)
        .zip(planned.windows(2))
        .map(|(a, p)| ((a[1] - a[0]) - (p[1] - p[0])).abs() / 1e6)
        .collect();
    spacing.sort_by(f64::total_cmp);
    (
        tokenpace_core::stats::percentile_sorted(&errors, 99.0),
        tokenpace_core::stats::percentile_sorted(&spacing, 99.0),
    )
}

/// An Azure LLM inference trace end to end: every request sent once at its
/// time (as the server's arrival stamps say), with its own lengths (the
/// prompt cut on the simulator's tokenizer, the answer exact), and each
/// request's text its own: nothing cached.
#[test]
fn an_azure_trace_replays_end_to_end() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_file = dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_file.clone()),
        ..SimConfig::default()
    });
    let out = dir.path().join("run");
    bench(&[
        &sim.url(),
        "--trace",
        &sample("azure_sample.csv"),
        "--trace-speed",
        "5",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    sim.stop();
    let trace = requests("azure_sample.csv");
    let mut recs = records(&out);
    recs.sort_by_key(|r| r.id);
    let truth = truth(&truth_file);
    assert_eq!((recs.len(), truth.len()), (trace.len(), trace.len()));
    for (r, t) in recs.iter().zip(&trace) {
        assert!(r.is_ok(), "request {}: {:?}", r.id, r.error);
        assert_eq!(r.id, t.index);
        assert_eq!(r.output_tokens.unwrap().count, t.output_tokens.max(1));
        assert!(
            r.prompt_tokens.unwrap().count.abs_diff(t.input_tokens) <= 1,
            "request {}",
            r.id
        );
        assert_eq!(
            r.cached_tokens.unwrap_or(0),
            0,
            "request {} found cached",
            r.id
        );
    }
    let (error, spacing) = arrival_error_ms(&recs, &trace, &truth, 5.0);
    eprintln!(
        "server arrivals against the trace ÷ 5: error p99 {error:.3} ms (spacing error p99 {spacing:.3} ms)"
    );
    // 60 requests: the p99 is the latest send. Typically 0.5-0.7 ms (the
    // first send, cold, is the latest), but one send in 60 came 1.2-1.8 ms
    // late in 2 runs of 15, one of them in CI: 2 ms here; the 1000-request
    // Mooncake replay holds the 1 ms p99.
    assert!(error <= 2.0, "arrival error p99 {error:.3} ms");
}
