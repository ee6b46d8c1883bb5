//! Reading an OpenAI request body into a [`GenerationRequest`].

use crate::generate::{ChatMessage, GenerationRequest, PromptInput, Sampling};
use serde_json::Value;
use tokenpace_sim::ApiError;

/// Which OpenAI endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`
    Chat,
    /// `POST /v1/completions`
    Completions,
}

/// A parsed request: what to generate and how to answer.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    /// What to generate.
    pub generation: GenerationRequest,
    /// Stream the answer as server-sent events.
    pub stream: bool,
    /// Send a usage chunk before `[DONE]` (`stream_options.include_usage`).
    pub include_usage: bool,
    /// The model name the client asked for (echoed when given).
    pub model: Option<String>,
}

/// Answers stop here unless the request says otherwise.
pub const DEFAULT_MAX_TOKENS: u32 = 512;

fn invalid(message: impl Into<String>, param: &'static str) -> ApiError {
    ApiError::invalid(message, Some(param))
}

/// Parses and checks a request body. `seed_fallback` seeds sampling when
/// the request gives no `seed`.
pub fn parse(endpoint: Endpoint, body: &[u8], seed_fallback: u32) -> Result<ApiRequest, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "invalid_request_error",
            "invalid_json",
            format!("the request body is not valid JSON: {e}"),
        )
    })?;
    if !v.is_object() {
        return Err(ApiError::new(
            400,
            "invalid_request_error",
            "invalid_json",
            "the request body must be a JSON object",
        ));
    }
    let prompt = match endpoint {
        Endpoint::Chat => PromptInput::Chat(messages(&v["messages"])?),
        Endpoint::Completions => completion_prompt(&v["prompt"])?,
    };
    let number = |name: &'static str| -> Result<Option<f64>, ApiError> {
        match &v[name] {
            Value::Null => Ok(None),
            Value::Number(n) => Ok(n.as_f64()),
            _ => Err(invalid(format!("'{name}' must be a number"), name)),
        }
    };
    let max_tokens = match number("max_completion_tokens")?.or(number("max_tokens")?) {
        None => DEFAULT_MAX_TOKENS,
        Some(n) if n >= 1.0 && n.fract() == 0.0 && n <= f64::from(u32::MAX) => n as u32,
        Some(n) => {
            return Err(invalid(
                format!("max_tokens {n} must be a whole number ≥ 1"),
                "max_tokens",
            ))
        }
    };
    let temperature = number("temperature")?.unwrap_or(1.0);
    if !(0.0..=2.0).contains(&temperature) {
        return Err(invalid(
            format!("temperature {temperature} must be between 0 and 2"),
            "temperature",
        ));
    }
    let top_p = number("top_p")?.unwrap_or(1.0);
    if !(top_p > 0.0 && top_p <= 1.0) {
        return Err(invalid(format!("top_p {top_p} must be in (0, 1]"), "top_p"));
    }
    let seed = match number("seed")? {
        None => seed_fallback,
        Some(s) if s.fract() == 0.0 => s.rem_euclid(f64::from(u32::MAX) + 1.0) as u32,
        Some(s) => return Err(invalid(format!("seed {s} must be a whole number"), "seed")),
    };
    if number("n")?.is_some_and(|n| n != 1.0) {
        return Err(invalid("only n = 1 is supported", "n"));
    }
    let stop = match &v["stop"] {
        Value::Null => Vec::new(),
        Value::String(s) => vec![s.clone()],
        Value::Array(a) => a
            .iter()
            .map(|s| s.as_str().map(str::to_owned))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| invalid("'stop' must be a string or an array of strings", "stop"))?,
        _ => {
            return Err(invalid(
                "'stop' must be a string or an array of strings",
                "stop",
            ))
        }
    };
    let flag = |name: &'static str| -> Result<bool, ApiError> {
        match &v[name] {
            Value::Null => Ok(false),
            Value::Bool(b) => Ok(*b),
            _ => Err(invalid(format!("'{name}' must be true or false"), name)),
        }
    };
    Ok(ApiRequest {
        generation: GenerationRequest {
            prompt,
            max_tokens,
            sampling: Sampling {
                temperature: temperature as f32,
                top_p: top_p as f32,
                seed,
            },
            ignore_eos: flag("ignore_eos")?,
            stop,
        },
        stream: flag("stream")?,
        include_usage: v["stream_options"]["include_usage"]
            .as_bool()
            .unwrap_or(false),
        model: v["model"].as_str().map(str::to_owned),
    })
}

