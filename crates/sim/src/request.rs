//! Reading an OpenAI completion request body into what the simulator needs.

use serde_json::Value;
use tokenpace_corpus::estimate_tokens;

use crate::error::ApiError;

/// Which OpenAI endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Endpoint {
    /// `POST /v1/chat/completions`
    Chat,
    /// `POST /v1/completions`
    Completions,
    /// llama.cpp's `POST /completion`.
    LlamaCpp,
    /// Ollama's `POST /api/generate`.
    OllamaGenerate,
    /// Ollama's `POST /api/chat`.
    OllamaChat,
    /// TGI's `POST /generate_stream`.
    Tgi,
}

impl Endpoint {
    /// The route, for the truth file.
    pub fn route(self) -> &'static str {
        match self {
            Endpoint::Chat => "POST /v1/chat/completions",
            Endpoint::Completions => "POST /v1/completions",
            Endpoint::LlamaCpp => "POST /completion",
            Endpoint::OllamaGenerate => "POST /api/generate",
            Endpoint::OllamaChat => "POST /api/chat",
            Endpoint::Tgi => "POST /generate_stream",
        }
    }

    /// Whether this is a server's native API rather than OpenAI's.
    pub fn is_native(self) -> bool {
        !matches!(self, Endpoint::Chat | Endpoint::Completions)
    }
}

/// The parts of a request that shape the response.
#[derive(Debug, Clone, PartialEq)]
pub struct GenRequest {
    /// Model name to echo (the server's when absent).
    pub model: Option<String>,
    /// Stream the answer as SSE.
    pub stream: bool,
    /// Send a usage chunk before `[DONE]` (`stream_options.include_usage`).
    pub include_usage: bool,
    /// `max_completion_tokens` or else `max_tokens`.
    pub max_tokens: Option<u64>,
    /// Keep generating past the natural end, up to `max_tokens`.
    pub ignore_eos: bool,
    /// Stop sequences.
    pub stop: Vec<String>,
    /// Estimated prompt tokens (see [`tokenpace_corpus::estimate_tokens`];
    /// a prompt given as token ids counts one per id).
    pub prompt_tokens: u64,
    /// `seed`, which picks where in the corpus the answer starts.
    pub seed: Option<u64>,
}

/// Parses and checks a request body; `max_tokens_limit` plays the part of
/// the context length.
pub fn parse(
    endpoint: Endpoint,
    body: &[u8],
    max_tokens_limit: u64,
) -> Result<GenRequest, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "invalid_request_error",
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    let obj = v
        .as_object()
        .ok_or_else(|| ApiError::invalid("request body must be a JSON object", None))?;
    if endpoint.is_native() {
        return native(endpoint, obj, max_tokens_limit);
    }
    let prompt_tokens = match endpoint {
        Endpoint::Chat => chat_prompt_tokens(obj.get("messages"))?,
        _ => completion_prompt_tokens(obj.get("prompt"))?,
    };
    let model = match obj.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("'model' must be a string", Some("model"))),
    };
    let stream = bool_field(obj.get("stream"), "stream")?;
    let include_usage = match obj.get("stream_options") {
        None | Some(Value::Null) => false,
        Some(Value::Object(o)) => bool_field(o.get("include_usage"), "stream_options")?,
        Some(_) => {
            return Err(ApiError::invalid(
                "'stream_options' must be an object",
                Some("stream_options"),
            ))
        }
    };
    let max_tokens = match obj.get("max_completion_tokens").filter(|v| !v.is_null()) {
        Some(v) => Some(token_limit(v, "max_completion_tokens", max_tokens_limit)?),
        None => match obj.get("max_tokens").filter(|v| !v.is_null()) {
            Some(v) => Some(token_limit(v, "max_tokens", max_tokens_limit)?),
            None => None,
        },
    };
    if let Some(n) = obj.get("n").filter(|v| !v.is_null()) {
        if n.as_u64() != Some(1) {
            return Err(ApiError::invalid("only n = 1 is supported", Some("n")));
        }
    }
    let seed = match obj.get("seed") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_i64().map(|i| i as u64))
                .ok_or_else(|| ApiError::invalid("'seed' must be an integer", Some("seed")))?,
        ),
    };
    Ok(GenRequest {
        model,
        stream,
        include_usage,
        max_tokens,
        ignore_eos: bool_field(obj.get("ignore_eos"), "ignore_eos")?,
        stop: stop_field(obj.get("stop"))?,
        prompt_tokens,
        seed,
    })
}

