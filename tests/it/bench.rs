//! `tokenpace bench` against the simulator in-process: every metric must
//! match the simulator's ground truth, every fault must end as the right
//! record, and nothing may be lost or leaked.

use crate::common;

use crate::bench_support::pairing::{content, pair, TimingError};
use crate::bench_support::{bench, records, serial, sim, truth};
use tokenpace_core::record::ErrorKind;
use tokenpace_core::summary::RunSummary;
use tokenpace_sim::config::SimConfig;

/// Every request and every chunk paired with what the simulator wrote: the
/// counts are exact, and the client's timestamps are within a fraction of a
/// token of the server's at the tail, not only at the median, so a client
/// that stamps one chunk in a hundred a token late fails.
#[test]
fn metrics_match_the_simulators_truth() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let mut config = SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    };
    config.text.lang = tokenpace_corpus::TextLang::Zh;
    config.timing.ttft_ms = 30.0;
    // 20 ms a token, as a chat model streams: a quarter of it is room for a
    // loaded 2-core machine's scheduling, a whole token is a broken client.
    config.timing.decode = 50.0;
    let sim = common::Sim::start(config);
    let out = dir.path().join("run");
    let (requests, tokens) = (16, 24);
    let (_, table) = bench(&[
        &sim.url(),
        "--concurrency",
        "4",
        "--requests",
        &requests.to_string(),
        "--max-tokens",
        &tokens.to_string(),
        "--prompt-tokens",
        "64",
        "--out",
        out.to_str().unwrap(),
        "--lang",
        "en",
    ])
    .unwrap();
    sim.stop();
    assert!(
        table.contains(&format!("{requests} sent, {requests} ok, 0 failed")),
        "{table}"
    );
    let records = records(&out);
    let truth = truth(&truth_path);
    // One record per request the server received, and no other.
    let pairing = pair(&records, &truth);
    assert!(pairing.unmatched.is_empty(), "{:#?}", pairing.unmatched);
    let unclaimed: Vec<&str> = pairing.unclaimed.iter().map(|t| t.id.as_str()).collect();
    assert!(
        unclaimed.is_empty(),
        "received, never recorded: {unclaimed:?}"
    );
    assert!(
        pairing.disagreements().is_empty(),
        "{:#?}",
        pairing.disagreements()
    );
    assert_eq!(pairing.pairs.len(), requests);
    for (r, t) in &pairing.pairs {
        let content: Vec<_> = content(t).collect();
        // Exact counts: tokens, characters, CJK characters, prompt tokens.
        assert_eq!(r.output_tokens.unwrap().count as u64, t.completion_tokens);
        assert_eq!(r.output_chars, content.iter().map(|c| c.chars).sum::<u32>());
        assert_eq!(
            r.output_cjk_chars,
            content.iter().map(|c| c.cjk).sum::<u32>()
        );
        assert!(r.output_cjk_chars > 0);
        assert_eq!(r.prompt_tokens.unwrap().count as u64, t.prompt_tokens);
        for (c, tc) in r.chunks.iter().zip(&content) {
            assert_eq!((c.chars, c.tokens), (tc.chars, tc.tokens));
        }
        // Linux stamps arrivals: the server's truth dates each request by
        // when it reached the host, never after the server read it.
        if cfg!(target_os = "linux") {
            let arrived = t
                .arrived_ns
                .expect("the kernel stamped the request's arrival");
            assert!(arrived <= t.received_ns, "{arrived} > {}", t.received_ns);
        }
    }
    let error = TimingError::of(&pairing.pairs);
    assert_eq!(error.lateness.len(), requests * tokens, "{error}");
    // The bounds below are fractions of the token time the server kept.
    let token = error.token_ms;
    assert!((token / 20.0 - 1.0).abs() < 0.1, "{error}");
    // Client TTFT includes the request's way in and the chunk's way out, so
    // it is not below the server's. The server stamps a chunk after its
    // write() returns, when the client may already hold the bytes: single
    // requests can dip below zero; the median may not.
    assert!(error.ttft.p50() > -0.05, "{error}");
    // p99 within a quarter of a token; no sample, even one preempted by the
    // machine's other work, half a token off.
    for (what, tail) in [
        ("TTFT", &error.ttft),
        ("chunk lateness", &error.lateness),
        ("chunk gap", &error.gap),
    ] {
        assert!(tail.p99().abs() < token / 4.0, "{what} p99\n{error}");
        assert!(tail.max().abs() < token / 2.0, "{what} max\n{error}");
    }
    eprintln!("{error}");
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(summary.counts.sent, requests as u64);
    assert!(!summary.partial);
}

