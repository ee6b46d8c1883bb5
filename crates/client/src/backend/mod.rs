//! Backends: how to ask a server for a completion, and how to read its
//! streamed events. The load loop only sees this trait, so native APIs
//! (llama.cpp, Ollama, TGI) plug in without touching it.

pub mod openai;

use std::borrow::Cow;

/// One request to make.
#[derive(Debug, Clone, PartialEq)]
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
}

/// Token counts a server reported.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Usage {
    /// Prompt tokens.
    pub prompt_tokens: Option<u32>,
    /// Generated tokens (answer and reasoning).
    pub completion_tokens: Option<u32>,
    /// Of those, reasoning tokens.
    pub reasoning_tokens: Option<u32>,
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
    /// Token counts, usually on the last event.
    pub usage: Option<Usage>,
    /// Why generation stopped (`stop`, `length`, …), on the last text event.
    pub finish_reason: Option<Cow<'a, str>>,
    /// An error the server reported inside the stream.
    pub error: Option<String>,
}

/// A parsed event.
#[derive(Debug, Clone, PartialEq)]
pub enum Event<'a> {
    /// The end-of-stream marker (`[DONE]`).
    Done,
    /// Anything else.
    Delta(Delta<'a>),
}

/// A server protocol.
pub trait Backend: Send + Sync {
    /// A short id, recorded in run settings (`openai-chat`).
    fn id(&self) -> &'static str;
    /// The path to POST to, relative to the base URL.
    fn path(&self) -> &'static str;
    /// The JSON body of a streaming request.
    fn body(&self, model: &str, prompt: &Prompt) -> serde_json::Value;
    /// Parses one event's data. An error is a malformed event.
    fn parse_event<'a>(&self, data: &'a [u8]) -> Result<Event<'a>, String>;
}
