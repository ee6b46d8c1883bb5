//! Hosted providers' streams (`sim --dialect deepseek|openrouter|groq|
//! gemini|anthropic|openai-reasoning`, shapes in tests/data/dialects/README.md), measured
//! the way a hosted run is: `tokenpace bench URL` as a child process with
//! nothing but the provider's key in its environment, against a simulator
//! that requires that key and refuses any argument OpenAI's API does not
//! define. Every count is held against the simulator's truth: tokens,
//! answer and reasoning characters, chunks, and when the first token came.

use crate::bench_support::{records, serial, truth};
use crate::common::{fast_sim, Sim};
use std::path::Path;
use std::process::Command;
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokenpace_sim::config::{Dialect, SimConfig};
use tokenpace_sim::faults::{FaultKind, FaultRule};
use tokenpace_sim::truth::RequestTruth;

/// The key the simulator requires (never to appear in any output).
const KEY: &str = "sk-dialect-test-4f1c9e7a2b";

/// Every variable a key may come from: a run sees only the one it sets.
const KEY_VARS: [&str; 7] = [
    "TOKENPACE_API_KEY",
    "OPENAI_API_KEY",
    "ANTHROPIC_API_KEY",
    "DEEPSEEK_API_KEY",
    "GROQ_API_KEY",
    "OPENROUTER_API_KEY",
    "GEMINI_API_KEY",
];

/// A simulator speaking `dialect`, requiring [`KEY`], writing its truth.
fn start(dialect: Dialect, truth: &Path, faults: Vec<FaultRule>) -> Sim {
    let mut config: SimConfig = fast_sim();
    config.dialect = dialect;
    config.api_key = Some(KEY.into());
    config.truth = Some(truth.to_path_buf());
    config.faults.inject = faults;
    Sim::start(config)
}

/// `tokenpace bench URL args…` with [`KEY`] in `key_var` alone: its
/// stdout and stderr, which must not hold the key.
fn bench(url: &str, out: &Path, key_var: &str, args: &[&str]) -> (bool, String) {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenpace"));
    cmd.args(["bench", url, "--requests", "4", "--concurrency", "2"])
        .args([
            "--max-tokens",
            "24",
            "--prompt-tokens",
            "32",
            "--lang",
            "en",
        ])
        .args(["--timeout", "20", "--first-token-timeout", "20", "--out"])
        .arg(out)
        .args(args);
    for var in KEY_VARS {
        cmd.env_remove(var);
    }
    let output = cmd.env(key_var, KEY).output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(!text.contains(KEY), "the key was printed:\n{text}");
    (output.status.success(), text)
}

fn chars_of(t: &RequestTruth, kind: &str) -> u32 {
    t.chunks
        .iter()
        .filter(|c| c.kind == kind)
        .map(|c| c.chars)
        .sum()
}

/// Checks a completed record against the server's truth: the server's
/// counts, reasoning apart from the answer, and the first token's time
/// (client: arrival − sent; server: written − received) within `slack_ms`.
fn check(r: &RequestRecord, t: &RequestTruth, slack_ms: f64) {
    assert!(r.is_ok(), "record {}: {:?}", r.id, r.error);
    assert_eq!(
        u64::from(r.output_tokens.unwrap().count),
        t.completion_tokens
    );
    assert_eq!(r.prompt_tokens.unwrap().count as u64, t.prompt_tokens);
    assert_eq!(r.output_chars, chars_of(t, "content"), "answer chars");
    let reasoning: u32 = r.reasoning_chunks.iter().map(|c| c.chars).sum();
    assert_eq!(reasoning, chars_of(t, "reasoning"), "reasoning chars");
    assert_eq!(r.chunks.len() as u64, t.token_chunks);
    let first_server = t
        .chunks
        .iter()
        .find(|c| c.kind == "content" || c.kind == "reasoning")
        .expect("the server wrote a token");
    let server_ms = (first_server.written_ns - t.received_ns) as f64 / 1e6;
    let client_ms = (r.first_token_ns().unwrap() - r.sent_ns) as f64 / 1e6;
    assert!(
        (client_ms - server_ms).abs() < slack_ms,
        "TTFT {client_ms:.1} ms, the server's {server_ms:.1} ms"
    );
}

