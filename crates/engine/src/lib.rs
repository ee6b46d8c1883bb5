//! tokenpace's embedded engine: runs a GGUF model on the CPU in-process
//! through llama.cpp (via the `llama-cpp-2` bindings), and serves many
//! requests at once by continuous batching: every step decodes one token for
//! each running request and a slice of the waiting prompts in one batch.
//! A finished request's KV stays in its slot, so a prompt that starts the
//! same (the next turn of a chat) only computes its new tokens.
//!
//! [`Engine`] implements [`tokenpace_serve::Generator`], so `tokenpace
//! serve` puts the same OpenAI-compatible HTTP layer in front of it as any
//! other generator.
//!
//! ```no_run
//! use tokenpace_engine::{Engine, EngineConfig};
//! let engine = Engine::start(EngineConfig::new("SmolLM2-135M-Instruct.Q4_1.gguf".into()))?;
//! # Ok::<(), tokenpace_engine::EngineError>(())
//! ```
#![deny(missing_docs)]

mod backend;
pub mod bench;
mod config;
mod engine;
mod error;
mod prefix;
mod scheduler;
mod slot;
mod utf8;

pub use config::EngineConfig;
pub use engine::Engine;
pub use error::EngineError;
