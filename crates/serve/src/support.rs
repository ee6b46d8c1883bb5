//! What `tokenpace serve` cannot do, refused with a 400 that names it,
//! rather than answered as if it had been done: constrained output,
//! log-probabilities, sampling settings its sampler lacks (temperature,
//! top_p and seed are all it has), images and other non-text input,
//! built-in tools, stored or background responses, extended thinking.
//! A setting at its neutral value (a penalty of 0, `{"type": "text"}`) is
//! accepted.

use serde_json::Value;
use tokenpace_wire::{ApiError, CompletionRequest, Endpoint};

fn refuse(param: &'static str, what: &str) -> ApiError {
    ApiError {
        code: "unsupported_parameter",
        ..ApiError::invalid(
            format!("tokenpace serve does not support {what}"),
            Some(param),
        )
    }
}

/// Whether `v` is absent or one of the `values` that change nothing.
fn neutral(v: Option<&Value>, values: &[f64]) -> bool {
    match v {
        None | Some(Value::Null) => true,
        Some(v) => v.as_f64().is_some_and(|x| values.contains(&x)),
    }
}

/// Settings no API may carry (name, values that change nothing, what it is).
const SETTINGS: [(&str, &[f64], &str); 6] = [
    (
        "frequency_penalty",
        &[0.0],
        "'frequency_penalty' (its sampler has temperature, top_p and seed only)",
    ),
    (
        "presence_penalty",
        &[0.0],
        "'presence_penalty' (its sampler has temperature, top_p and seed only)",
    ),
    (
        "repetition_penalty",
        &[1.0],
        "'repetition_penalty' (its sampler has temperature, top_p and seed only)",
    ),
    (
        "top_k",
        &[0.0, -1.0],
        "'top_k' (its sampler has temperature, top_p and seed only)",
    ),
    (
        "min_p",
        &[0.0],
        "'min_p' (its sampler has temperature, top_p and seed only)",
    ),
    (
        "best_of",
        &[1.0],
        "'best_of' above 1 (one answer per request)",
    ),
];

/// Refuses a request `serve` would otherwise answer as if it had done
/// something it cannot.
pub fn check(endpoint: Endpoint, body: &Value) -> Result<(), ApiError> {
    for (name, values, what) in SETTINGS {
        if !neutral(body.get(name), values) {
            return Err(refuse(name, what));
        }
    }
    for (name, what) in [
        ("logit_bias", "'logit_bias'"),
        ("logprobs", "log-probabilities ('logprobs')"),
        ("top_logprobs", "log-probabilities ('top_logprobs')"),
        ("echo", "'echo' (the prompt is not repeated in the answer)"),
        ("suffix", "'suffix' (no insertion)"),
        ("functions", "the legacy 'functions' (send 'tools')"),
        ("function_call", "the legacy 'function_call' (send 'tool_choice')"),
        ("audio", "audio output ('audio')"),
        ("prediction", "predicted outputs ('prediction')"),
        ("previous_response_id", "'previous_response_id' (it stores no responses: send the whole conversation in 'input')"),
        ("conversation", "'conversation' (it stores no conversations: send the whole conversation in 'input')"),
        ("background", "background responses ('background')"),
        ("mcp_servers", "MCP servers ('mcp_servers')"),
        ("container", "code execution containers ('container')"),
    ] {
        if set(body.get(name)) {
            return Err(refuse(name, what));
        }
    }
    if let Some(v) = body
        .get("stream_options")
        .and_then(|o| o.get("continuous_usage_stats"))
    {
        if set(Some(v)) {
            return Err(refuse(
                "stream_options",
                "usage on every chunk ('stream_options.continuous_usage_stats')",
            ));
        }
    }
    output_format(body)?;
    if body
        .get("thinking")
        .and_then(|t| t.get("type"))
        .and_then(Value::as_str)
        == Some("enabled")
    {
        return Err(refuse("thinking", "extended thinking ('thinking')"));
    }
    if let Some(kind) = body
        .get("modalities")
        .and_then(Value::as_array)
        .and_then(|m| m.iter().find(|m| m.as_str() != Some("text")))
    {
        return Err(refuse(
            "modalities",
            &format!("'modalities' other than text ({kind})"),
        ));
    }
    builtin_tools(endpoint, body)?;
    input_kinds(body)
}

