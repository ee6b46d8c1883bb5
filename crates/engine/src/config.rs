//! How the engine is set up.

use std::path::PathBuf;

/// Engine settings.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineConfig {
    /// The GGUF model file.
    pub model: PathBuf,
    /// CPU threads for decoding and prompt processing (default: every core
    /// the process may use).
    pub threads: Option<usize>,
    /// Context length of each request (prompt plus answer), tokens.
    pub ctx_size: u32,
    /// Requests decoded together (continuous batching); more wait in a
    /// FIFO queue. Memory for the KV cache is `ctx_size × parallel` tokens.
    pub parallel: u32,
    /// Most tokens decoded in one step (prompt chunks included), as
    /// llama.cpp's `n_batch`.
    pub batch: u32,
    /// Reuse the KV of a finished request's tokens for a new prompt that
    /// starts with them (llama.cpp's server does; off gives cold prefills
    /// for comparison).
    pub prefix_cache: bool,
}

impl EngineConfig {
    /// Defaults for `model`: 4096-token contexts, 4 parallel requests,
    /// 512-token steps, prefix cache on.
    pub fn new(model: PathBuf) -> Self {
        EngineConfig {
            model,
            threads: None,
            ctx_size: 4096,
            parallel: 4,
            batch: 512,
            prefix_cache: true,
        }
    }

    /// The thread count to use.
    pub fn threads(&self) -> usize {
        self.threads.unwrap_or_else(|| {
            std::thread::available_parallelism()
                .map(|n| n.get())
                .unwrap_or(1)
        })
    }
}
