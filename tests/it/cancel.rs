//! Users who leave (`bench --cancel-after`): the client closes the stream
//! where the user stops reading, the record says so without calling it an
//! error, and the server sees the connection go (the simulator's truth logs
//! `client_gone` and stops generating).

use crate::bench_support::{bench_against_truth, serial};
use std::time::Duration;
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokenpace_sim::truth::RequestTruth;

fn run(extra: &[&str]) -> (String, Vec<RequestRecord>, Vec<RequestTruth>) {
    let (table, records, truth) = try_run(extra);
    (table.unwrap(), records, truth)
}

/// `bench` with `extra` against the simulator: its table (or error), the
/// records and the simulator's truth.
fn try_run(
    extra: &[&str],
) -> (
    Result<String, String>,
    Vec<RequestRecord>,
    Vec<RequestTruth>,
) {
    let mut args = vec![
        "--concurrency",
        "4",
        "--requests",
        "12",
        "--max-tokens",
        "60",
        "--lang",
        "en",
    ];
    args.extend_from_slice(extra);
    // Let the simulator notice the last closed connections.
    let (table, records, truth) = bench_against_truth(&args, Duration::from_millis(300));
    (table, records, truth.into_values().collect())
}

#[test]
fn a_user_who_stops_reading_after_n_tokens_closes_the_stream_there() {
    let _serial = serial();
    let (table, records, truth) = run(&["--cancel-after", "5"]);
    assert_eq!(records.len(), 12);
    for r in &records {
        assert!(r.is_ok(), "{:?}", r.error);
        assert_eq!(r.chunks.len(), 5, "read exactly 5 tokens");
        // Closed as soon as the 5th token was read.
        assert_eq!(r.left_ns, r.end_ns);
        let (left, fifth) = (r.left_ns.unwrap(), r.chunks[4].at_ns);
        assert!(
            left >= fifth && left - fifth < 5_000_000,
            "{left} vs {fifth}"
        );
    }
    assert!(
        table.contains("12 of the 12 answered users left by design"),
        "{table}"
    );
    assert!(table.contains("12 sent, 12 ok, 0 failed"), "{table}");
    // The server saw every stream closed, and stopped generating: far
    // fewer than the 60 tokens asked for (5 read, a few in flight).
    assert_eq!(truth.len(), 12);
    for t in &truth {
        assert_eq!(t.outcome, "client_gone", "{}", t.id);
        assert!(
            t.completion_tokens < 30,
            "{}: {}",
            t.id,
            t.completion_tokens
        );
    }
}

#[test]
fn a_share_of_users_leave_and_the_rest_read_to_the_end() {
    let _serial = serial();
    let (_, records, truth) = run(&["--cancel-after", "3..6", "--cancel-share", "0.5"]);
    let left: Vec<&RequestRecord> = records.iter().filter(|r| r.left_ns.is_some()).collect();
    assert!(
        (2..=10).contains(&left.len()),
        "about half of 12 leave: {}",
        left.len()
    );
    for r in &left {
        assert!((3..=6).contains(&r.chunks.len()), "{}", r.chunks.len());
    }
    for r in records.iter().filter(|r| r.left_ns.is_none()) {
        assert!(r.is_ok());
        assert_eq!(r.output_tokens.unwrap().count, 60);
    }
    let gone = truth.iter().filter(|t| t.outcome == "client_gone").count();
    assert_eq!(gone, left.len());
}

#[test]
fn a_user_who_gives_up_before_the_first_token_got_no_answer() {
    let _serial = serial();
    // The simulator's first token comes after 30 ms; these users wait 5 ms.
    let (table, records, _) = try_run(&["--cancel-after", "5ms"]);
    assert_eq!(records.len(), 12);
    for r in &records {
        let e = r.error.as_ref().expect("no token: not an answer");
        assert_eq!(e.kind, ErrorKind::Abandoned);
        assert!(r.chunks.is_empty());
    }
    let e = table.unwrap_err();
    assert!(
        e.contains("all 12 requests failed") && e.contains("abandoned"),
        "{e}"
    );
}