/// `min_tokens` (vLLM's): the engine cannot hold off an answer's end, so it
/// is taken only where it changes nothing: with `ignore_eos`, no stop
/// sequence and at most `max_tokens`, every answer runs to `max_tokens`.
pub fn min_tokens(api: &CompletionRequest, max_tokens: u32) -> Result<(), ApiError> {
    let moot = api.ignore_eos && api.stop.is_empty() && api.min_tokens <= u64::from(max_tokens);
    if api.min_tokens == 0 || moot {
        return Ok(());
    }
    Err(refuse(
        "min_tokens",
        "'min_tokens' unless 'ignore_eos' is true and no 'stop' is given (its engine cannot \
         hold off an answer's end; with ignore_eos every answer runs to max_tokens)",
    ))
}

/// A field that asks for something: present, not null, false, 0, "" or empty.
fn set(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) | Some(Value::Bool(false)) => false,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Object(o)) => !o.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Bool(true)) => true,
    }
}

/// `response_format` (chat) and `text.format` (Responses): text only.
fn output_format(body: &Value) -> Result<(), ApiError> {
    for (param, format) in [
        ("response_format", body.get("response_format")),
        ("text", body.get("text").and_then(|t| t.get("format"))),
    ] {
        let kind = format.and_then(|f| f.get("type")).and_then(Value::as_str);
        if let Some(kind) = kind.filter(|k| *k != "text") {
            let field = if param == "text" {
                "text.format"
            } else {
                param
            };
            return Err(refuse(
                param,
                &format!("'{field}' of type '{kind}' (no constrained decoding)"),
            ));
        }
    }
    Ok(())
}

/// Responses' built-in tools and Anthropic's server tools: only functions
/// the client runs itself.
fn builtin_tools(endpoint: Endpoint, body: &Value) -> Result<(), ApiError> {
    let Some(tools) = body.get("tools").and_then(Value::as_array) else {
        return Ok(());
    };
    for t in tools {
        let kind = t.get("type").and_then(Value::as_str);
        let builtin = match endpoint {
            Endpoint::Responses => kind.filter(|k| *k != "function"),
            Endpoint::Messages => kind.filter(|k| *k != "custom"),
            _ => None,
        };
        if let Some(kind) = builtin {
            return Err(refuse(
                "tools",
                &format!("'tools' of type '{kind}' (only functions the client runs)"),
            ));
        }
    }
    Ok(())
}

