//! Sessions, prefix caches and agent loops end to end: `bench` against the
//! simulator, every record joined with the simulator's ground truth.

use crate::bench_support::{bench, records, serial, truth};
use crate::common::{fast_sim, Sim};
use std::collections::BTreeMap;
use tokenpace::Status;
use tokenpace_core::record::ErrorKind;

/// The simulator's timing for these tests: 40 ms fixed, 4000 tok/s prefill,
/// so the uncached part of a turn is a visible share of its TTFT.
fn sim(truth: &std::path::Path) -> Sim {
    let mut config = fast_sim();
    config.timing.ttft_ms = 40.0;
    config.timing.prefill = 4000.0;
    config.timing.decode = 400.0;
    config.truth = Some(truth.to_path_buf());
    Sim::start(config)
}

#[test]
fn later_turns_hit_the_cache_exactly_as_the_simulator_records() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = sim(&truth_path);
    let out = dir.path().join("run");
    let url = sim.url();
    let (status, _) = bench(&[
        &url,
        "--turns",
        "5",
        "--concurrency",
        "1",
        "--requests",
        "5",
        "--prompt-tokens",
        "200",
        "--max-tokens",
        "40",
        "--shared-prefix",
        "300",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    sim.stop();
    assert_eq!(status, Status::Ok);
    let recs = records(&out);
    let truth = truth(&truth_path);
    assert_eq!(
        recs.len(),
        25,
        "5 sessions × 5 turns, every one accounted for"
    );
    let mut by_turn: BTreeMap<u32, Vec<f64>> = BTreeMap::new();
    for r in &recs {
        assert!(r.is_ok(), "{:?}", r.error);
        let t = &truth[r.response_id.as_deref().unwrap()];
        assert_eq!(
            r.cached_tokens.map(u64::from),
            t.cached_tokens,
            "request {} reports what the simulator served from its cache",
            r.id
        );
        assert_eq!(r.prompt_tokens.unwrap().count as u64, t.prompt_tokens);
        let cached = t.cached_tokens.unwrap();
        let turn = r.turn.unwrap().turn;
        if turn > 0 {
            // The whole history but the last user message and the tail of a
            // block was cached.
            assert!(
                cached * 10 >= t.prompt_tokens * 6,
                "turn {turn}: {cached} of {} cached",
                t.prompt_tokens
            );
        }
        // TTFT against the timing model's prediction for the uncached part
        // (one user at a time: no queue).
        let uncached = (t.prompt_tokens - cached) as f64;
        let predicted = 0.040 + uncached / 4000.0;
        let ttft = (r.first_token_ns().unwrap() - r.sent_ns) as f64 / 1e9;
        // A write the simulator made late (its truth says so) is the
        // loaded machine's error, not the timing model's: left out.
        let first = t.chunks.iter().find(|c| c.tokens > 0).unwrap();
        let late_ms = (first.written_ns - first.deadline_ns.unwrap()) as f64 / 1e6;
        if late_ms > 2.0 {
            continue;
        }
        by_turn
            .entry(turn)
            .or_default()
            .push((ttft - predicted) / predicted);
    }
    // The median over sessions: one late wake-up of a loaded machine's
    // scheduler is not the model's error.
    assert_eq!(by_turn.len(), 5, "every turn has on-time requests");
    for (turn, mut errors) in by_turn {
        errors.sort_by(f64::total_cmp);
        let median = errors[errors.len() / 2];
        assert!(
            median.abs() <= 0.05,
            "turn {turn}: TTFT {:+.1} % from the simulator's model ({errors:?})",
            median * 100.0
        );
    }
}

#[test]
fn the_session_header_reaches_the_server_once_per_session() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = sim(&truth_path);
    let out = dir.path().join("run");
    let url = sim.url();
    let (status, _) = bench(&[
        &url,
        "--turns",
        "2..4",
        "--think-time",
        "20ms",
        "--concurrency",
        "3",
        "--requests",
        "6",
        "--max-tokens",
        "8",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    sim.stop();
    assert_eq!(status, Status::Ok);
    let recs = records(&out);
    let truth = truth(&truth_path);
    let mut sessions: BTreeMap<u64, Vec<(u32, String)>> = BTreeMap::new();
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        let header = t.session.clone().expect("the session header arrived");
        let turn = r.turn.unwrap();
        sessions
            .entry(turn.session)
            .or_default()
            .push((turn.turn, header));
    }
    assert_eq!(sessions.len(), 6);
    let mut ids: Vec<String> = Vec::new();
    for (k, mut turns) in sessions {
        turns.sort();
        assert!((2..=4).contains(&turns.len()), "session {k}: {turns:?}");
        for (i, (turn, header)) in turns.iter().enumerate() {
            assert_eq!(*turn as usize, i, "session {k}: turns in order, none lost");
            assert_eq!(header, &turns[0].1, "one id per session");
        }
        ids.push(turns[0].1.clone());
    }
    let n = ids.len();
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), n, "each session has its own id");
}