fn messages(v: &Value) -> Result<Vec<ChatMessage>, ApiError> {
    let Some(list) = v.as_array().filter(|a| !a.is_empty()) else {
        return Err(invalid("'messages' must be a non-empty array", "messages"));
    };
    list.iter()
        .map(|m| {
            let role = m["role"]
                .as_str()
                .ok_or_else(|| invalid("every message needs a 'role' string", "messages"))?;
            let content = match &m["content"] {
                Value::String(s) => s.clone(),
                // Content parts: the text parts, joined.
                Value::Array(parts) => parts
                    .iter()
                    .filter(|p| p["type"] == "text")
                    .filter_map(|p| p["text"].as_str())
                    .collect::<Vec<_>>()
                    .join(""),
                Value::Null => String::new(),
                _ => {
                    return Err(invalid(
                        "a message's 'content' must be a string or parts",
                        "messages",
                    ))
                }
            };
            Ok(ChatMessage {
                role: role.to_owned(),
                content,
            })
        })
        .collect()
}

fn completion_prompt(v: &Value) -> Result<PromptInput, ApiError> {
    match v {
        Value::String(s) => Ok(PromptInput::Text(s.clone())),
        Value::Array(a) if a.len() == 1 && a[0].is_string() => Ok(PromptInput::Text(
            a[0].as_str().unwrap_or_default().to_owned(),
        )),
        Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_u64) => Ok(PromptInput::Tokens(
            a.iter()
                .map(|t| {
                    t.as_u64()
                        .and_then(|t| u32::try_from(t).ok())
                        .unwrap_or(u32::MAX)
                })
                .collect(),
        )),
        _ => Err(invalid(
            "'prompt' must be a string, or an array of token ids (one prompt per request)",
            "prompt",
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_request_with_every_option() {
        let body = br#"{"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,
            "stream_options":{"include_usage":true},"max_tokens":7,"temperature":0.5,"top_p":0.9,
            "seed":42,"ignore_eos":true,"stop":["\n\n"]}"#;
        let r = parse(Endpoint::Chat, body, 1).unwrap();
        assert!(r.stream && r.include_usage);
        assert_eq!(r.generation.max_tokens, 7);
        assert_eq!(
            r.generation.sampling,
            Sampling {
                temperature: 0.5,
                top_p: 0.9,
                seed: 42
            }
        );
        assert!(r.generation.ignore_eos);
        assert_eq!(r.generation.stop, vec!["\n\n".to_string()]);
        assert_eq!(
            r.generation.prompt,
            PromptInput::Chat(vec![ChatMessage {
                role: "user".into(),
                content: "hi".into()
            }])
        );
    }

    #[test]
    fn completions_take_text_or_token_ids() {
        let r = parse(Endpoint::Completions, br#"{"prompt":"abc"}"#, 3).unwrap();
        assert_eq!(r.generation.prompt, PromptInput::Text("abc".into()));
        assert_eq!(r.generation.max_tokens, DEFAULT_MAX_TOKENS);
        assert_eq!(r.generation.sampling.seed, 3);
        let r = parse(Endpoint::Completions, br#"{"prompt":[1,2,3]}"#, 0).unwrap();
        assert_eq!(r.generation.prompt, PromptInput::Tokens(vec![1, 2, 3]));
    }

    #[test]
    fn bad_requests_name_the_field() {
        for (endpoint, body, field) in [
            (Endpoint::Chat, &br#"{"messages":[]}"#[..], "messages"),
            (
                Endpoint::Chat,
                br#"{"messages":[{"content":"x"}]}"#,
                "messages",
            ),
            (Endpoint::Completions, br#"{"prompt":{}}"#, "prompt"),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","max_tokens":0}"#,
                "max_tokens",
            ),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","temperature":3}"#,
                "temperature",
            ),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","top_p":0}"#,
                "top_p",
            ),
            (Endpoint::Completions, br#"{"prompt":"x","n":2}"#, "n"),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","stop":[1]}"#,
                "stop",
            ),
            (
                Endpoint::Completions,
                br#"{"prompt":"x","stream":"yes"}"#,
                "stream",
            ),
        ] {
            let e = parse(endpoint, body, 0).unwrap_err();
            assert_eq!(
                (e.status, e.param),
                (400, Some(field)),
                "{}",
                String::from_utf8_lossy(body)
            );
        }
        assert_eq!(
            parse(Endpoint::Chat, b"{", 0).unwrap_err().code,
            "invalid_json"
        );
    }
}