#[test]
fn every_fault_ends_as_the_right_record() {
    let _serial = serial();
    let truth_dir = tempfile::tempdir().unwrap();
    let truth_path = truth_dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    });
    let url = sim.url();
    let mut finished = Vec::new();
    let cases: &[(&str, Option<ErrorKind>)] = &[
        ("http_429", Some(ErrorKind::Throttled)),
        ("http_500", Some(ErrorKind::HttpStatus)),
        // The simulator's 503 says when to come back (Retry-After).
        ("http_503", Some(ErrorKind::Throttled)),
        ("reset", Some(ErrorKind::StreamCut)),
        ("truncate", Some(ErrorKind::StreamCut)),
        ("malformed_json", Some(ErrorKind::MalformedEvent)),
        ("stall_first", None),
        ("stall_mid", None),
        ("keep_alive", None),
        ("split", None),
        ("crlf", None),
        ("long_event", None),
        ("slow_loris", None),
    ];
    for (fault, expected) in cases {
        let dir = tempfile::tempdir().unwrap();
        let header = format!("x-tokenpace-fault:{fault}");
        let result = bench(&[
            &url,
            "--requests",
            "2",
            "--concurrency",
            "2",
            "--max-tokens",
            "8",
            "--prompt-tokens",
            "16",
            "--header",
            &header,
            "--out",
            dir.path().to_str().unwrap(),
            "--format",
            "json",
        ]);
        let records = records(dir.path());
        assert_eq!(records.len(), 2, "{fault}: every request is accounted for");
        finished.extend(
            records
                .iter()
                .filter(|r| r.is_ok())
                .map(|r| (fault, r.clone())),
        );
        for r in &records {
            assert_eq!(
                r.error.as_ref().map(|e| e.kind),
                *expected,
                "{fault}: {r:?}"
            );
        }
        match expected {
            // A run where nothing succeeded is an error that says why.
            Some(kind) => {
                let msg = format!("{:#}", result.unwrap_err());
                assert!(
                    msg.contains("all 2 requests failed") && msg.contains(kind.id()),
                    "{fault}: {msg}"
                );
                if matches!(kind, ErrorKind::HttpStatus | ErrorKind::Throttled) {
                    assert!(records[0].error.as_ref().unwrap().status.is_some());
                }
            }
            None => {
                result.unwrap_or_else(|e| panic!("{fault}: {e:#}"));
                for r in &records {
                    assert_eq!(r.output_tokens.unwrap().count, 8, "{fault}");
                }
            }
        }
        let m =
            tokenpace_core::request_metrics::RequestMetrics::of(&records[0], &Default::default());
        match *fault {
            "stall_first" => assert!(m.ttft_s.unwrap() >= 0.3, "{m:?}"),
            "stall_mid" => assert!(
                m.longest_stall_s.unwrap() >= 0.29 && m.stalls == Some(1),
                "{m:?}"
            ),
            _ => {}
        }
    }
    sim.stop();
    let truth = truth(&truth_path);
    // Against the truth, not the count asked for: the server saw two
    // requests per fault, each with the fault it was asked for, and each is
    // one record (paired by the request id both logged).
    let by_request: std::collections::HashMap<&str, &tokenpace_sim::truth::RequestTruth> = truth
        .values()
        .map(|t| {
            (
                t.request_id
                    .as_deref()
                    .expect("every request carries an id"),
                t,
            )
        })
        .collect();
    assert_eq!(
        by_request.len(),
        2 * cases.len(),
        "the server saw each request once"
    );
    for (fault, _) in cases {
        let with = truth
            .values()
            .filter(|t| t.faults.iter().any(|f| f.kind.name() == *fault))
            .count();
        assert_eq!(with, 2, "{fault}: the server applied it to both requests");
    }
    // Split inside characters, CRLF, keep-alives, 64 KiB events, one byte at
    // a time: the characters counted are exactly those the server wrote.
    for (fault, r) in finished {
        let t = &truth[r.response_id.as_deref().unwrap()];
        let chars: u32 = t
            .chunks
            .iter()
            .filter(|c| c.kind == "content")
            .map(|c| c.chars)
            .sum();
        let cjk: u32 = t
            .chunks
            .iter()
            .filter(|c| c.kind == "content")
            .map(|c| c.cjk)
            .sum();
        assert_eq!(
            (r.output_chars, r.output_cjk_chars),
            (chars, cjk),
            "{fault}"
        );
        assert!(cjk > 0, "{fault}: the stream was Chinese");
    }
}

