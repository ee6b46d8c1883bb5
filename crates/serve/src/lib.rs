//! `tokenpace serve`: an OpenAI- and Anthropic-compatible streaming server
//! in front of any [`Generator`]: the embedded llama.cpp engine, or a test
//! double. Routes: `POST /v1/chat/completions`, `POST /v1/completions`
//! (streamed or whole, with `usage` and llama.cpp-style `timings`),
//! `POST /v1/responses` (OpenAI Responses), `POST /v1/messages` (Anthropic
//! Messages), `POST /tokenize` (vLLM's shape, on the generator's own
//! tokenizer: `tokenize`), `GET /v1/models`, `GET /health`, `GET /metrics`
//! (Prometheus). With [`ServeConfig::api_key`] every route but `/health`
//! needs the key, as a bearer token or as `x-api-key`.
//! Tools are offered to the model hermes-style and its `<tool_call>`s come
//! back as each API's tool calls (`toolcall`); what it cannot do is
//! refused with a 400 that names it (`support`).
#![deny(missing_docs)]

mod answer;
mod events;
pub mod generate;
mod metrics;
mod request;
mod respond;
mod server;
mod support;
mod tokenize;
mod toolcall;
mod tools;

pub use generate::{
    ChatMessage, FinishReason, Finished, GenEvent, GenerationRequest, Generator, PromptInput,
    Sampling, SubmitError, TokenizeOptions, Tokenized,
};
pub use server::{open_to_others, start, ServeConfig, ServeHandle};
