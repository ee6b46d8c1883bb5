//! What a real vLLM taught, checked against the truth file: Anthropic's
//! prompt split (read from the cache, written to it, the rest), a tool call
//! whose deltas end before generation does, several tokens per chunk, and
//! usage on every chunk.

mod common;

use std::time::Duration;

use common::capture::events;
use common::*;
use serde_json::{json, Value};
use tokenpace_sim::config::Dialect;
use tokenpace_sim::SimConfig;

fn u(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

fn messages_body() -> String {
    json!({
        "model": "m", "stream": true, "max_tokens": 4,
        "messages": [{"role": "user", "content": "Tell me about ferries. ".repeat(80)}],
    })
    .to_string()
}

/// A Messages stream's id and its `message_start` and `message_delta` usage.
fn anthropic_usage(r: &TimedResponse) -> (String, Value, Value) {
    let e = events(&r.text());
    let delta = e.iter().find(|(n, _)| n == "message_delta").unwrap();
    let message = &e[0].1["message"];
    let id = message["id"].as_str().unwrap().to_owned();
    (id, message["usage"].clone(), delta.1["usage"].clone())
}

#[tokio::test]
async fn anthropic_input_tokens_exclude_what_the_cache_read_and_wrote() {
    for dialect in Dialect::ALL {
        let t = TestSim::start(|c| c.dialect = dialect).await;
        let first = post(&t.sim, "/v1/messages", &messages_body()).await;
        let again = post(&t.sim, "/v1/messages", &messages_body()).await;
        let (a, b) = (anthropic_usage(&first), anthropic_usage(&again));
        let lines = t.finish().await;
        for (id, start, delta) in [&a, &b] {
            let truth = line(&lines, id);
            let (read, created) = (
                u(&delta["cache_read_input_tokens"]),
                u(&delta["cache_creation_input_tokens"]),
            );
            // As a client must count it: the prompt is all three.
            assert_eq!(
                u(&delta["input_tokens"]) + read + created,
                u(&truth["prompt_tokens"])
            );
            assert_eq!(read, u(&truth["cached_tokens"]), "{dialect}");
            assert_eq!(created, u(&truth["created_cache_tokens"]), "{dialect}");
            match dialect {
                // vLLM: the whole prompt at the start, without the split.
                Dialect::Vllm => {
                    assert_eq!(start["input_tokens"], truth["prompt_tokens"]);
                    assert!(start.get("cache_read_input_tokens").is_none());
                }
                _ => {
                    let mut split = delta.clone();
                    split["output_tokens"] = json!(0);
                    assert_eq!(start, &split, "Anthropic's split at the start too");
                }
            }
        }
        // The first prompt wrote its full blocks; the second read them.
        let prompt = u(&line(&lines, &a.0)["prompt_tokens"]);
        let created = u(&a.2["cache_creation_input_tokens"]);
        assert_eq!(created, prompt / 16 * 16);
        assert_eq!(u(&a.2["cache_read_input_tokens"]), 0);
        assert_eq!(u(&b.2["cache_read_input_tokens"]), created);
        assert_eq!(u(&b.2["cache_creation_input_tokens"]), 0);
    }
}

fn tool_body() -> String {
    json!({
        "stream": true, "stream_options": {"include_usage": true},
        "ignore_eos": true, "max_tokens": 40,
        "messages": [{"role": "user", "content": "Find ferries."}],
        "tools": [{"type": "function", "function": {"name": "search"}}],
        "tool_choice": "required",
    })
    .to_string()
}

#[tokio::test]
async fn a_tool_call_can_end_before_generation_does() {
    let t = TestSim::start(|c| {
        c.timing.decode = 200.0;
        c.tools.argument_tokens = 4;
    })
    .await;
    let r = post(&t.sim, "/v1/chat/completions", &tool_body()).await;
    let e = events(&r.text());
    let id = e[0].1["id"].as_str().unwrap().to_owned();
    let args: String = e
        .iter()
        .filter_map(|(_, v)| {
            v["choices"][0]["delta"]["tool_calls"][0]["function"]["arguments"].as_str()
        })
        .collect();
    assert!(serde_json::from_str::<Value>(&args).is_ok(), "{args}");
    assert_eq!(e[e.len() - 2].1["usage"]["completion_tokens"], 40);
    assert_eq!(e[e.len() - 3].1["choices"][0]["finish_reason"], "length");
    // On the wire: the finish came well after the last delta.
    let at = |needle: &str| {
        let mut pieces = r
            .pieces
            .iter()
            .filter(|(_, p)| p.windows(needle.len()).any(|w| w == needle.as_bytes()));
        pieces.next_back().unwrap().0
    };
    assert!(at("finish_reason\":\"length") - at("tool_calls") > Duration::from_millis(100));
    let lines = t.finish().await;
    let truth = line(&lines, &id);
    assert_eq!(u(&truth["completion_tokens"]), 40);
    assert_eq!(u(&truth["tool_call"]["delta_tokens"]), 4);
    assert_eq!(truth["finish_reason"], "length");
    let chunks = truth["chunks"].as_array().unwrap();
    let deltas: Vec<&Value> = chunks.iter().filter(|c| c["kind"] == "tool_call").collect();
    assert_eq!(deltas.iter().map(|c| u(&c["tokens"])).sum::<u64>(), 4);
    assert_eq!(u(&truth["token_chunks"]), 4);
    // 36 tokens after the last delta, 5 ms apart.
    let end = u(&truth["generation_end_ns"]);
    let last_delta = u(&deltas[3]["deadline_ns"]);
    assert!(
        (end - last_delta).abs_diff(180_000_000) < 1_000_000,
        "{end} {last_delta}"
    );
    let finish = chunks.iter().find(|c| c["kind"] == "finish").unwrap();
    assert_eq!(u(&finish["deadline_ns"]), end);
    assert!(u(&finish["written_ns"]) >= end);
}

fn chat_body(max_tokens: u32, continuous: bool) -> String {
    json!({
        "stream": true, "max_tokens": max_tokens, "ignore_eos": true,
        "stream_options": {"include_usage": true, "continuous_usage_stats": continuous},
        "messages": [{"role": "user", "content": "写一句关于海的话。"}],
    })
    .to_string()
}

/// The content events of a chat stream (not a role-only chunk, not the
/// finish or usage chunks).
fn content_events(r: &TimedResponse) -> Vec<Value> {
    events(&r.text())
        .into_iter()
        .map(|(_, v)| v)
        .filter(|v| v["choices"][0]["delta"]["content"].is_string())
        .filter(|v| v.get("prompt_token_ids").is_none())
        .collect()
}

fn chinese_held_back(c: &mut SimConfig) {
    c.text.lang = tokenpace_corpus::TextLang::Zh;
    c.text.utf8_hold_back = true;
}

#[tokio::test]
async fn several_tokens_per_chunk_are_in_the_truth() {
    let t = TestSim::start(chinese_held_back).await;
    let r = post(&t.sim, "/v1/chat/completions", &chat_body(32, false)).await;
    let sent = content_events(&r);
    let e = events(&r.text());
    assert_eq!(e[e.len() - 2].1["usage"]["completion_tokens"], 32);
    let id = e[0].1["id"].as_str().unwrap().to_owned();
    let lines = t.finish().await;
    let truth = line(&lines, &id);
    let chunks: Vec<u64> = truth["chunks"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "content")
        .map(|c| u(&c["tokens"]))
        .collect();
    assert_eq!(chunks.len(), sent.len());
    assert_eq!(u(&truth["token_chunks"]), sent.len() as u64);
    assert_eq!(chunks.iter().sum::<u64>(), 32);
    assert!(chunks.iter().all(|&n| n == 1 || n == 2), "{chunks:?}");
    assert!(
        sent.len() <= 20,
        "Chinese pieces are two tokens: {chunks:?}"
    );

    let t = TestSim::start(|c| c.timing.tokens_per_chunk = 4).await;
    let r = post(&t.sim, "/v1/chat/completions", &chat_body(32, false)).await;
    assert_eq!(content_events(&r).len(), 8);
    let lines = t.finish().await;
    assert_eq!(u(&lines[0]["token_chunks"]), 8);
}

#[tokio::test]
async fn continuous_usage_counts_the_tokens_sent_so_far() {
    // The openai dialect refuses vLLM's continuous_usage_stats.
    let dialects = Dialect::ALL.into_iter();
    for dialect in dialects.filter(|d| !d.shape().strict_arguments) {
        let t = TestSim::start(|c| {
            chinese_held_back(c);
            c.dialect = dialect;
        })
        .await;
        let r = post(&t.sim, "/v1/chat/completions", &chat_body(12, true)).await;
        let plain = post(&t.sim, "/v1/chat/completions", &chat_body(12, false)).await;
        let running: Vec<u64> = content_events(&r)
            .iter()
            .map(|v| u(&v["usage"]["completion_tokens"]))
            .collect();
        assert!(content_events(&plain)
            .iter()
            .all(|v| v.get("usage").is_none()));
        let e = events(&r.text());
        let id = e[0].1["id"].as_str().unwrap().to_owned();
        assert_eq!(e[e.len() - 2].1["usage"]["completion_tokens"], 12);
        let lines = t.finish().await;
        let mut so_far = 0;
        let from_truth: Vec<u64> = line(&lines, &id)["chunks"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|c| c["kind"] == "content")
            .map(|c| {
                so_far += u(&c["tokens"]);
                so_far
            })
            .collect();
        assert_eq!(running, from_truth, "{dialect}");
        assert_eq!(running.last(), Some(&12));
        if dialect == Dialect::Vllm {
            assert_eq!(e[0].1["usage"]["completion_tokens"], 0, "the role chunk");
        }
    }
}