#[test]
fn the_api_key_is_checked_and_never_written() {
    let _serial = serial();
    let key = "sk-tokenpace-test-7f3a9c";
    let sim = sim(SimConfig {
        api_key: Some(key.into()),
        ..SimConfig::default()
    });
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (_, table) = bench(&[
        &sim.url(),
        "--requests",
        "3",
        "--max-tokens",
        "4",
        "--api-key",
        key,
        "--out",
        out,
    ])
    .unwrap();
    assert!(!table.contains(key));
    for file in ["requests.jsonl", "run.json"] {
        let text = std::fs::read_to_string(dir.path().join(file)).unwrap();
        assert!(!text.contains(key), "{file} contains the key");
    }
    // Without the key: model discovery fails first, with the fix.
    let err = format!("{:#}", bench(&[&sim.url(), "--requests", "1"]).unwrap_err());
    assert!(err.contains("API key is missing or wrong"), "{err}");
    // With a model name but a wrong key: every request fails with 401.
    let err = format!(
        "{:#}",
        bench(&[
            &sim.url(),
            "--requests",
            "2",
            "--model",
            "m",
            "--api-key",
            "wrong"
        ])
        .unwrap_err()
    );
    assert!(
        err.contains("all 2 requests failed") && err.contains("API key"),
        "{err}"
    );
    sim.stop();
}

#[test]
fn a_server_that_is_down_gets_one_clear_error() {
    let _serial = serial();
    // Bind and drop a listener to get a port nothing listens on.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let url = format!("http://127.0.0.1:{port}");
    let err = format!("{:#}", bench(&[&url, "--requests", "1"]).unwrap_err());
    assert!(err.contains("is the server running"), "{err}");
    let err = format!(
        "{:#}",
        bench(&[&url, "--requests", "2", "--model", "m"]).unwrap_err()
    );
    assert!(
        err.contains("all 2 requests failed") && err.contains("connect"),
        "{err}"
    );
    let err = format!("{:#}", bench(&["localhost:8000"]).unwrap_err());
    assert!(err.contains("not an http:// or https:// URL"), "{err}");
}

