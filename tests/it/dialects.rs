//! What a real vLLM taught (docs/tested-against.md), held against the
//! simulator's ground truth so the fast tests keep it without vLLM: tool
//! calls that end before generation does, several tokens per chunk,
//! Anthropic's cache accounting, Responses' `completed` with an
//! `incomplete` status, and vLLM's byte shapes (`--dialect vllm`).

use crate::bench_support::{bench, records, serial, truth};
use crate::common::{fast_sim, Sim};
use std::path::Path;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::request_metrics::{MetricOptions, RequestMetrics};
use tokenpace_sim::config::{Dialect, SimConfig};

const DECODE: f64 = 100.0;

/// A simulator decoding at [`DECODE`] tok/s, writing its truth to `truth`.
fn start(truth: &Path, edit: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut config = fast_sim();
    config.timing.decode = DECODE;
    config.truth = Some(truth.to_path_buf());
    edit(&mut config);
    Sim::start(config)
}

/// `bench URL args… --out DIR/run --lang en`: the table and the records.
fn run(sim: &Sim, dir: &Path, args: &[&str]) -> (String, Vec<RequestRecord>) {
    let url = sim.url();
    let out = dir.join("run");
    let mut all = vec![url.as_str(), "--lang", "en", "--out", out.to_str().unwrap()];
    all.extend_from_slice(args);
    let (_, text) = bench(&all).unwrap();
    (text, records(&out))
}

fn decode(r: &RequestRecord) -> f64 {
    RequestMetrics::of(r, &MetricOptions::default())
        .decode_tok_s
        .expect("decode measured")
}

/// vLLM's tool parser streamed a few deltas for 64 tokens and went on
/// generating unseen: decode is the server's count over the time to the
/// finish event, the simulator's own rate, not the deltas' burst.
#[test]
fn a_tool_call_that_ends_before_generation_does_decodes_at_the_servers_rate() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |c| c.tools.argument_tokens = 4);
    let (_, recs) = run(
        &sim,
        dir.path(),
        &[
            "--agent-steps",
            "2",
            "--tool-choice",
            "required",
            "--concurrency",
            "1",
            "--requests",
            "2",
            "--max-tokens",
            "40",
        ],
    );
    sim.stop();
    let truth = truth(&truth_path);
    let calls: Vec<&RequestRecord> = recs.iter().filter(|r| r.tool_calls > 0).collect();
    assert!(!calls.is_empty(), "{recs:?}");
    for r in calls {
        let t = &truth[r.response_id.as_deref().unwrap()];
        assert_eq!(
            u64::from(r.output_tokens.unwrap().count),
            t.completion_tokens
        );
        assert!(u64::from(r.streamed_tokens()) < t.completion_tokens);
        let d = decode(r);
        assert!(
            (d - DECODE).abs() < 0.1 * DECODE,
            "decode {d:.1} tok/s, the simulator's {DECODE}"
        );
    }
}

/// Chinese held back to whole characters: two tokens a chunk. The counts
/// are the server's, decode its rate, and the run says inter-token latency
/// is per chunk.
#[test]
fn several_tokens_per_chunk_are_counted_and_said() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |c| {
        c.text.lang = tokenpace_corpus::TextLang::Zh;
        c.text.utf8_hold_back = true;
    });
    let (text, recs) = run(
        &sim,
        dir.path(),
        &[
            "--concurrency",
            "2",
            "--requests",
            "4",
            "--max-tokens",
            "32",
        ],
    );
    sim.stop();
    let truth = truth(&truth_path);
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        assert_eq!(
            u64::from(r.output_tokens.unwrap().count),
            t.completion_tokens
        );
        assert_eq!(r.chunks.len() as u64, t.token_chunks);
        assert!(t.token_chunks < t.completion_tokens, "{t:?}");
        let d = decode(r);
        assert!((d - DECODE).abs() < 0.1 * DECODE, "decode {d:.1} tok/s");
    }
    assert!(
        text.contains("tokens in") && text.contains("inter-token latency is per chunk"),
        "{text}"
    );
}

/// Anthropic's `input_tokens` leaves out what the cache served and what it
/// stored: the prompt is all three, and the cached part what was read.
#[test]
fn anthropic_prompts_count_cache_reads_and_writes() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |_| {});
    let (_, recs) = run(
        &sim,
        dir.path(),
        &[
            "--backend",
            "anthropic",
            "--turns",
            "3",
            "--think-time",
            "0",
            "--concurrency",
            "2",
            "--requests",
            "2",
            "--prompt-tokens",
            "300",
            "--max-tokens",
            "16",
        ],
    );
    sim.stop();
    let truth = truth(&truth_path);
    let (mut read, mut created) = (0, 0);
    for r in &recs {
        let t = &truth[r.response_id.as_deref().unwrap()];
        assert_eq!(u64::from(r.prompt_tokens.unwrap().count), t.prompt_tokens);
        assert_eq!(r.cached_tokens.map(u64::from), t.cached_tokens.or(Some(0)));
        read += t.cached_tokens.unwrap_or(0);
        created += t.created_cache_tokens.unwrap_or(0);
    }
    assert!(read > 0 && created > 0, "read {read}, created {created}");
}

/// vLLM's shapes (`--dialect vllm`) on every API: counts equal the truth;
/// a Responses answer cut at `max_output_tokens` comes as `completed`
/// with status `incomplete`, which is a `length` finish.
#[test]
fn vllms_shapes_parse_on_every_api() {
    let _serial = serial();
    for backend in [
        "openai-chat",
        "openai-completions",
        "responses",
        "anthropic",
    ] {
        let dir = tempfile::tempdir().unwrap();
        let truth_path = dir.path().join("truth.jsonl");
        let sim = start(&truth_path, |c| c.dialect = Dialect::Vllm);
        let (_, recs) = run(
            &sim,
            dir.path(),
            &[
                "--backend",
                backend,
                "--concurrency",
                "2",
                "--requests",
                "4",
                "--max-tokens",
                "12",
            ],
        );
        sim.stop();
        let truth = truth(&truth_path);
        assert_eq!(recs.len(), 4, "{backend}");
        for r in &recs {
            assert!(r.is_ok(), "{backend}: {:?}", r.error);
            let t = &truth[r.response_id.as_deref().unwrap()];
            assert_eq!(
                u64::from(r.output_tokens.unwrap().count),
                t.completion_tokens,
                "{backend}"
            );
            assert_eq!(
                u64::from(r.prompt_tokens.unwrap().count),
                t.prompt_tokens,
                "{backend}"
            );
            assert_eq!(r.finish_reason.as_deref(), Some("length"), "{backend}");
            assert_eq!(
                t.finish_reason
                    .as_deref()
                    .map(|f| f == "length" || f == "max_tokens" || f == "max_output_tokens"),
                Some(true),
                "{backend}: {:?}",
                t.finish_reason
            );
        }
    }
}
