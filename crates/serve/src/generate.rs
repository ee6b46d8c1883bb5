//! What the server asks of a text generator, and what it hears back. The
//! embedded llama.cpp engine implements [`Generator`]; tests use a small
//! deterministic one, so the HTTP layer is tested without a C++ toolchain.

use tokio::sync::mpsc::UnboundedReceiver;

/// One chat message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChatMessage {
    /// `system`, `user`, `assistant`, …
    pub role: String,
    /// The text.
    pub content: String,
}

/// The prompt, as the client sent it.
#[derive(Debug, Clone, PartialEq)]
pub enum PromptInput {
    /// Chat messages, to be formatted with the model's chat template.
    Chat(Vec<ChatMessage>),
    /// Raw text (the completions endpoint), tokenized as is.
    Text(String),
    /// Token ids (the completions endpoint).
    Tokens(Vec<u32>),
}

/// How the next token is chosen.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Sampling {
    /// 0 means greedy (always the most likely token).
    pub temperature: f32,
    /// Nucleus sampling: keep the smallest set of tokens whose probability
    /// adds up to `top_p` (1 keeps all).
    pub top_p: f32,
    /// Seed of the random choice; the same seed, prompt and settings give
    /// the same text.
    pub seed: u32,
}

impl Default for Sampling {
    fn default() -> Self {
        Sampling {
            temperature: 0.0,
            top_p: 1.0,
            seed: 0,
        }
    }
}

/// A generation request.
#[derive(Debug, Clone, PartialEq)]
pub struct GenerationRequest {
    /// The prompt.
    pub prompt: PromptInput,
    /// Stop after this many tokens.
    pub max_tokens: u32,
    /// How tokens are chosen.
    pub sampling: Sampling,
    /// Keep going past end-of-generation tokens, up to `max_tokens`.
    pub ignore_eos: bool,
    /// Stop as soon as the text ends with one of these.
    pub stop: Vec<String>,
}

/// Why a generation ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FinishReason {
    /// The model ended its answer, or a stop string was produced.
    Stop,
    /// `max_tokens` was reached (or the context is full).
    Length,
}

impl FinishReason {
    /// The OpenAI name.
    pub fn as_str(self) -> &'static str {
        match self {
            FinishReason::Stop => "stop",
            FinishReason::Length => "length",
        }
    }
}

/// Counts and timings of a finished generation, as the generator measured them.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Finished {
    /// Why it ended.
    pub reason: FinishReason,
    /// Prompt tokens, cached ones included.
    pub prompt_tokens: u32,
    /// Prompt tokens whose KV came from an earlier request's (a prefix
    /// cache), so were not computed again; `None` when the generator has
    /// no prefix cache.
    pub cached_tokens: Option<u32>,
    /// Tokens generated.
    pub completion_tokens: u32,
    /// Time spent waiting for a free slot, ms.
    pub queue_ms: f64,
    /// From the first prompt token entering the engine to the first
    /// generated token, ms.
    pub prompt_ms: f64,
    /// From the first generated token to the last, ms.
    pub predicted_ms: f64,
}

/// What a generation sends back, in order: `Started`, any number of
/// `Text`, then `Done` or `Failed`.
#[derive(Debug, Clone, PartialEq)]
pub enum GenEvent {
    /// The prompt was accepted (and tokenized).
    Started {
        /// Its length in tokens.
        prompt_tokens: u32,
    },
    /// One generated token's text: only complete UTF-8 characters, so it
    /// may be empty (a character split over tokens arrives with the token
    /// that completes it).
    Token(String),
    /// The end.
    Done(Finished),
    /// The generation broke off.
    Failed(String),
}

/// Why a request was refused before it started.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SubmitError {
    /// The request itself is unusable (HTTP 400).
    #[error("{0}")]
    Invalid(String),
    /// The generator has stopped (HTTP 503).
    #[error("{0}")]
    Unavailable(String),
    /// The generator cannot do this at all (HTTP 501).
    #[error("{0}")]
    Unsupported(String),
}

/// How `/tokenize` reads a prompt (vLLM's options). The default is what
/// the completions and chat routes do.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TokenizeOptions {
    /// Add the special tokens (BOS) the routes add.
    pub add_special_tokens: bool,
    /// Chat: end with the opening of the assistant's turn, as the chat
    /// route does.
    pub add_generation_prompt: bool,
}

impl Default for TokenizeOptions {
    fn default() -> Self {
        TokenizeOptions {
            add_special_tokens: true,
            add_generation_prompt: true,
        }
    }
}

/// A prompt's tokens, as the generator would count them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tokenized {
    /// The token ids.
    pub ids: Vec<u32>,
    /// The most tokens one request's context holds.
    pub max_model_len: u32,
}

/// A text generator that serves requests concurrently.
pub trait Generator: Send + Sync + 'static {
    /// The model name for `/v1/models` and responses.
    fn model_name(&self) -> &str;
    /// Queues a request; its events arrive on the receiver. Dropping the
    /// receiver cancels the request.
    fn submit(
        &self,
        request: GenerationRequest,
    ) -> Result<UnboundedReceiver<GenEvent>, SubmitError>;
    /// Requests running and waiting now, for `/metrics`.
    fn load(&self) -> (usize, usize);
    /// The prompt's tokens, for `POST /tokenize`: with the default
    /// `options`, exactly those [`Generator::submit`] would count as the
    /// prompt (its `Started::prompt_tokens`). A generator without a
    /// tokenizer keeps this default, and `/tokenize` answers 501.
    fn tokenize_prompt(
        &self,
        prompt: &PromptInput,
        options: TokenizeOptions,
    ) -> Result<Tokenized, SubmitError> {
        let _ = (prompt, options);
        Err(SubmitError::Unsupported(format!(
            "the generator behind this server ({}) has no tokenizer to offer: /tokenize is not available",
            self.model_name()
        )))
    }
}