#[test]
fn a_run_against_every_fault_at_once_accounts_for_everything() {
    let _serial = serial();
    use tokenpace_sim::{FaultKind, FaultRule};
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let mut config = SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    };
    config.faults.inject = FaultKind::ALL
        .iter()
        .map(|&kind| FaultRule {
            kind,
            probability: Some(0.06),
            every: None,
        })
        .collect();
    let sim = sim(config);
    let out = dir.path().join("run");
    let (_, table) = bench(&[
        &sim.url(),
        "--concurrency",
        "10",
        "--requests",
        "120",
        "--max-tokens",
        "8",
        "--out",
        out.to_str().unwrap(),
        "--lang",
        "en",
    ])
    .unwrap();
    sim.stop();
    let records = records(&out);
    assert_eq!(records.len(), 120, "every request is accounted for");
    let truth = truth(&truth_path);
    // Nothing unclaimed either way: every request the server received is
    // one record and every record one request it received, paired by the
    // request id both logged (an HTTP error answer carries no response id).
    let by_request: std::collections::HashMap<&str, &tokenpace_sim::truth::RequestTruth> = truth
        .values()
        .map(|t| {
            (
                t.request_id
                    .as_deref()
                    .expect("every request carries an id"),
                t,
            )
        })
        .collect();
    assert_eq!(
        by_request.len(),
        120,
        "the server received each request once"
    );
    let (mut http, mut checked) = (0, 0);
    for r in &records {
        let kind = r.error.as_ref().map(|e| e.kind);
        let id = r.request_id.as_deref().expect("every record keeps its id");
        let t = by_request
            .get(id)
            .unwrap_or_else(|| panic!("{id} never reached the server"));
        if t.status >= 400 {
            // The simulator's 429 and 503 carry a Retry-After: throttled.
            let throttled = matches!(t.status, 429 | 503);
            let expected = [ErrorKind::HttpStatus, ErrorKind::Throttled][usize::from(throttled)];
            assert_eq!(kind, Some(expected), "{r:?}");
            assert_eq!(r.error.as_ref().unwrap().status, Some(t.status));
            http += 1;
            continue;
        }
        let has = |k: FaultKind| t.faults.iter().any(|f| f.kind == k);
        // The simulator applies mid-stream faults in this order.
        let expected = if has(FaultKind::Reset) || has(FaultKind::Truncate) {
            Some(ErrorKind::StreamCut)
        } else if has(FaultKind::MalformedJson) {
            Some(ErrorKind::MalformedEvent)
        } else if has(FaultKind::Overloaded) {
            // An error event mid-stream: the server says it failed.
            Some(ErrorKind::ServerError)
        } else {
            None
        };
        assert_eq!(kind, expected, "faults {:?}", t.faults);
        checked += 1;
    }
    let http_truth = truth.values().filter(|t| t.status >= 400).count();
    assert_eq!(
        http, http_truth,
        "one http_status or throttled record per error answer"
    );
    assert!(checked > 60 && http > 0, "checked {checked}, http {http}");
    assert!(table.contains("120 sent"), "{table}");
}

/// A server that resets a third of its connections does not grade A on the
/// speed of the answers it did give: failures count in the grade (the
/// `answered_pct` line), `--fail-below a` trips, and the summary says how
/// many users got no answer.
#[test]
fn failed_requests_count_in_the_grade() {
    let _serial = serial();
    let run = |faults: Vec<tokenpace_sim::FaultRule>| {
        let mut config = SimConfig::default();
        config.timing.prefill = 20_000.0;
        config.faults.inject = faults;
        let sim = sim(config);
        let args = [&sim.url(), "--requests", "30", "--concurrency", "3"];
        let args = [&args[..], &["--max-tokens", "16", "--fail-below", "a"]].concat();
        let (status, text) = bench(&[&args[..], &["--lang", "en"]].concat()).unwrap();
        // Other prompts, so the simulator's prefix cache serves none of them.
        let json_args = [&args[..], &["--format", "json", "--seed", "7"]].concat();
        let (_, json) = bench(&json_args).unwrap();
        sim.stop();
        let v: serde_json::Value = serde_json::from_str(&json).unwrap();
        (status, text, v)
    };
    // Every request answered: tier A, and the gate passes.
    let (status, text, v) = run(Vec::new());
    assert_eq!(status, tokenpace::Status::Ok, "{text}");
    assert_eq!(v["grade"]["overall"], "A", "{text}\n{v}");
    assert!(!text.contains("got no answer"), "{text}");
    // Every third connection reset: 10 of 30 unanswered, tier C.
    let (status, text, v) = run(vec!["reset:every=3".parse().unwrap()]);
    assert_eq!(status, tokenpace::Status::BelowTier, "{text}");
    assert_eq!(v["grade"]["overall"], "C", "{text}");
    let answered = v["grade"]["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .find(|m| m["metric"] == "answered_pct")
        .unwrap();
    assert_eq!(answered["tier"], "C", "{answered}");
    assert!(
        text.contains("10 of 30 requests got no answer (33.3 %)"),
        "{text}"
    );
    assert!(text.contains("requests answered"), "{text}");
}
