//! The routes' endpoints, and a request body read into a checked, typed
//! [`CompletionRequest`]: one parser, so every server accepts and refuses
//! the same requests with the same errors.

use serde_json::{Map, Value};

use crate::error::ApiError;
use crate::tools::{self, Tool, ToolCall, ToolChoice};

mod anthropic;
mod prompt;
mod responses;
pub mod strict;

pub(crate) use prompt::chat_prompt;
use prompt::completion_prompt;

/// Which API a request came in on.
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
    /// Anthropic's `POST /v1/messages`.
    Messages,
    /// OpenAI's `POST /v1/responses`.
    Responses,
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
            Endpoint::Messages => "POST /v1/messages",
            Endpoint::Responses => "POST /v1/responses",
        }
    }

    /// Whether this is an inference server's native API (llama.cpp,
    /// Ollama, TGI), answered with its own final event.
    pub fn is_native(self) -> bool {
        matches!(
            self,
            Endpoint::LlamaCpp | Endpoint::OllamaGenerate | Endpoint::OllamaChat | Endpoint::Tgi
        )
    }

    /// Whether every event of its stream names its type, and a response
    /// opens and closes with events of its own (Anthropic Messages, OpenAI
    /// Responses; see [`crate::sse`]).
    pub fn typed_events(self) -> bool {
        matches!(self, Endpoint::Messages | Endpoint::Responses)
    }
}

/// A completion request, checked and typed: the fields the servers act on.
#[derive(Debug, Clone, PartialEq)]
pub struct CompletionRequest {
    /// What to complete.
    pub prompt: RequestPrompt,
    /// Model name to echo (the server's when absent).
    pub model: Option<String>,
    /// Stream the answer.
    pub stream: bool,
    /// Send a usage chunk before `[DONE]` (`stream_options.include_usage`).
    pub include_usage: bool,
    /// Send the counts so far on every chunk too
    /// (`stream_options.continuous_usage_stats`, vLLM's; like vLLM, only
    /// with `include_usage`).
    pub continuous_usage: bool,
    /// `max_completion_tokens` or else `max_tokens` (the native APIs' own
    /// names on theirs; their -1, "no limit", is `None`).
    pub max_tokens: Option<u64>,
    /// Keep generating past the natural end, up to `max_tokens`.
    pub ignore_eos: bool,
    /// Generate at least this many tokens before an end or a stop
    /// sequence (`min_tokens`, vLLM's; 0 when absent).
    pub min_tokens: u64,
    /// Stop sequences (none empty).
    pub stop: Vec<String>,
    /// `seed` (a negative one wraps around).
    pub seed: Option<u64>,
    /// Functions the model may call (chat only).
    pub tools: Vec<Tool>,
    /// Whether it must call one.
    pub tool_choice: ToolChoice,
    /// The body's other fields, for settings only one server acts on
    /// (see [`CompletionRequest::number`]).
    rest: Map<String, Value>,
}

impl CompletionRequest {
    /// A numeric field of the body that this crate does not interpret
    /// (`temperature`, `top_p`, …): `None` when absent or null, an error
    /// naming the field when it is not a number.
    pub fn number(&self, name: &'static str) -> Result<Option<f64>, ApiError> {
        match self.rest.get(name) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(_) => Err(ApiError::invalid(
                format!("'{name}' must be a number"),
                Some(name),
            )),
        }
    }
}

/// What a request asks to complete.
#[derive(Debug, Clone, PartialEq)]
pub enum RequestPrompt {
    /// Chat messages (`messages`).
    Chat(Vec<Message>),
    /// One or more prompts (`prompt`, or TGI's `inputs`), in order.
    Completion(Vec<PromptPart>),
}

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `system`, `user`, `assistant`, …
    pub role: String,
    /// The text parts of its content in order (a plain string content is
    /// one part; parts without text, such as images, are left out).
    pub parts: Vec<String>,
    /// Calls an assistant message made (its content may then be null).
    pub tool_calls: Vec<ToolCall>,
    /// The call a `tool` message answers.
    pub tool_call_id: Option<String>,
}

