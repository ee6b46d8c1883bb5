//! `POST /tokenize` (vLLM's shape): its count is the `usage.prompt_tokens`
//! of the same prompt on `/v1/completions` or the same messages on
//! `/v1/chat/completions`; and `min_tokens` holds off the end.

mod common;

use common::*;
use serde_json::{json, Value};
use tokenpace_sim::config::Dialect;

async fn prompt_tokens(t: &TestSim, path: &str, body: Value) -> u64 {
    let r = post(&t.sim, path, &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    r.json()["usage"]["prompt_tokens"].as_u64().unwrap()
}

async fn tokenize(t: &TestSim, body: Value) -> Value {
    let r = post(&t.sim, "/tokenize", &body.to_string()).await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.header("content-type"), Some("application/json"));
    r.json()
}

#[tokio::test]
async fn counts_equal_what_usage_reports() {
    let t = TestSim::start(|c| c.limits.max_tokens = 4096).await;
    for text in [
        "The quick brown fox jumps over the lazy dog.",
        "北京是中国的首都。上海是中国最大的城市。",
        "mixed 混合 text, 数字 123 and emoji 🙂",
        "",
    ] {
        let want = prompt_tokens(
            &t,
            "/v1/completions",
            json!({"model": "m", "prompt": text, "max_tokens": 1}),
        )
        .await;
        let got = tokenize(&t, json!({"model": "m", "prompt": text})).await;
        assert_eq!(got["count"].as_u64(), Some(want), "{text:?}");
        assert_eq!(got["tokens"].as_array().unwrap().len() as u64, want);
        assert_eq!(got["max_model_len"], 4096);
        assert_eq!(got["token_strs"], Value::Null);
    }
    let messages = json!([
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": [{"type": "text", "text": "你好, find "},
                                     {"type": "image_url", "image_url": {"url": "x"}},
                                     {"type": "text", "text": "abcdefgh"}]},
        {"role": "assistant", "content": null, "tool_calls": [{"id": "c1", "type": "function",
            "function": {"name": "search", "arguments": "{\"q\":\"你\"}"}}]},
        {"role": "tool", "tool_call_id": "c1", "content": "found it"},
    ]);
    let want = prompt_tokens(
        &t,
        "/v1/chat/completions",
        json!({"model": "m", "messages": messages, "max_tokens": 1}),
    )
    .await;
    for extra in [json!({}), json!({"add_generation_prompt": false})] {
        let mut body = json!({"model": "m", "messages": messages});
        body.as_object_mut()
            .unwrap()
            .extend(extra.as_object().unwrap().clone());
        let got = tokenize(&t, body).await;
        assert_eq!(got["count"].as_u64(), Some(want));
    }
    t.finish().await;
}

#[tokio::test]
async fn bad_requests_name_the_field_and_the_openai_dialect_has_none() {
    let t = TestSim::start(|_| {}).await;
    for (body, field) in [
        ("{}", "prompt"),
        (r#"{"prompt":[1,2]}"#, "prompt"),
        (r#"{"prompt":"x","messages":[]}"#, "messages"),
        (r#"{"messages":[{"content":"x"}]}"#, "messages"),
        (
            r#"{"prompt":"x","add_special_tokens":1}"#,
            "add_special_tokens",
        ),
    ] {
        let r = post(&t.sim, "/tokenize", body).await;
        assert_eq!(r.status, 400, "{body}");
        assert_eq!(r.json()["error"]["param"], field, "{body}");
        assert_eq!(r.json()["error"]["type"], "invalid_request_error");
    }
    let r = request(&t.sim, "GET", "/tokenize", &[], b"").await;
    assert_eq!(r.status, 404);
    t.finish().await;
    let t = TestSim::start(|c| c.dialect = Dialect::Vllm).await;
    let r = post(&t.sim, "/tokenize", r#"{"prompt":"abcdefgh"}"#).await;
    assert_eq!(r.json()["count"], 2);
    t.finish().await;
    let t = TestSim::start(|c| c.dialect = Dialect::Openai).await;
    let r = post(&t.sim, "/tokenize", r#"{"prompt":"abcdefgh"}"#).await;
    assert_eq!(r.status, 404, "{}", r.text());
    t.finish().await;
}

#[tokio::test]
async fn min_tokens_holds_off_the_natural_end() {
    let t = TestSim::start(|c| c.timing.output_tokens = 10).await;
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","max_tokens":100,"min_tokens":40"#),
    )
    .await;
    let body = r.json();
    assert_eq!(body["usage"]["completion_tokens"], 40);
    assert_eq!(body["choices"][0]["finish_reason"], "stop");
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","max_tokens":100,"stream":true,"stream_options":{"include_usage":true}"#),
    )
    .await;
    let usage = r
        .events()
        .iter()
        .filter_map(|e| serde_json::from_str::<Value>(e).ok())
        .find(|e| e["usage"].is_object())
        .unwrap();
    assert_eq!(usage["usage"]["completion_tokens"], 10);
    let r = post(
        &t.sim,
        "/v1/completions",
        r#"{"prompt":"x","max_tokens":5,"min_tokens":6}"#,
    )
    .await;
    assert_eq!(
        (r.status, r.json()["error"]["param"].as_str()),
        (400, Some("min_tokens"))
    );
    let lines = t.finish().await;
    assert_eq!(lines[0]["min_tokens"], 40);
    assert_eq!(lines[0]["completion_tokens"], 40);
    assert!(lines[1].get("min_tokens").is_none());
}
