//! The Anthropic Messages and OpenAI Responses backends against the
//! simulator's routes for them: every metric equal to the simulator's
//! ground truth, every fault ending as the right record, the API key sent
//! the API's way and never written, and agent loops whose tool calls and
//! results travel in each API's own shapes.

use crate::bench_support::{bench, records, serial, sim, truth};
use tokenpace_core::record::ErrorKind;
use tokenpace_sim::config::SimConfig;

const BACKENDS: [&str; 2] = ["anthropic", "responses"];

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn ttft_and_itl_equal_the_simulators_truth() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let key = "sk-protocols-test-91c2e7";
    let sim = sim(SimConfig {
        truth: Some(truth_path.clone()),
        api_key: Some(key.into()),
        ..SimConfig::default()
    });
    let mut runs = Vec::new();
    for backend in BACKENDS {
        let out = dir.path().join(backend);
        let (_, table) = bench(&[
            &sim.url(),
            "--backend",
            backend,
            "--api-key",
            key,
            "--concurrency",
            "4",
            "--requests",
            "12",
            "--max-tokens",
            "24",
            "--prompt-tokens",
            "64",
            "--out",
            out.to_str().unwrap(),
            "--lang",
            "en",
        ])
        .unwrap_or_else(|e| panic!("{backend}: {e:#}"));
        assert!(
            table.contains("12 sent, 12 ok, 0 failed"),
            "{backend}: {table}"
        );
        assert!(!table.contains(key), "{backend}: the key was printed");
        for file in ["requests.jsonl", "run.json"] {
            let text = std::fs::read_to_string(out.join(file)).unwrap();
            assert!(!text.contains(key), "{backend}: {file} holds the key");
        }
        runs.push((backend, records(&out)));
    }
    sim.stop();
    let truth = truth(&truth_path);
    for (backend, records) in runs {
        assert_eq!(records.len(), 12, "{backend}");
        let (mut ttft_error, mut itl_error) = (Vec::new(), Vec::new());
        for r in &records {
            let id = r.response_id.as_deref().expect("the sim sends an id");
            let t = &truth[id];
            let content: Vec<_> = t.chunks.iter().filter(|c| c.kind == "content").collect();
            assert_eq!(
                r.output_tokens.unwrap().count as u64,
                t.completion_tokens,
                "{backend}"
            );
            assert_eq!(r.chunks.len(), content.len(), "{backend}");
            assert_eq!(r.output_chars, content.iter().map(|c| c.chars).sum::<u32>());
            assert_eq!(
                r.prompt_tokens.unwrap().count as u64,
                t.prompt_tokens,
                "{backend}"
            );
            for (c, tc) in r.chunks.iter().zip(&content) {
                assert_eq!((c.chars, c.tokens), (tc.chars, tc.tokens), "{backend}");
            }
            // The opening events (message_start, response.created) came a
            // TTFT before the first token and are not it.
            let start = t
                .chunks
                .iter()
                .find(|c| c.kind == "start")
                .expect("opening events");
            assert!(start.written_ns < content[0].written_ns);
            assert!(r.first_event_ns.unwrap() < r.chunks[0].at_ns, "{backend}");
            // Client and server clocks differ by their origins: compare
            // spans, from sending (client) and arrival (server) to the
            // first token.
            let client_ttft = (r.chunks[0].at_ns - r.sent_ns) as f64 / 1e6;
            let server_ttft = (content[0].written_ns - t.received_ns) as f64 / 1e6;
            ttft_error.push(client_ttft - server_ttft);
            for (w, tw) in r.chunks.windows(2).zip(content.windows(2)) {
                let client = (w[1].at_ns - w[0].at_ns) as f64 / 1e6;
                let server = (tw[1].written_ns - tw[0].written_ns) as f64 / 1e6;
                itl_error.push((client - server).abs());
            }
        }
        // Within 1 ms of the truth (the median: a preempted thread on a
        // busy machine may stamp one write late).
        let (ttft, itl) = (median(ttft_error.clone()), median(itl_error.clone()));
        eprintln!("{backend}: median TTFT error {ttft:.3} ms, median ITL error {itl:.3} ms");
        assert!(ttft.abs() < 1.0, "{backend}: TTFT error {ttft_error:?}");
        assert!(itl < 1.0, "{backend}: ITL error {itl_error:?}");
    }
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
    let cases: &[(&str, Option<ErrorKind>)] = &[
        ("split", None),
        ("reset", Some(ErrorKind::StreamCut)),
        ("malformed_json", Some(ErrorKind::MalformedEvent)),
        ("truncate", Some(ErrorKind::StreamCut)),
        // The simulator's 503 carries a Retry-After: throttled.
        ("http_503", Some(ErrorKind::Throttled)),
        ("keep_alive", None),
        ("crlf", None),
        ("long_event", None),
    ];
    let mut finished = Vec::new();
    for backend in BACKENDS {
        for (fault, expected) in cases {
            let dir = tempfile::tempdir().unwrap();
            let header = format!("x-tokenpace-fault:{fault}");
            let result = bench(&[
                &sim.url(),
                "--backend",
                backend,
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
            assert_eq!(
                records.len(),
                2,
                "{backend} {fault}: every request is accounted for"
            );
            for r in &records {
                let kind = r.error.as_ref().map(|e| e.kind);
                assert_eq!(kind, *expected, "{backend} {fault}: {r:?}");
            }
            match expected {
                Some(_) => assert!(result.is_err(), "{backend} {fault}"),
                None => {
                    result.unwrap_or_else(|e| panic!("{backend} {fault}: {e:#}"));
                    for r in &records {
                        assert_eq!(r.output_tokens.unwrap().count, 8, "{backend} {fault}");
                    }
                    finished.extend(records.into_iter().map(|r| (backend, fault, r)));
                }
            }
        }
    }
    sim.stop();
    // Split inside characters, CRLF, pings, 64 KiB events: the characters
    // counted are exactly those the server wrote, and the truth saw the
    // fault.
    let truth = truth(&truth_path);
    for (backend, fault, r) in finished {
        let t = &truth[r.response_id.as_deref().unwrap()];
        assert!(
            t.faults.iter().any(|f| f.kind.name() == *fault),
            "{backend} {fault}"
        );
        let content = t.chunks.iter().filter(|c| c.kind == "content");
        let (chars, cjk) = content.fold((0, 0), |(a, b), c| (a + c.chars, b + c.cjk));
        assert_eq!(
            (r.output_chars, r.output_cjk_chars),
            (chars, cjk),
            "{backend} {fault}"
        );
        assert!(cjk > 0, "{backend} {fault}: the stream was Chinese");
    }
}

#[test]
fn agent_loops_carry_tool_calls_and_results_in_each_apis_shapes() {
    let _serial = serial();
    let sim = sim(SimConfig::default());
    for backend in BACKENDS {
        let dir = tempfile::tempdir().unwrap();
        let (_, table) = bench(&[
            &sim.url(),
            "--backend",
            backend,
            "--agent-steps",
            "3",
            "--tool-choice",
            "required",
            "--tool-result-tokens",
            "20",
            "--requests",
            "2",
            "--max-tokens",
            "8",
            "--prompt-tokens",
            "16",
            "--out",
            dir.path().to_str().unwrap(),
        ])
        .unwrap_or_else(|e| panic!("{backend}: {e:#}"));
        let records = records(dir.path());
        assert_eq!(records.len(), 6, "{backend}: {table}");
        for r in &records {
            assert!(r.is_ok(), "{backend}: {r:?}");
            let step = r.turn.as_ref().unwrap().turn;
            // Steps before the last call the tool; the last answers in text.
            if step < 2 {
                assert_eq!(
                    (r.tool_calls, r.chunks.len()),
                    (1, 0),
                    "{backend} step {step}"
                );
                assert!(!r.tool_chunks.is_empty());
            } else {
                assert_eq!(r.tool_calls, 0, "{backend} step {step}");
                assert!(!r.chunks.is_empty());
            }
        }
        // Each step's prompt holds the calls and results before it.
        let prompt = |step: u32| {
            let r = records
                .iter()
                .find(|r| r.turn.as_ref().unwrap().turn == step)
                .unwrap();
            r.prompt_tokens.unwrap().count
        };
        assert!(prompt(0) < prompt(1) && prompt(1) < prompt(2), "{backend}");
    }
    sim.stop();
}