impl Message {
    /// The text of the message: its parts joined.
    pub fn text(&self) -> String {
        self.parts.concat()
    }
}

/// One prompt of a completions request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptPart {
    /// Text.
    Text(String),
    /// Token ids; a number that is not a non-negative integer is kept as
    /// `u64::MAX`, which no vocabulary has.
    Tokens(Vec<u64>),
}

/// Parses and checks a request body; `max_tokens_limit` plays the part of
/// the context length.
pub fn parse(
    endpoint: Endpoint,
    body: &[u8],
    max_tokens_limit: u64,
) -> Result<CompletionRequest, ApiError> {
    let mut obj = object(body)?;
    if endpoint.is_native() {
        return native(endpoint, &obj, max_tokens_limit);
    }
    match endpoint {
        Endpoint::Messages => return anthropic::parse(obj, max_tokens_limit),
        Endpoint::Responses => return responses::parse(obj, max_tokens_limit),
        _ => {}
    }
    let prompt = match endpoint {
        Endpoint::Chat => chat_prompt(obj.get("messages"), true)?,
        _ => completion_prompt(obj.get("prompt"))?,
    };
    let model = match obj.get("model") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(s.clone()),
        Some(_) => return Err(ApiError::invalid("'model' must be a string", Some("model"))),
    };
    let stream = bool_field(obj.get("stream"), "stream")?;
    let (include_usage, continuous_usage) = stream_options(obj.get("stream_options"))?;
    let max_tokens = openai_max_tokens(&obj, max_tokens_limit)?;
    let seed = match obj.get("seed") {
        None | Some(Value::Null) => None,
        Some(v) => Some(
            v.as_u64()
                .or_else(|| v.as_i64().map(|i| i as u64))
                .ok_or_else(|| ApiError::invalid("'seed' must be an integer", Some("seed")))?,
        ),
    };
    let (ignore_eos, min_tokens) = length_controls(&obj, max_tokens)?;
    let stop = stop_field(obj.get("stop"))?;
    let (tools, tool_choice) = if endpoint == Endpoint::Chat {
        let tools = tools::tools(obj.get("tools"))?;
        let choice = tools::tool_choice(obj.get("tool_choice"), &tools)?;
        (tools, choice)
    } else {
        (Vec::new(), ToolChoice::None)
    };
    for known in [
        "messages",
        "prompt",
        "model",
        "stream",
        "stream_options",
        "stop",
        "tools",
        "tool_choice",
    ] {
        obj.remove(known);
    }
    Ok(CompletionRequest {
        model,
        prompt,
        stream,
        include_usage,
        continuous_usage,
        max_tokens,
        ignore_eos,
        min_tokens,
        stop,
        seed,
        tools,
        tool_choice,
        rest: obj,
    })
}

/// A request body read as a JSON object.
pub(crate) fn object(body: &[u8]) -> Result<Map<String, Value>, ApiError> {
    let v: Value = serde_json::from_slice(body).map_err(|e| {
        ApiError::new(
            400,
            "invalid_request_error",
            "invalid_json",
            format!("request body is not valid JSON: {e}"),
        )
    })?;
    match v {
        Value::Object(obj) => Ok(obj),
        _ => Err(ApiError::invalid(
            "request body must be a JSON object",
            None,
        )),
    }
}

