//! `--dialect openai`: arguments OpenAI's API does not define are refused
//! with its 400 (Anthropic's on the Messages route); what it defines is
//! answered as in the default dialect. And `/v1/models` and `/version`
//! say whose server each dialect is.

mod common;

use common::*;
use serde_json::{json, Value};
use tokenpace_sim::config::Dialect;

async fn openai() -> TestSim {
    TestSim::start(|c| c.dialect = Dialect::Openai).await
}

fn unrecognized(name: &str) -> Value {
    json!({"error": {
        "message": format!("Unrecognized request argument supplied: {name}"),
        "type": "invalid_request_error", "param": null, "code": null}})
}

#[tokio::test]
async fn unknown_arguments_are_refused_as_openai_does() {
    let t = openai().await;
    for (path, body, name) in [
        (
            "/v1/chat/completions",
            chat(r#","max_tokens":3,"ignore_eos":true"#),
            "ignore_eos",
        ),
        (
            "/v1/chat/completions",
            chat(r#","max_tokens":3,"min_tokens":2"#),
            "min_tokens",
        ),
        (
            "/v1/chat/completions",
            chat(
                r#","stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}"#,
            ),
            "stream_options.continuous_usage_stats",
        ),
        (
            "/v1/completions",
            r#"{"model":"m","prompt":"x","top_k":5}"#.to_owned(),
            "top_k",
        ),
        (
            "/v1/completions",
            r#"{"model":"m","prompt":"x","repetition_penalty":1.1}"#.to_owned(),
            "repetition_penalty",
        ),
        (
            "/v1/responses",
            r#"{"model":"m","input":"x","ignore_eos":true}"#.to_owned(),
            "ignore_eos",
        ),
    ] {
        let r = post(&t.sim, path, &body).await;
        assert_eq!(r.status, 400, "{path} {body}");
        assert_eq!(r.json(), unrecognized(name), "{path} {body}");
    }
    let r = post(
        &t.sim,
        "/v1/messages",
        r#"{"model":"m","max_tokens":3,"messages":[{"role":"user","content":"hi"}],"ignore_eos":true}"#,
    )
    .await;
    assert_eq!(r.status, 400);
    assert_eq!(
        r.text(),
        r#"{"type":"error","error":{"type":"invalid_request_error","message":"ignore_eos: Extra inputs are not permitted"}}"#
    );
    let lines = t.finish().await;
    assert_eq!(lines.len(), 7);
    assert!(lines.iter().all(|l| l["status"] == 400));
}

#[tokio::test]
async fn what_the_apis_define_is_answered() {
    let t = openai().await;
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(
            r#","stream":true,"stream_options":{"include_usage":true},"max_completion_tokens":4,"seed":1,"user":"u","temperature":0.5"#,
        ),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    assert_eq!(r.events().last().map(String::as_str), Some("[DONE]"));
    let r = post(
        &t.sim,
        "/v1/messages",
        r#"{"model":"m","max_tokens":3,"top_k":5,"messages":[{"role":"user","content":"hi"}]}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    let r = post(
        &t.sim,
        "/v1/responses",
        r#"{"model":"m","input":"hi","max_output_tokens":3,"store":false}"#,
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    t.finish().await;
    // The default dialect takes the extensions.
    let t = TestSim::start(|_| {}).await;
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","max_tokens":3,"ignore_eos":true,"min_tokens":3,"top_k":5"#),
    )
    .await;
    assert_eq!(r.status, 200, "{}", r.text());
    t.finish().await;
}

#[tokio::test]
async fn models_and_version_say_whose_server_it_is() {
    for (dialect, owner, version) in [
        (Dialect::Tokenpace, "tokenpace", None),
        (Dialect::Vllm, "vllm", Some("0.32.0")),
        (Dialect::Openai, "system", None),
    ] {
        let t = TestSim::start(|c| c.dialect = dialect).await;
        let r = request(&t.sim, "GET", "/v1/models", &[], b"").await;
        let model = &r.json()["data"][0];
        assert_eq!(model["owned_by"], owner, "{dialect}");
        assert_eq!(model["id"], "tokenpace-sim");
        let r = request(&t.sim, "GET", "/version", &[], b"").await;
        match version {
            Some(v) => assert_eq!(r.json(), json!({ "version": v })),
            None => assert_eq!(r.status, 404, "{dialect}"),
        }
        t.finish().await;
    }
}
