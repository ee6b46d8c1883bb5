//! `tokenpace sim`: an OpenAI-compatible streaming server that behaves like
//! an LLM deployment with a timing model you choose, injects faults on
//! request, and records exactly when it wrote every byte (the ground truth
//! a measuring client is checked against).
//!
//! # Timing model
//! - TTFT seen by a client = queue wait + `ttft_ms` +
//!   (prompt_tokens − cached_tokens)/`prefill` (+ TTFT jitter). Prompt tokens
//!   are estimated as `ceil(cjk_chars/1.5 + other_chars/4)`
//!   ([`tokenpace_corpus::ESTIMATE_METHOD`]); cached tokens are the whole
//!   blocks of the prompt's longest prefix in the [`prefix_cache`] (0 when
//!   it is off).
//! - At most `max_batch` streams decode at once (FIFO queue beyond). With `b`
//!   streams in the batch each decodes at `decode / (1 + k·(b − 1))` tokens/s,
//!   `k` = `batch_slowdown`.
//! - Token `n` is due at an absolute deadline `seg_start + (n − n0)/rate`
//!   (a new segment starts when the batch size changes), plus an independent
//!   jitter per deadline; a chunk of `tokens_per_chunk` tokens (a held-back
//!   partial character's token joins the next: `text.utf8_hold_back`) is
//!   written at its last token's deadline. Deadlines are kept by a dedicated
//!   timer thread (see [`timer`]) rather than tokio's 1 ms timer.
//!
//! # Dialects
//! [`SimConfig::dialect`] chooses whose bytes the responses are: tokenpace's
//! own shapes (the default), vLLM's, reproduced from captured streams, or
//! OpenAI's hosted API, which refuses request arguments it does not define
//! (see [`config::Dialect`] and the README).
//!
//! # Tokenize
//! `POST /tokenize` (vLLM's shape, not in the `openai` dialect) counts a
//! prompt or chat messages exactly as `usage.prompt_tokens` would.
//!
//! # Library use
//! ```no_run
//! # async fn demo() -> anyhow::Result<()> {
//! use tokenpace_sim::{SimConfig, SimServer};
//! let config = SimConfig { port: 0, ..SimConfig::default() };
//! let sim = SimServer::start(config).await?;
//! println!("{}", sim.url());
//! sim.shutdown().await?;
//! # Ok(()) }
//! ```
#![deny(missing_docs)]

mod batch;
pub mod config;
pub mod faults;
mod generate;
mod metrics;
pub mod prefix_cache;
mod request;
mod routes;
mod server;
pub mod timer;
pub mod timing;
pub mod truth;

pub use config::SimConfig;
pub use faults::{FaultKind, FaultRule};
pub use metrics::TTFT_BUCKETS;
pub use server::{SimHandle, SimServer};
