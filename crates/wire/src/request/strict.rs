//! The request arguments hosted APIs define, for a server that refuses any
//! other as they do (the simulator's `openai` dialect). OpenAI's API
//! answers an argument it does not define with HTTP 400
//! `{"error":{"message":"Unrecognized request argument supplied: NAME",
//! "type":"invalid_request_error","param":null,"code":null}}`; Anthropic's
//! with `{"type":"error","error":{"type":"invalid_request_error",
//! "message":"NAME: Extra inputs are not permitted"}}`. Extensions that
//! self-hosted servers take (`ignore_eos`, `min_tokens`, `top_k`,
//! `repetition_penalty`, `stream_options.continuous_usage_stats`, …) are
//! therefore refused.
//!
//! The lists are the request bodies' top-level parameters in the API
//! references (as of 2025-10), one per endpoint:
//! - <https://platform.openai.com/docs/api-reference/chat/create>
//! - <https://platform.openai.com/docs/api-reference/completions/create>
//! - <https://platform.openai.com/docs/api-reference/responses/create>
//! - <https://docs.anthropic.com/en/api/messages>

use serde_json::{Map, Value};

use super::Endpoint;
use crate::error::{ApiError, ErrorShape};

/// `POST /v1/chat/completions` (OpenAI's API reference, Chat: Create).
pub const CHAT: &[&str] = &[
    "audio",
    "frequency_penalty",
    "function_call",
    "functions",
    "logit_bias",
    "logprobs",
    "max_completion_tokens",
    "max_tokens",
    "messages",
    "metadata",
    "modalities",
    "model",
    "n",
    "parallel_tool_calls",
    "prediction",
    "presence_penalty",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning_effort",
    "response_format",
    "safety_identifier",
    "seed",
    "service_tier",
    "stop",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "user",
    "verbosity",
    "web_search_options",
];

/// `POST /v1/completions` (OpenAI's API reference, Completions: Create).
pub const COMPLETIONS: &[&str] = &[
    "best_of",
    "echo",
    "frequency_penalty",
    "logit_bias",
    "logprobs",
    "max_tokens",
    "model",
    "n",
    "presence_penalty",
    "prompt",
    "seed",
    "stop",
    "stream",
    "stream_options",
    "suffix",
    "temperature",
    "top_p",
    "user",
];

/// `POST /v1/responses` (OpenAI's API reference, Responses: Create).
pub const RESPONSES: &[&str] = &[
    "background",
    "conversation",
    "include",
    "input",
    "instructions",
    "max_output_tokens",
    "max_tool_calls",
    "metadata",
    "model",
    "parallel_tool_calls",
    "previous_response_id",
    "prompt",
    "prompt_cache_key",
    "prompt_cache_retention",
    "reasoning",
    "safety_identifier",
    "service_tier",
    "store",
    "stream",
    "stream_options",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_logprobs",
    "top_p",
    "truncation",
    "user",
];

/// `POST /v1/messages` (Anthropic's API reference, Messages).
pub const MESSAGES: &[&str] = &[
    "container",
    "context_management",
    "max_tokens",
    "mcp_servers",
    "messages",
    "metadata",
    "model",
    "service_tier",
    "stop_sequences",
    "stream",
    "system",
    "temperature",
    "thinking",
    "tool_choice",
    "tools",
    "top_k",
    "top_p",
];

/// `stream_options` of chat and completions requests.
pub const CHAT_STREAM_OPTIONS: &[&str] = &["include_obfuscation", "include_usage"];

/// `stream_options` of Responses requests.
pub const RESPONSES_STREAM_OPTIONS: &[&str] = &["include_obfuscation"];

/// The arguments `endpoint` accepts, and those of its `stream_options`;
/// `None` for the APIs no hosted service defines here (the native ones).
pub fn accepted(endpoint: Endpoint) -> Option<(&'static [&'static str], &'static [&'static str])> {
    match endpoint {
        Endpoint::Chat => Some((CHAT, CHAT_STREAM_OPTIONS)),
        Endpoint::Completions => Some((COMPLETIONS, CHAT_STREAM_OPTIONS)),
        Endpoint::Responses => Some((RESPONSES, RESPONSES_STREAM_OPTIONS)),
        Endpoint::Messages => Some((MESSAGES, &[])),
        _ => None,
    }
}

/// The first argument of `body` (in alphabetical order, top level before
/// `stream_options`, which is named `stream_options.KEY`) that `endpoint`
/// does not accept.
pub fn unknown_argument(endpoint: Endpoint, body: &Map<String, Value>) -> Option<String> {
    let (top, stream_options) = accepted(endpoint)?;
    if let Some(name) = body.keys().find(|k| !top.contains(&k.as_str())) {
        return Some(name.clone());
    }
    let options = body.get("stream_options").and_then(Value::as_object)?;
    options
        .keys()
        .find(|k| !stream_options.contains(&k.as_str()))
        .map(|k| format!("stream_options.{k}"))
}