/// The native APIs: their prompt and length fields mapped onto the same
/// request; they always stream (the simulator answers only that way).
fn native(
    endpoint: Endpoint,
    obj: &serde_json::Map<String, Value>,
    limit: u64,
) -> Result<GenRequest, ApiError> {
    let (prompt_tokens, max, stream_default) = match endpoint {
        Endpoint::LlamaCpp => (
            completion_prompt_tokens(obj.get("prompt"))?,
            obj.get("n_predict"),
            false,
        ),
        Endpoint::OllamaGenerate | Endpoint::OllamaChat => {
            let tokens = if endpoint == Endpoint::OllamaChat {
                chat_prompt_tokens(obj.get("messages"))?
            } else {
                completion_prompt_tokens(obj.get("prompt"))?
            };
            let max = obj.get("options").and_then(|o| o.get("num_predict"));
            (tokens, max, true)
        }
        _ => {
            let inputs = obj.get("inputs");
            let max = obj.get("parameters").and_then(|p| p.get("max_new_tokens"));
            (completion_prompt_tokens(inputs)?, max, true)
        }
    };
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => stream_default,
        v => bool_field(v, "stream")?,
    };
    if !stream {
        return Err(ApiError::invalid(
            "the simulator answers native APIs only as a stream: send \"stream\": true",
            Some("stream"),
        ));
    }
    let max_tokens = match max.filter(|v| !v.is_null()) {
        // llama.cpp and Ollama take -1 for "no limit".
        Some(v) if v.as_i64() == Some(-1) => None,
        Some(v) => Some(token_limit(v, "max tokens", limit)?),
        None => None,
    };
    Ok(GenRequest {
        model: obj.get("model").and_then(Value::as_str).map(str::to_owned),
        stream: true,
        include_usage: false,
        max_tokens,
        ignore_eos: bool_field(obj.get("ignore_eos"), "ignore_eos")?,
        stop: Vec::new(),
        prompt_tokens,
        seed: None,
    })
}

fn bool_field(v: Option<&Value>, name: &'static str) -> Result<bool, ApiError> {
    match v {
        None | Some(Value::Null) => Ok(false),
        Some(Value::Bool(b)) => Ok(*b),
        Some(_) => Err(ApiError::invalid(
            format!("'{name}' must be a boolean"),
            Some(name),
        )),
    }
}

fn token_limit(v: &Value, name: &'static str, limit: u64) -> Result<u64, ApiError> {
    match v.as_u64() {
        Some(n) if (1..=limit).contains(&n) => Ok(n),
        Some(n) if n > limit => Err(ApiError {
            code: "context_length_exceeded",
            ..ApiError::invalid(
                format!("'{name}' is {n}, but this model allows at most {limit} completion tokens"),
                Some(name),
            )
        }),
        _ => Err(ApiError::invalid(
            format!("'{name}' must be an integer from 1 to {limit}, got {v}"),
            Some(name),
        )),
    }
}

fn stop_field(v: Option<&Value>) -> Result<Vec<String>, ApiError> {
    let bad = || {
        ApiError::invalid(
            "'stop' must be a string or an array of up to 4 strings",
            Some("stop"),
        )
    };
    match v {
        None | Some(Value::Null) => Ok(Vec::new()),
        Some(Value::String(s)) => Ok(vec![s.clone()]
            .into_iter()
            .filter(|s| !s.is_empty())
            .collect()),
        Some(Value::Array(items)) if items.len() <= 4 => items
            .iter()
            .map(|i| i.as_str().map(str::to_owned).ok_or_else(bad))
            .filter(|s| !matches!(s, Ok(s) if s.is_empty()))
            .collect(),
        Some(_) => Err(bad()),
    }
}

fn chat_prompt_tokens(messages: Option<&Value>) -> Result<u64, ApiError> {
    let missing = || ApiError {
        code: "missing_required_parameter",
        ..ApiError::invalid(
            "'messages' is required: a non-empty array of messages",
            Some("messages"),
        )
    };
    let list = messages.and_then(Value::as_array).ok_or_else(missing)?;
    if list.is_empty() {
        return Err(missing());
    }
    let mut tokens = 0u64;
    for (i, m) in list.iter().enumerate() {
        let bad =
            |what: &str| ApiError::invalid(format!("messages[{i}]: {what}"), Some("messages"));
        let m = m.as_object().ok_or_else(|| bad("must be an object"))?;
        if !m.get("role").is_some_and(Value::is_string) {
            return Err(bad("'role' is required and must be a string"));
        }
        match m.get("content") {
            None | Some(Value::Null) => {}
            Some(Value::String(s)) => tokens += estimate_tokens(s),
            Some(Value::Array(parts)) => {
                for p in parts {
                    match p.get("text").and_then(Value::as_str) {
                        Some(t) => tokens += estimate_tokens(t),
                        None if p.get("type").is_some() => {}
                        None => return Err(bad("content parts must be objects with a 'type'")),
                    }
                }
            }
            Some(_) => return Err(bad("'content' must be a string or an array of parts")),
        }
    }
    Ok(tokens)
}