/// Each run's prompts are its own (a salt per run): a second run with the
/// same seed finds nothing of the first in the server's cache.
#[test]
fn a_second_run_with_the_same_seed_is_not_primed_by_the_first() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let sim = sim(&dir.path().join("truth.jsonl"));
    let url = sim.url();
    let args = [
        url.as_str(),
        "--concurrency",
        "2",
        "--requests",
        "6",
        "--prompt-tokens",
        "300",
        "--max-tokens",
        "8",
    ];
    let (_, first) = bench(&args).unwrap();
    let (_, second) = bench(&args).unwrap();
    sim.stop();
    assert!(!first.contains("prefix cache"), "{first}");
    assert!(!second.contains("prefix cache"), "{second}");
}

#[test]
fn an_agent_loop_is_accounted_for_step_by_step_with_tool_timings_from_truth() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = sim(&truth_path);
    let out = dir.path().join("run");
    let url = sim.url();
    let (status, _) = bench(&[
        &url,
        "--agent-steps",
        "3",
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "24",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    sim.stop();
    assert_eq!(status, Status::Ok);
    let recs = records(&out);
    let truth = truth(&truth_path);
    assert_eq!(recs.len(), 12, "4 tasks × 3 steps");
    for r in &recs {
        assert!(r.is_ok(), "{:?}", r.error);
        let t = &truth[r.response_id.as_deref().unwrap()];
        let step = r.turn.unwrap().turn;
        if step < 2 {
            assert_eq!(r.tool_calls, 1, "step {step} calls the tool");
            // The first tool-call chunk: the server's write time and the
            // client's arrival time, both from the request's start.
            let client = (r.first_tool_ns().unwrap() - r.sent_ns) as f64 / 1e6;
            let call = t.tool_call.as_ref().expect("the truth has the call");
            let server = (call.first_chunk_ns.unwrap() - t.received_ns) as f64 / 1e6;
            assert!(
                (client - server).abs() <= 1.0,
                "time to first tool-call token {client:.3} ms vs truth {server:.3} ms"
            );
            // The client counts the name's characters too.
            assert_eq!(
                u64::from(r.tool_chars()),
                call.argument_chars + call.name.chars().count() as u64
            );
        } else {
            assert_eq!(r.tool_calls, 0, "the last step answers in text");
            assert!(r.output_chars > 0);
        }
    }
    // The gaps between a task's steps and the task's whole time, as the
    // client saw them and as the server did (its receive stamps and its
    // last writes): the same to a millisecond.
    let mut tasks: BTreeMap<u64, Vec<&tokenpace_core::record::RequestRecord>> = BTreeMap::new();
    for r in &recs {
        tasks.entry(r.turn.unwrap().session).or_default().push(r);
    }
    let at = |r: &tokenpace_core::record::RequestRecord| {
        let t = &truth[r.response_id.as_deref().unwrap()];
        (t.arrived_ns.unwrap_or(t.received_ns), t.end_ns)
    };
    for steps in tasks.values_mut() {
        steps.sort_by_key(|r| r.turn.unwrap().turn);
        for pair in steps.windows(2) {
            // Signed: with no tool time the next step can reach the
            // server before it stamps the end of the last write.
            let client = (pair[1].sent_ns as f64 - pair[0].end_ns.unwrap() as f64) / 1e6;
            let server = (at(pair[1]).0 as f64 - at(pair[0]).1 as f64) / 1e6;
            assert!(
                (client - server).abs() <= 1.0,
                "gap between steps: client {client:.3} ms, server {server:.3} ms"
            );
        }
        let (first, last) = (steps[0], steps[steps.len() - 1]);
        let client = (last.end_ns.unwrap() - first.sent_ns) as f64 / 1e6;
        let server = (at(last).1 - at(first).0) as f64 / 1e6;
        assert!(
            (client - server).abs() <= 1.0,
            "task time: client {client:.3} ms, server {server:.3} ms"
        );
    }
}

#[test]
fn broken_tool_arguments_are_a_named_error_and_nothing_is_lost() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut config = fast_sim();
    config.faults.inject = vec!["bad_tool_args".parse().unwrap()];
    let sim = Sim::start(config);
    let out = dir.path().join("run");
    let url = sim.url();
    let result = bench(&[
        &url,
        "--agent-steps",
        "3",
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "16",
        "--out",
        out.to_str().unwrap(),
    ]);
    sim.stop();
    let recs = records(&out);
    assert_eq!(
        recs.len(),
        4,
        "each task's first step fails, and ends the task"
    );
    for r in &recs {
        assert_eq!(r.error.as_ref().unwrap().kind, ErrorKind::BadToolCall);
    }
    let e = format!("{:#}", result.unwrap_err());
    assert!(e.contains("bad_tool_call") || e.contains("not JSON"), "{e}");
}

#[test]
fn an_agent_whose_model_answers_in_text_says_so() {
    let _guard = serial();
    let dir = tempfile::tempdir().unwrap();
    let mut config = fast_sim();
    // The model never calls the tool it is offered.
    config.tools.call_share = 0.0;
    let sim = Sim::start(config);
    let out = dir.path().join("run");
    let url = sim.url();
    let (_, text) = bench(&[
        &url,
        "--agent-steps",
        "3",
        "--concurrency",
        "2",
        "--requests",
        "4",
        "--max-tokens",
        "16",
        "--tool-choice",
        "auto",
        "--lang",
        "en",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    sim.stop();
    assert_eq!(records(&out).len(), 4, "each task ends at its first step");
    assert!(
        text.contains(
            "4 of 4 tasks ended before step 3 (--agent-steps): the model answered in text"
        ),
        "{text}"
    );
}