/// Refuses a request body that carries an argument `endpoint`'s hosted API
/// does not define, with that API's error (see the module docs). A body
/// that is not a JSON object passes: the request parser says what is wrong
/// with it.
pub fn check(endpoint: Endpoint, body: &[u8]) -> Result<(), ApiError> {
    let Ok(Value::Object(obj)) = serde_json::from_slice::<Value>(body) else {
        return Ok(());
    };
    let Some(name) = unknown_argument(endpoint, &obj) else {
        return Ok(());
    };
    let (message, shape) = if endpoint == Endpoint::Messages {
        (
            format!("{name}: Extra inputs are not permitted"),
            ErrorShape::Anthropic,
        )
    } else {
        (
            format!("Unrecognized request argument supplied: {name}"),
            ErrorShape::OpenAi,
        )
    };
    Err(ApiError {
        code: "",
        shape,
        ..ApiError::invalid(message, None)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn body(e: ApiError) -> Value {
        assert_eq!(e.status, 400);
        serde_json::from_slice(&e.body()).unwrap()
    }

    #[test]
    fn openai_refuses_what_it_does_not_define() {
        let e = check(
            Endpoint::Chat,
            br#"{"model":"m","messages":[],"min_tokens":5,"ignore_eos":true}"#,
        )
        .unwrap_err();
        assert_eq!(
            body(e),
            serde_json::json!({"error": {
                "message": "Unrecognized request argument supplied: ignore_eos",
                "type": "invalid_request_error", "param": null, "code": null}})
        );
        for (endpoint, extra, name) in [
            (Endpoint::Completions, r#""top_k":5"#, "top_k"),
            (
                Endpoint::Chat,
                r#""repetition_penalty":1.1"#,
                "repetition_penalty",
            ),
            (Endpoint::Responses, r#""min_tokens":3"#, "min_tokens"),
            (
                Endpoint::Chat,
                r#""stream_options":{"include_usage":true,"continuous_usage_stats":true}"#,
                "stream_options.continuous_usage_stats",
            ),
            (
                Endpoint::Responses,
                r#""stream_options":{"include_usage":true}"#,
                "stream_options.include_usage",
            ),
        ] {
            let e = check(endpoint, format!(r#"{{"model":"m",{extra}}}"#).as_bytes()).unwrap_err();
            assert_eq!(
                e.message,
                format!("Unrecognized request argument supplied: {name}")
            );
        }
    }

    #[test]
    fn what_the_apis_define_passes() {
        let chat = br#"{"model":"m","messages":[],"max_completion_tokens":5,"stream":true,
            "stream_options":{"include_usage":true},"seed":1,"tools":[],"user":"u"}"#;
        assert_eq!(check(Endpoint::Chat, chat), Ok(()));
        let completions =
            br#"{"model":"m","prompt":"x","max_tokens":5,"echo":false,"suffix":null}"#;
        assert_eq!(check(Endpoint::Completions, completions), Ok(()));
        let responses = br#"{"model":"m","input":"x","max_output_tokens":5,"instructions":"s"}"#;
        assert_eq!(check(Endpoint::Responses, responses), Ok(()));
        let messages = br#"{"model":"m","messages":[],"max_tokens":5,"top_k":3,"system":"s"}"#;
        assert_eq!(check(Endpoint::Messages, messages), Ok(()));
        // Not JSON, or a native API: the parser's business.
        assert_eq!(check(Endpoint::Chat, b"{"), Ok(()));
        assert_eq!(check(Endpoint::LlamaCpp, br#"{"n_predict":1}"#), Ok(()));
    }

    #[test]
    fn anthropic_refuses_in_its_own_shape() {
        let e = check(
            Endpoint::Messages,
            br#"{"model":"m","messages":[],"max_tokens":5,"ignore_eos":true}"#,
        )
        .unwrap_err();
        assert_eq!(
            String::from_utf8(e.body()).unwrap(),
            r#"{"type":"error","error":{"type":"invalid_request_error","message":"ignore_eos: Extra inputs are not permitted"}}"#
        );
    }

    #[test]
    fn the_lists_are_sorted_and_without_duplicates() {
        for list in [CHAT, COMPLETIONS, RESPONSES, MESSAGES, CHAT_STREAM_OPTIONS] {
            assert!(list.windows(2).all(|w| w[0] < w[1]), "{list:?}");
        }
    }
}
