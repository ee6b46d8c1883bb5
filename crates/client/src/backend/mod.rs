//! Backends: how to ask a server for a completion, and how to read its
//! streamed events. The load loop only sees this trait, so native APIs
//! (llama.cpp, Ollama, TGI) and other streaming APIs (Anthropic Messages,
//! OpenAI Responses) plug in without touching it.

pub mod anthropic;
#[cfg(test)]
mod captured;
#[cfg(test)]
mod hosted;
pub mod llamacpp;
pub mod ollama;
pub mod openai;
pub mod responses;
#[cfg(test)]
mod stream_tests;
pub mod tgi;

use std::borrow::Cow;

/// One request to make.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompt {
    /// The user message (chat) or the prompt text (completions).
    pub text: String,
    /// A whole chat conversation to send instead of `text` (chat only;
    /// completions send `text`).
    pub messages: Option<serde_json::Value>,
    /// Prompt tokens as the workload counted them, with the method.
    pub tokens: Option<tokenpace_core::record::TokenCount>,
    /// `max_tokens` to ask for.
    pub max_tokens: u32,
    /// Ask the server to ignore end-of-sequence, for fixed-length outputs.
    pub ignore_eos: bool,
    /// Ask for usage on every chunk (vLLM's `continuous_usage_stats`), so
    /// each chunk's tokens are known.
    pub per_chunk_usage: bool,
    /// Tool definitions (OpenAI `tools`) the model may call (chat only).
    pub tools: Option<serde_json::Value>,
    /// OpenAI `tool_choice` (`auto`, `required`, `none`), with `tools`.
    pub tool_choice: Option<&'static str>,
    /// Headers of this request alone (a session id for sticky routing).
    pub headers: Vec<(String, String)>,
    /// The model to ask for instead of the target's (a mixed run,
    /// `--model-mix`); the record keeps it.
    pub model: Option<String>,
}

/// Token counts a server reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ReportedUsage {
    /// Prompt tokens.
    pub prompt_tokens: Option<u32>,
    /// Generated tokens (answer and reasoning).
    pub completion_tokens: Option<u32>,
    /// Of those, reasoning tokens.
    pub reasoning_tokens: Option<u32>,
    /// Of the prompt tokens, those served from the server's prefix cache.
    pub cached_tokens: Option<u32>,
}

/// A piece of a streamed tool call (OpenAI `delta.tool_calls[i]`): the
/// first piece of a call carries its id and name, later ones more of its
/// JSON arguments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ToolCallDelta<'a> {
    /// Which call of the response this piece belongs to.
    pub index: u32,
    /// The call's id, on its first piece.
    pub id: Option<Cow<'a, str>>,
    /// The function's name, on its first piece.
    pub name: Option<Cow<'a, str>>,
    /// More of the JSON arguments.
    pub arguments: Cow<'a, str>,
}

/// What one streamed event said.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Delta<'a> {
    /// The response id the server gave, if the event carries one.
    pub id: Option<Cow<'a, str>>,
    /// Visible answer text.
    pub answer: Cow<'a, str>,
    /// Reasoning text.
    pub reasoning: Cow<'a, str>,
    /// Tool-call pieces.
    pub tool_calls: Vec<ToolCallDelta<'a>>,
    /// Token counts, usually on the last event.
    pub usage: Option<ReportedUsage>,
    /// Why generation stopped (`stop`, `length`, …), on the last text event.
    pub finish_reason: Option<Cow<'a, str>>,
    /// An error the server reported inside the stream.
    pub error: Option<String>,
    /// Timings the server measured itself, usually on the last event.
    pub timings: Option<tokenpace_core::record::ServerTimings>,
}

/// A parsed event.
// Built and consumed on the stack once per event: boxing the large variant
// would allocate once per streamed chunk.
#[allow(clippy::large_enum_variant)]
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// The end-of-stream marker (`[DONE]`).
    Done,
    /// Anything else.
    Delta(Delta<'a>),
}

/// How a response body divides into events.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventFraming {
    /// Server-Sent Events (`data: …` and a blank line).
    Sse,
    /// One JSON object per line.
    Ndjson,
}

/// A server protocol.
pub trait Backend: Send + Sync {
    /// How the streamed body is framed.
    fn framing(&self) -> EventFraming {
        EventFraming::Sse
    }
    /// A short id, recorded in run settings (`openai-chat`).
    fn id(&self) -> &'static str;
    /// The path to POST to, relative to the base URL.
    fn path(&self) -> &'static str;
    /// The headers that authenticate a request with `api_key`, and any
    /// other the API requires (`Authorization: Bearer …` unless the API
    /// says otherwise). The key is redacted from everything kept.
    fn auth_headers(&self, api_key: Option<&str>) -> Vec<(&'static str, String)> {
        api_key
            .map(|k| ("authorization", format!("Bearer {k}")))
            .into_iter()
            .collect()
    }
    /// Whether the API streams tool calls (agent tasks need them).
    fn streams_tool_calls(&self) -> bool {
        false
    }
    /// The JSON body of a streaming request.
    fn body(&self, model: &str, prompt: &Prompt) -> serde_json::Value;
    /// Parses one event's data. An error is a malformed event: it says
    /// why, and never quotes the event (the recorder shows its start, with
    /// secrets redacted first).
    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String>;
}

/// Every protocol's id, as `bench --backend` takes it.
pub const IDS: [&str; 8] = [
    "openai-chat",
    "openai-completions",
    "llamacpp",
    "ollama",
    "ollama-chat",
    "tgi",
    "anthropic",
    "responses",
];

/// The backend with id `id` (see [`IDS`]).
pub fn by_id(id: &str) -> Option<std::sync::Arc<dyn Backend>> {
    use std::sync::Arc;
    Some(match id {
        "openai-chat" => Arc::new(openai::OpenAiChat),
        "openai-completions" => Arc::new(openai::OpenAiCompletions),
        "llamacpp" => Arc::new(llamacpp::LlamaCpp),
        "ollama" => Arc::new(ollama::Ollama { chat: false }),
        "ollama-chat" => Arc::new(ollama::Ollama { chat: true }),
        "tgi" => Arc::new(tgi::Tgi),
        "anthropic" => Arc::new(anthropic::Anthropic),
        "responses" => Arc::new(responses::Responses),
        _ => return None,
    })
}

/// A rate from a count and a duration in seconds, when both make sense.
pub(crate) fn rate(count: Option<f64>, seconds: Option<f64>) -> Option<f64> {
    match (count, seconds) {
        (Some(n), Some(s)) if n > 0.0 && s > 0.0 && (n / s).is_finite() => Some(n / s),
        _ => None,
    }
}

/// A chat message's content as text: a string, or its text parts joined.
pub(crate) fn content_text(content: Option<&serde_json::Value>) -> String {
    use serde_json::Value;
    match content {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Array(parts)) => parts
            .iter()
            .filter_map(|p| p.get("text").and_then(Value::as_str))
            .collect(),
        _ => String::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_id_names_its_backend() {
        for id in super::IDS {
            assert_eq!(super::by_id(id).unwrap().id(), id);
        }
        let tools: Vec<&str> = super::IDS
            .into_iter()
            .filter(|id| super::by_id(id).unwrap().streams_tool_calls())
            .collect();
        assert_eq!(tools, ["openai-chat", "anthropic", "responses"]);
        assert!(super::by_id("vllm").is_none());
    }
}