/// Images, audio, files and documents in the conversation: the model
/// reads text only.
fn input_kinds(body: &Value) -> Result<(), ApiError> {
    const TEXT: [&str; 7] = [
        "text",
        "input_text",
        "output_text",
        "tool_use",
        "tool_result",
        "thinking",
        "redacted_thinking",
    ];
    let lists = ["messages", "input"];
    for list in lists
        .iter()
        .filter_map(|k| body.get(*k).and_then(Value::as_array))
    {
        for item in list {
            let mut parts: Vec<&Value> = item
                .get("content")
                .and_then(Value::as_array)
                .map(|p| p.iter().collect())
                .unwrap_or_default();
            // Anthropic's tool results carry blocks of their own.
            let nested: Vec<&Value> = parts
                .iter()
                .filter_map(|p| p.get("content")?.as_array())
                .flatten()
                .collect();
            parts.extend(nested);
            for part in parts {
                let kind = part.get("type").and_then(Value::as_str).unwrap_or("text");
                if !TEXT.contains(&kind) {
                    let param = if body.get("input").is_some() {
                        "input"
                    } else {
                        "messages"
                    };
                    return Err(refuse(
                        param,
                        &format!("'{kind}' content in '{param}' (the model reads text only)"),
                    ));
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn what_cannot_be_done_is_refused_by_name() {
        for (endpoint, body, param) in [
            (
                Endpoint::Chat,
                json!({"response_format": {"type": "json_schema"}}),
                "response_format",
            ),
            (Endpoint::Chat, json!({"logprobs": true}), "logprobs"),
            (Endpoint::Completions, json!({"logprobs": 3}), "logprobs"),
            (
                Endpoint::Chat,
                json!({"presence_penalty": 0.5}),
                "presence_penalty",
            ),
            (Endpoint::Messages, json!({"top_k": 40}), "top_k"),
            (
                Endpoint::Chat,
                json!({"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {}}]}]}),
                "messages",
            ),
            (
                Endpoint::Messages,
                json!({"messages": [{"role": "user", "content": [{"type": "tool_result", "content": [{"type": "image"}]}]}]}),
                "messages",
            ),
            (
                Endpoint::Responses,
                json!({"input": [{"role": "user", "content": [{"type": "input_image"}]}]}),
                "input",
            ),
            (
                Endpoint::Responses,
                json!({"tools": [{"type": "web_search"}]}),
                "tools",
            ),
            (
                Endpoint::Messages,
                json!({"tools": [{"type": "web_search_20250305", "name": "web_search"}]}),
                "tools",
            ),
            (
                Endpoint::Responses,
                json!({"previous_response_id": "resp_1"}),
                "previous_response_id",
            ),
            (
                Endpoint::Responses,
                json!({"text": {"format": {"type": "json_schema"}}}),
                "text",
            ),
            (
                Endpoint::Messages,
                json!({"thinking": {"type": "enabled", "budget_tokens": 1024}}),
                "thinking",
            ),
            (
                Endpoint::Chat,
                json!({"stream_options": {"continuous_usage_stats": true}}),
                "stream_options",
            ),
        ] {
            let e = check(endpoint, &body).unwrap_err();
            assert_eq!(
                (e.status, e.param, e.code),
                (400, Some(param), "unsupported_parameter"),
                "{body}"
            );
            assert!(
                e.message.starts_with("tokenpace serve does not support"),
                "{}",
                e.message
            );
            assert!(e.message.contains(&format!("'{param}")), "{}", e.message);
        }
    }

    #[test]
    fn neutral_settings_and_text_are_accepted() {
        for (endpoint, body) in [
            (
                Endpoint::Chat,
                json!({"messages": [{"role": "user", "content": [{"type": "text", "text": "x"}]}],
                "presence_penalty": 0, "frequency_penalty": 0.0, "logprobs": false, "response_format": {"type": "text"},
                "logit_bias": {}, "stream_options": {"include_usage": true}, "parallel_tool_calls": true,
                "tools": [{"type": "function", "function": {"name": "f"}}]}),
            ),
            (
                Endpoint::Responses,
                json!({"input": [{"role": "user", "content": [{"type": "input_text", "text": "x"}]}],
                "store": false, "text": {"format": {"type": "text"}}, "tools": [{"type": "function", "name": "f"}]}),
            ),
            (
                Endpoint::Messages,
                json!({"messages": [{"role": "user", "content": [{"type": "tool_result", "content": [{"type": "text", "text": "r"}]}]}],
                "thinking": {"type": "disabled"}, "tools": [{"name": "f", "input_schema": {}}], "top_k": null}),
            ),
        ] {
            assert_eq!(check(endpoint, &body), Ok(()), "{body}");
        }
    }

    #[test]
    fn min_tokens_only_where_ignore_eos_makes_it_moot() {
        let parse = |body: &str| {
            tokenpace_wire::request::parse(Endpoint::Completions, body.as_bytes(), 100).unwrap()
        };
        let ok = parse(r#"{"prompt":"x","min_tokens":8,"max_tokens":8,"ignore_eos":true}"#);
        assert_eq!(min_tokens(&ok, 8), Ok(()));
        assert_eq!(
            min_tokens(&parse(r#"{"prompt":"x","min_tokens":0}"#), 8),
            Ok(())
        );
        for (body, max) in [
            (r#"{"prompt":"x","min_tokens":8}"#, 8),
            (
                r#"{"prompt":"x","min_tokens":8,"ignore_eos":true,"stop":"."}"#,
                8,
            ),
            (r#"{"prompt":"x","min_tokens":8,"ignore_eos":true}"#, 7),
        ] {
            let e = min_tokens(&parse(body), max).unwrap_err();
            assert_eq!((e.status, e.param), (400, Some("min_tokens")), "{body}");
        }
    }
}