/// A hosted-style run of `dialect` with the key in `key_var`: every
/// record checked against the truth; the records and the truth.
fn run(
    dialect: Dialect,
    key_var: &str,
    args: &[&str],
    faults: Vec<FaultRule>,
) -> (
    Vec<RequestRecord>,
    std::collections::HashMap<String, RequestTruth>,
) {
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(dialect, &truth_path, faults);
    let out = dir.path().join("run");
    let (_, text) = bench(&sim.url(), &out, key_var, args);
    sim.stop();
    let recs = records(&out);
    assert_eq!(recs.len(), 4, "{text}");
    (recs, truth(&truth_path))
}

/// Loopback and a busy machine: the first token's stamp within this of
/// the server's write.
const SLACK_MS: f64 = 50.0;

#[test]
fn deepseek_reasoning_content_is_counted_apart_from_the_answer() {
    let _serial = serial();
    let (recs, truth) = run(Dialect::Deepseek, "OPENAI_API_KEY", &[], Vec::new());
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        check(r, t, SLACK_MS);
        assert!(t.reasoning_tokens > 0, "{t:?}");
        assert_eq!(r.reasoning_tokens.map(u64::from), Some(t.reasoning_tokens));
    }
}

#[test]
fn openrouter_processing_comments_leave_counts_and_timing_alone() {
    let _serial = serial();
    let (recs, truth) = run(Dialect::Openrouter, "OPENAI_API_KEY", &[], Vec::new());
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        check(r, t, SLACK_MS);
        let comments = t.chunks.iter().filter(|c| c.kind == "comment").count();
        assert!(comments >= 2, "before and among the chunks: {t:?}");
    }
}

#[test]
fn groq_usage_in_x_groq_is_the_count() {
    let _serial = serial();
    let (recs, truth) = run(Dialect::Groq, "OPENAI_API_KEY", &[], Vec::new());
    for r in &recs {
        check(r, &truth[r.response_id.as_deref().unwrap()], SLACK_MS);
        assert_eq!(
            r.output_tokens.unwrap().source,
            tokenpace_core::record::CountSource::ServerUsage
        );
    }
}

#[test]
fn gemini_usage_on_the_last_chunk_is_the_count() {
    let _serial = serial();
    let (recs, truth) = run(Dialect::Gemini, "OPENAI_API_KEY", &[], Vec::new());
    for r in &recs {
        check(r, &truth[r.response_id.as_deref().unwrap()], SLACK_MS);
    }
}

#[test]
fn anthropic_thinking_is_reasoning_and_overloaded_midstream_is_an_error() {
    let _serial = serial();
    let every_other = FaultRule {
        kind: FaultKind::Overloaded,
        probability: None,
        every: Some(2),
    };
    let (recs, truth) = run(
        Dialect::Anthropic,
        "ANTHROPIC_API_KEY",
        &["--backend", "anthropic"],
        vec![every_other],
    );
    let (mut ok, mut overloaded) = (0, 0);
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        if t.outcome == "overloaded" {
            let e = r.error.as_ref().expect("an overloaded stream fails");
            assert_eq!(e.kind, ErrorKind::ServerError);
            assert!(e.message.contains("Overloaded"), "{e:?}");
            overloaded += 1;
        } else {
            check(r, t, SLACK_MS);
            assert!(chars_of(t, "reasoning") > 0, "{t:?}");
            ok += 1;
        }
    }
    // Every other request the server received: both kinds were seen.
    assert!(
        ok >= 1 && overloaded >= 1,
        "{ok} ok, {overloaded} overloaded"
    );
}

#[test]
fn openai_reasoning_summary_is_reasoning_and_its_count_the_servers() {
    let _serial = serial();
    let (recs, truth) = run(
        Dialect::OpenaiReasoning,
        "OPENAI_API_KEY",
        &["--backend", "responses"],
        Vec::new(),
    );
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        check(r, t, SLACK_MS);
        assert!(t.reasoning_tokens > 0, "{t:?}");
        assert_eq!(r.reasoning_tokens.map(u64::from), Some(t.reasoning_tokens));
    }
}
