//! The vLLM dialect against streams captured from a real vLLM 0.32.0: the
//! same requests (the captured `*.request.json`) get streams with the same
//! events in the same order, every field named and nested the same, values
//! aside.

mod common;

use common::capture::{assert_same_shape, capture, events, shape};
use common::*;
use serde_json::{json, Value};
use tokenpace_sim::config::Dialect;

async fn vllm() -> TestSim {
    TestSim::start(|c| {
        c.dialect = Dialect::Vllm;
        // vLLM's CPU block size: these short prompts fill no block.
        c.prefix_cache.block_tokens = 128;
        c.timing.decode = 2000.0;
    })
    .await
}

/// Sends the captured request `name` and checks the answer against the
/// captured stream.
async fn same_as(t: &TestSim, path: &str, name: &str) -> TimedResponse {
    let body = capture(&format!("{name}.request.json"));
    let r = post(&t.sim, path, &body).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(
        r.header("content-type"),
        Some("text/event-stream; charset=utf-8")
    );
    assert_same_shape(&r.text(), &capture(&format!("{name}.sse.txt")));
    r
}

#[tokio::test]
async fn chat_and_completions_streams_have_vllms_shape() {
    let t = vllm().await;
    for name in ["chat", "chat_no_usage", "chat_continuous_usage"] {
        same_as(&t, "/v1/chat/completions", name).await;
    }
    same_as(&t, "/v1/completions", "completions_cache_2").await;
    t.finish().await;
}

#[tokio::test]
async fn messages_and_responses_streams_have_vllms_shape() {
    let t = vllm().await;
    same_as(&t, "/v1/messages", "messages").await;
    // A prompt of three full blocks: the first time they are written, the
    // second read (the captures' values differ, their shapes do not).
    let first = same_as(&t, "/v1/messages", "messages_cache_2").await;
    let second = same_as(&t, "/v1/messages", "messages_cache_2").await;
    let usage = |r: &TimedResponse| {
        let e = events(&r.text());
        let delta = e.iter().find(|(n, _)| n == "message_delta").unwrap();
        (e[0].1["message"]["usage"].clone(), delta.1["usage"].clone())
    };
    let (start, delta) = usage(&first);
    let prompt = start["input_tokens"].as_u64().unwrap();
    assert_eq!(start.as_object().unwrap().len(), 2, "{start}");
    let created = delta["cache_creation_input_tokens"].as_u64().unwrap();
    assert_eq!(
        (created % 128, delta["cache_read_input_tokens"].clone()),
        (0, json!(0))
    );
    assert!(created >= 128);
    assert_eq!(delta["input_tokens"].as_u64().unwrap() + created, prompt);
    let (_, delta) = usage(&second);
    assert_eq!(delta["cache_read_input_tokens"].as_u64(), Some(created));
    assert_eq!(delta["cache_creation_input_tokens"], 0);
    same_as(&t, "/v1/responses", "responses").await;
    let r = same_as(&t, "/v1/responses", "responses_cache_2").await;
    let last = events(&r.text()).pop().unwrap().1;
    assert_eq!(last["type"], "response.completed");
    assert_eq!(last["response"]["status"], "incomplete");
    t.finish().await;
}

/// vLLM's `tool_choice: required` run: a few argument deltas for 64
/// generated tokens, then a finish chunk and usage.
#[tokio::test]
async fn a_tool_call_that_ends_before_generation_has_vllms_shape() {
    let t = TestSim::start(|c| {
        c.dialect = Dialect::Vllm;
        c.timing.decode = 2000.0;
        c.tools.argument_tokens = 5;
    })
    .await;
    let request: Value =
        serde_json::from_str(&capture("chat_tool_required_agent_step2.request.json")).unwrap();
    let body = json!({
        "model": "smol",
        "stream": true,
        "stream_options": {"include_usage": true},
        "ignore_eos": true,
        "max_tokens": 64,
        "messages": request["messages"],
        "tools": request["tools"],
        "tool_choice": "required",
    });
    let r = post(&t.sim, "/v1/chat/completions", &body.to_string()).await;
    assert_same_shape(
        &r.text(),
        &capture("chat_tool_required_agent_step0.sse.txt"),
    );
    let e = events(&r.text());
    let usage = &e[e.len() - 2].1["usage"];
    assert_eq!(usage["completion_tokens"], 64);
    assert_eq!(e[e.len() - 3].1["choices"][0]["finish_reason"], "length");
    t.finish().await;
}

#[tokio::test]
async fn the_default_dialect_keeps_tokenpaces_shapes() {
    let t = TestSim::start(|c| c.prefix_cache.block_tokens = 128).await;
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &capture("chat.request.json"),
    )
    .await;
    let e = events(&r.text());
    // No role-only chunk, no vLLM fields; the finish has a chunk of its own.
    assert_eq!(e.len(), 16 + 3);
    assert_eq!(e[0].1["choices"][0]["delta"]["role"], "assistant");
    assert_ne!(e[0].1["choices"][0]["delta"]["content"], "");
    assert!(e[0].1.get("prompt_token_ids").is_none());
    assert!(e[1].1["choices"][0].get("token_ids").is_none());
    assert_eq!(e[16].1["choices"][0]["delta"], json!({}));
    assert!(e[17].1.get("system_fingerprint").is_none());
    let text = r.text();
    let vllm = std::panic::catch_unwind(|| assert_same_shape(&text, &capture("chat.sse.txt")));
    assert!(vllm.is_err(), "the shape check tells the dialects apart");
    assert_eq!(
        e[17].1["usage"]["prompt_tokens_details"],
        json!({"cached_tokens": 0})
    );
    t.finish().await;
}

#[tokio::test]
async fn models_and_version_have_vllms_shape() {
    let t = vllm().await;
    let r = request(&t.sim, "GET", "/v1/models", &[], b"").await;
    let captured: Value = serde_json::from_str(&capture("models.json")).unwrap();
    assert_eq!(shape(&r.json()), shape(&captured));
    assert_eq!(r.json()["data"][0]["owned_by"], "vllm");
    let r = request(&t.sim, "GET", "/version", &[], b"").await;
    assert_eq!(r.text(), capture("version.json"));
    t.finish().await;
}
