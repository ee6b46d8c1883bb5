//! `tokenpace serve`: an OpenAI-compatible streaming server in front of any
//! [`Generator`]: the embedded llama.cpp engine, or a test double. Routes:
//! `POST /v1/chat/completions`, `POST /v1/completions` (streamed or whole,
//! with `usage` and llama.cpp-style `timings`), `GET /v1/models`,
//! `GET /health`, `GET /metrics` (Prometheus).
#![deny(missing_docs)]

mod events;
pub mod generate;
mod metrics;
mod request;
mod server;

pub use generate::{
    ChatMessage, FinishReason, Finished, GenEvent, GenerationRequest, Generator, PromptInput,
    Sampling, SubmitError,
};
pub use server::{start, ServeConfig, ServeHandle};