/// The native APIs: their prompt and length fields mapped onto the same
/// request. llama.cpp streams only when asked; Ollama and TGI's streaming
/// routes stream unless told not to.
fn native(
    endpoint: Endpoint,
    obj: &Map<String, Value>,
    limit: u64,
) -> Result<CompletionRequest, ApiError> {
    let (prompt, max, stream_default) = match endpoint {
        Endpoint::LlamaCpp => (
            completion_prompt(obj.get("prompt"))?,
            obj.get("n_predict"),
            false,
        ),
        Endpoint::OllamaGenerate | Endpoint::OllamaChat => {
            let prompt = if endpoint == Endpoint::OllamaChat {
                chat_prompt(obj.get("messages"), false)?
            } else {
                completion_prompt(obj.get("prompt"))?
            };
            let max = obj.get("options").and_then(|o| o.get("num_predict"));
            (prompt, max, true)
        }
        _ => {
            let inputs = obj.get("inputs");
            let max = obj.get("parameters").and_then(|p| p.get("max_new_tokens"));
            (completion_prompt(inputs)?, max, true)
        }
    };
    let stream = match obj.get("stream") {
        None | Some(Value::Null) => stream_default,
        v => bool_field(v, "stream")?,
    };
    let max_tokens = match max.filter(|v| !v.is_null()) {
        // llama.cpp and Ollama take -1 for "no limit".
        Some(v) if v.as_i64() == Some(-1) => None,
        Some(v) => Some(token_limit(v, "max tokens", limit)?),
        None => None,
    };
    Ok(CompletionRequest {
        model: obj.get("model").and_then(Value::as_str).map(str::to_owned),
        prompt,
        stream,
        include_usage: false,
        continuous_usage: false,
        max_tokens,
        ignore_eos: bool_field(obj.get("ignore_eos"), "ignore_eos")?,
        min_tokens: 0,
        stop: Vec::new(),
        seed: None,
        tools: Vec::new(),
        tool_choice: ToolChoice::None,
        rest: Map::new(),
    })
}

/// `max_completion_tokens` or else `max_tokens`; and `n`, which must be 1.
fn openai_max_tokens(obj: &Map<String, Value>, limit: u64) -> Result<Option<u64>, ApiError> {
    if let Some(n) = obj.get("n").filter(|v| !v.is_null()) {
        if n.as_u64() != Some(1) {
            return Err(ApiError::invalid("only n = 1 is supported", Some("n")));
        }
    }
    match obj.get("max_completion_tokens").filter(|v| !v.is_null()) {
        Some(v) => token_limit(v, "max_completion_tokens", limit).map(Some),
        None => match obj.get("max_tokens").filter(|v| !v.is_null()) {
            Some(v) => token_limit(v, "max_tokens", limit).map(Some),
            None => Ok(None),
        },
    }
}

/// `stream_options`: whether to send usage at the end, and on every chunk.
fn stream_options(v: Option<&Value>) -> Result<(bool, bool), ApiError> {
    match v {
        None | Some(Value::Null) => Ok((false, false)),
        Some(Value::Object(o)) => {
            let usage = bool_field(o.get("include_usage"), "stream_options")?;
            let every = bool_field(o.get("continuous_usage_stats"), "stream_options")?;
            Ok((usage, usage && every))
        }
        Some(_) => Err(ApiError::invalid(
            "'stream_options' must be an object",
            Some("stream_options"),
        )),
    }
}

/// `ignore_eos`, and `min_tokens` (vLLM's), which `max_tokens` bounds.
fn length_controls(
    obj: &Map<String, Value>,
    max_tokens: Option<u64>,
) -> Result<(bool, u64), ApiError> {
    let ignore_eos = bool_field(obj.get("ignore_eos"), "ignore_eos")?;
    let min = match obj.get("min_tokens").filter(|v| !v.is_null()) {
        None => 0,
        Some(v) => v.as_u64().ok_or_else(|| {
            ApiError::invalid(
                format!("'min_tokens' must be a non-negative integer, got {v}"),
                Some("min_tokens"),
            )
        })?,
    };
    match max_tokens {
        Some(max) if min > max => Err(ApiError::invalid(
            format!("'min_tokens' ({min}) must not exceed the maximum tokens ({max})"),
            Some("min_tokens"),
        )),
        _ => Ok((ignore_eos, min)),
    }
}

pub(crate) fn bool_field(v: Option<&Value>, name: &'static str) -> Result<bool, ApiError> {
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

#[cfg(test)]
mod tests;
