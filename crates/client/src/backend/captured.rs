//! Parser tests on streams captured from a real vLLM 0.32.0 (CPU, serving
//! SmolLM2-135M; `tests/data/captures/vllm-0.32-cpu/README.md`). The bytes
//! are the server's, kept verbatim: where they disagree with the simulator
//! or a hand-written fixture, they win. Each stream is read through the SSE
//! parser and the recorder, its events stamped by a timing the test gives
//! (the captures hold bytes, not times).

use super::anthropic::Anthropic;
use super::openai::{OpenAiChat, OpenAiCompletions};
use super::responses::Responses;
use super::Backend;
use crate::recorder::{Recorder, StreamEnd};
use crate::sse::{SseItem, SseParser};
use tokenpace_core::record::{CountSource, ErrorKind, Nanos, RequestRecord};
use tokenpace_core::request_metrics::{itl_samples, MetricOptions, RequestMetrics};

const MS: Nanos = 1_000_000;

/// The captured file `name`.
fn capture(name: &str) -> Vec<u8> {
    let path = format!(
        "{}/../../tests/data/captures/vllm-0.32-cpu/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The data of every event of an SSE body, in order.
pub(super) fn events(body: &[u8]) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    let mut parser = SseParser::new();
    parser.feed(body, |item| {
        if let SseItem::Data(d) = item {
            out.push(d.to_vec());
        }
    });
    parser.finish(|item| {
        if let SseItem::Data(d) = item {
            out.push(d.to_vec());
        }
    });
    out
}

/// The record of `events` sent at 0, event `i` stamped `at(i)`.
pub(super) fn replay(
    backend: &dyn Backend,
    events: &[Vec<u8>],
    at: impl Fn(usize) -> Nanos,
) -> RequestRecord {
    let timed: Vec<(Nanos, &[u8])> = events
        .iter()
        .enumerate()
        .map(|(i, e)| (at(i), e.as_slice()))
        .collect();
    replay_timed(backend, &timed)
}

/// The record of events arriving at the times given, sent at 0.
fn replay_timed(backend: &dyn Backend, events: &[(Nanos, &[u8])]) -> RequestRecord {
    let mut rec = Recorder::new(0, 0, 0, None);
    rec.keep_transcript();
    let mut last = 0;
    for &(at, data) in events {
        last = at;
        if let Some(end) = rec.event(at, data, backend) {
            return rec.finish(at, end);
        }
    }
    rec.finish_with_transcript(last + 1, StreamEnd::Complete).0
}

/// Event `i` at 100 ms + 10 ms × i.
pub(super) fn steady(i: usize) -> Nanos {
    100 * MS + i as Nanos * 10 * MS
}

/// The events of `all` that `keep` keeps, each at its steady time in the
/// whole stream: those left out were held back by the server.
fn held_back(all: &[Vec<u8>], keep: impl Fn(usize) -> bool) -> Vec<(Nanos, &[u8])> {
    all.iter()
        .enumerate()
        .filter(|(i, _)| keep(*i))
        .map(|(i, e)| (steady(i), e.as_slice()))
        .collect()
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

fn metrics(r: &RequestRecord) -> RequestMetrics {
    RequestMetrics::of(r, &MetricOptions::default())
}

#[test]
fn chat_counts_match_the_servers_usage() {
    let r = replay(&OpenAiChat, &events(&capture("chat.sse.txt")), steady);
    assert!(r.is_ok(), "{:?}", r.error);
    // vLLM names the response after the X-Request-ID it was sent.
    assert_eq!(r.response_id.as_deref(), Some("chatcmpl-capture-chat"));
    // 16 tokens in 16 chunks; the role-only first event ("content": "")
    // and the usage chunk (`choices: []`) carry none.
    assert_eq!(r.chunks.len(), 16);
    let out = r.output_tokens.unwrap();
    assert_eq!((out.count, out.source), (16, CountSource::ServerUsage));
    assert_eq!(r.prompt_tokens.unwrap().count, 37);
    assert_eq!(r.cached_tokens, Some(0));
    let text = "The USS Kassim, launched in 1884, carried a";
    assert_eq!(r.output_chars as usize, text.chars().count());
    // One token per chunk, 10 ms apart: 100 tok/s.
    let d = metrics(&r).decode_tok_s.unwrap();
    assert!((d - 100.0).abs() < 1e-6, "{d}");
}

#[test]
fn cached_prompt_tokens_are_the_servers() {
    let r = replay(
        &OpenAiChat,
        &events(&capture("chat_cache_2.sse.txt")),
        steady,
    );
    assert_eq!(r.prompt_tokens.unwrap().count, 451);
    assert_eq!(r.cached_tokens, Some(384));
    let c = replay(
        &OpenAiCompletions,
        &events(&capture("completions_cache_3.sse.txt")),
        steady,
    );
    assert!(c.is_ok(), "{:?}", c.error);
    assert!(c.cached_tokens.is_some_and(|n| n > 0), "{c:?}");
}

/// Item 1: Anthropic's `input_tokens` on `message_delta` excludes both the
/// cache reads and the cache writes (36 + 384 created = 420).
#[test]
fn anthropic_prompt_tokens_include_cache_reads_and_writes() {
    let created = replay(
        &Anthropic,
        &events(&capture("messages_cache_create_1.sse.txt")),
        steady,
    );
    assert!(created.is_ok(), "{:?}", created.error);
    assert_eq!(created.prompt_tokens.unwrap().count, 420);
    assert_eq!(created.cached_tokens, Some(0));
    let read = replay(
        &Anthropic,
        &events(&capture("messages_cache_2.sse.txt")),
        steady,
    );
    // 67 computed + 384 read from the cache.
    assert_eq!(read.prompt_tokens.unwrap().count, 451);
    assert_eq!(read.cached_tokens, Some(384));
    assert_eq!(read.output_tokens.unwrap().count, 8);
    let share = read.cached_share().unwrap();
    assert!((share - 384.0 / 451.0).abs() < 1e-9, "{share}");
}

/// Item 2: vLLM streamed a few tool-call deltas for 64 tokens and went on
/// generating for ~1.1 s after the last one. Decode is the server's 64
/// tokens over the time to its finish event, not the deltas' pace.
#[test]
fn decode_of_a_tool_call_stream_runs_to_the_finish_event() {
    let events = events(&capture("chat_tool_required_agent_step0.sse.txt"));
    let finish = events
        .iter()
        .position(|e| contains(e, br#""finish_reason":"length""#))
        .expect("the capture has a finish event");
    let r = replay(&OpenAiChat, &events, |i| {
        if i < finish {
            100 * MS + i as Nanos * 10 * MS
        } else {
            100 * MS + (finish as Nanos - 1) * 10 * MS + 1_100 * MS
        }
    });
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.tool_calls, 1);
    let deltas = r.tool_chunks.len() as u32;
    assert!((4..=6).contains(&deltas), "{deltas} tool-call chunks");
    assert_eq!(r.output_tokens.unwrap().count, 64);
    let first = r.first_token_ns().unwrap();
    let end = r.generation_end_ns().unwrap();
    assert_eq!(end, r.finish_ns.unwrap());
    let d = metrics(&r).decode_tok_s.unwrap();
    let want = 63.0 / ((end - first) as f64 / 1e9);
    assert!((d - want).abs() < 1e-6, "{d} vs {want}");
    // Counting the deltas' own pace would say hundreds of tokens a second.
    assert!(d < 60.0, "{d}");
}

/// Item 3: with `continuous_usage_stats` vLLM sends its running count on
/// every chunk; a chunk holding several tokens (held-back UTF-8) carries
/// them all, so the inter-token latency is per token, not per chunk.
#[test]
fn per_chunk_usage_gives_each_chunk_its_tokens() {
    let all = events(&capture("chat_continuous_usage.sse.txt"));
    let r = replay(&OpenAiChat, &all, steady);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.output_tokens.unwrap().count, 8);
    assert!(r.chunks.iter().all(|c| c.tokens == 1), "{:?}", r.chunks);
    // The same stream with the third text event held back: the next one
    // then carries two tokens, as vLLM sends a multi-byte character.
    let r = replay_timed(&OpenAiChat, &held_back(&all, |i| i != 3));
    assert!(r.is_ok(), "{:?}", r.error);
    let tokens: Vec<u32> = r.chunks.iter().map(|c| c.tokens).collect();
    assert_eq!(tokens, [1, 1, 2, 1, 1, 1, 1]);
    assert_eq!(r.streamed_tokens(), 8);
    let mut itl = Vec::new();
    itl_samples(&r, &mut itl);
    // A token every 10 ms: the two-token chunk's 20 ms gap is 10 ms a token.
    assert!(itl.iter().all(|g| (g - 0.010).abs() < 1e-9), "{itl:?}");
    let d = metrics(&r).decode_tok_s.unwrap();
    assert!((d - 7.0 / 0.070).abs() < 1e-6, "{d}");
}

/// Without per-chunk usage, several tokens per chunk show as fewer chunks
/// than tokens: decode still runs on the server's count.
#[test]
fn several_tokens_per_chunk_without_per_chunk_usage() {
    let all = events(&capture("chat.sse.txt"));
    // Every other text event held back (the last, with the finish reason,
    // kept): 8 chunks for 16 tokens.
    let held = held_back(&all, |i| !(1..=15).contains(&i) || i % 2 == 0);
    let r = replay_timed(&OpenAiChat, &held);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.chunks.len(), 8);
    assert_eq!(r.output_tokens.unwrap().count, 16);
    assert_eq!(r.streamed_tokens(), 8);
    let d = metrics(&r).decode_tok_s.unwrap();
    // 15 tokens after the first over the 140 ms from first to last chunk.
    assert!((d - 15.0 / 0.140).abs() < 1e-6, "{d}");
}

/// Item 5: a truncated answer ends with `response.completed` whose status
/// is `incomplete`: finish reason `length`, not `stop`.
#[test]
fn responses_completed_but_incomplete_is_length() {
    let r = replay(&Responses, &events(&capture("responses.sse.txt")), steady);
    assert!(r.is_ok(), "{:?}", r.error);
    assert_eq!(r.finish_reason.as_deref(), Some("length"));
    // vLLM ignores X-Request-ID here: the response id is the join key.
    assert!(r
        .response_id
        .as_deref()
        .is_some_and(|id| id.starts_with("resp_")));
    assert_eq!(r.output_tokens.unwrap().count, 16);
    assert_eq!(r.prompt_tokens.unwrap().count, 37);
    assert_eq!(r.chunks.len(), 16);
    let cached = replay(
        &Responses,
        &events(&capture("responses_cache_2.sse.txt")),
        steady,
    );
    assert!(cached.cached_tokens.is_some_and(|n| n > 0), "{cached:?}");
}

/// Item 7: fields vLLM adds (`prompt_token_ids: null`, `token_ids: null`,
/// `created_cache_tokens`, `completion_tokens_details: null`, Responses'
/// `cache_write_tokens` and `*_per_turn` arrays) are read past, and every
/// captured stream of every backend parses to a record.
#[test]
fn every_captured_stream_parses() {
    let cases: [(&str, &dyn Backend); 13] = [
        ("chat.sse.txt", &OpenAiChat),
        ("chat_cache_1.sse.txt", &OpenAiChat),
        ("chat_cache_2.sse.txt", &OpenAiChat),
        ("chat_continuous_usage.sse.txt", &OpenAiChat),
        ("chat_ignore_eos.sse.txt", &OpenAiChat),
        ("chat_no_usage.sse.txt", &OpenAiChat),
        ("chat_tool_required_agent_step2.sse.txt", &OpenAiChat),
        ("completions_cache_2.sse.txt", &OpenAiCompletions),
        ("messages.sse.txt", &Anthropic),
        ("messages_cache_create_2.sse.txt", &Anthropic),
        ("responses.sse.txt", &Responses),
        ("responses_cache_2.sse.txt", &Responses),
        ("messages_cache_2.sse.txt", &Anthropic),
    ];
    for (name, backend) in cases {
        let r = replay(backend, &events(&capture(name)), steady);
        assert!(r.is_ok(), "{name}: {:?}", r.error);
        assert!(r.output_chars > 0 || r.tool_calls > 0, "{name}");
        let n = r.output_tokens.unwrap();
        if name == "chat_no_usage.sse.txt" {
            assert_eq!((n.count, n.source), (8, CountSource::ChunkCount));
        } else {
            assert_eq!(n.source, CountSource::ServerUsage, "{name}");
            assert!(r.prompt_tokens.unwrap().count > 0, "{name}");
        }
    }
}

/// The completions capture: the model emitted its end token at once. One
/// generated token and no text is no answer, whatever the usage says.
#[test]
fn an_answer_of_only_the_end_token_is_empty() {
    let r = replay(
        &OpenAiCompletions,
        &events(&capture("completions.sse.txt")),
        steady,
    );
    let e = r.error.expect("no visible text is no success");
    assert_eq!(e.kind, ErrorKind::EmptyResponse);
    assert!(e.message.contains("usage counts 1"), "{}", e.message);
}