fn completion_prompt_tokens(prompt: Option<&Value>) -> Result<u64, ApiError> {
    let bad = || ApiError {
        code: "missing_required_parameter",
        ..ApiError::invalid(
            "'prompt' is required: a string, an array of strings or an array of token ids",
            Some("prompt"),
        )
    };
    match prompt {
        Some(Value::String(s)) => Ok(estimate_tokens(s)),
        Some(Value::Array(items)) if !items.is_empty() => {
            let mut tokens = 0;
            for item in items {
                tokens += match item {
                    Value::String(s) => estimate_tokens(s),
                    Value::Number(_) => 1,
                    Value::Array(ids) if ids.iter().all(Value::is_number) => ids.len() as u64,
                    _ => return Err(bad()),
                };
            }
            Ok(tokens)
        }
        _ => Err(bad()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chat_request_fields() {
        let r = parse(
            Endpoint::Chat,
            r#"{"model":"m","messages":[{"role":"user","content":"abcdefgh"},{"role":"user","content":[{"type":"text","text":"你好你"}]}],
               "stream":true,"stream_options":{"include_usage":true},"max_tokens":5,"max_completion_tokens":7,
               "ignore_eos":true,"stop":["x","y"],"seed":3}"#
                .as_bytes(),
            100,
        )
        .unwrap();
        assert_eq!(r.prompt_tokens, 2 + 2);
        assert_eq!(r.max_tokens, Some(7));
        assert!(r.stream && r.include_usage && r.ignore_eos);
        assert_eq!(r.stop, vec!["x", "y"]);
        assert_eq!(r.seed, Some(3));
    }

    #[test]
    fn completion_prompts() {
        let r = parse(Endpoint::Completions, br#"{"prompt":[[1,2,3],"abcd"]}"#, 10).unwrap();
        assert_eq!(r.prompt_tokens, 4);
        assert!(!r.stream);
    }

    #[test]
    fn native_requests() {
        let r = parse(
            Endpoint::LlamaCpp,
            br#"{"prompt":"abcdefgh","n_predict":5,"stream":true,"ignore_eos":true}"#,
            10,
        )
        .unwrap();
        assert_eq!(
            (r.prompt_tokens, r.max_tokens, r.ignore_eos),
            (2, Some(5), true)
        );
        let r = parse(
            Endpoint::OllamaChat,
            br#"{"model":"m","messages":[{"role":"user","content":"abcd"}],"options":{"num_predict":-1}}"#,
            10,
        )
        .unwrap();
        assert_eq!((r.prompt_tokens, r.max_tokens, r.stream), (1, None, true));
        let r = parse(
            Endpoint::Tgi,
            br#"{"inputs":"abcd","parameters":{"max_new_tokens":3}}"#,
            10,
        )
        .unwrap();
        assert_eq!(r.max_tokens, Some(3));
        let e = parse(Endpoint::LlamaCpp, br#"{"prompt":"a"}"#, 10).unwrap_err();
        assert!(e.message.contains("stream"), "{}", e.message);
        let e = parse(Endpoint::Tgi, br#"{"parameters":{}}"#, 10).unwrap_err();
        assert_eq!(e.status, 400);
    }

    #[test]
    fn bad_requests_are_400s() {
        let cases: [(&[u8], &str); 9] = [
            (b"{not json", "invalid_json"),
            (b"[1]", "invalid_value"),
            (br#"{"model":"m"}"#, "missing_required_parameter"),
            (br#"{"messages":[]}"#, "missing_required_parameter"),
            (br#"{"messages":[{"content":"x"}]}"#, "invalid_value"),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":-1}"#,
                "invalid_value",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":1e30}"#,
                "invalid_value",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"max_tokens":101}"#,
                "context_length_exceeded",
            ),
            (
                br#"{"messages":[{"role":"user","content":"x"}],"stream":"yes"}"#,
                "invalid_value",
            ),
        ];
        for (body, code) in cases {
            let e = parse(Endpoint::Chat, body, 100).unwrap_err();
            assert_eq!(e.status, 400);
            assert_eq!(e.code, code, "{}", String::from_utf8_lossy(body));
        }
    }
}
