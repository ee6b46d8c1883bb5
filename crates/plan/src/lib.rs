//! Hardware planning for tokenpace: what a model on a card can do before
//! anyone buys the card, and what it would take to meet a target.
//!
//! - [`catalog`]: hardware and model figures shipped as TOML data files,
//!   extensible with user files; [`hf_config`] and [`gguf`] read a model's
//!   shape from a Hugging Face `config.json` or a GGUF header.
//! - [`roofline`]: prefill bound by compute, decode bound by memory traffic,
//!   memory capacity for weights and KV cache, turned into expected values by
//!   an [`efficiency::Efficiency`].
//! - [`remedies`]: quantisation, speculative decoding, prefix KV cache, split
//!   prefill and other cards, each with the metric values it predicts.
//! - [`arrivals`]: how concurrent prompts arrive, and how long each waits
//!   behind the others' prefills.
//! - [`calibrate`]: estimate versus a measured run, and the fitted efficiency.
//! - [`predict`]: the built-in scenarios at full size from measured rates,
//!   and the remedies for the one that falls short.
//! - [`published`]: published measurements, checked out of sample.
//! - [`capacity`]: the largest concurrency that keeps every metric in tier A.
//! - [`chars_per_token`]: the reading-speed ratio from the best evidence
//!   for the model and language, with its source.
//! - [`setup`]: the catalog, model, device and efficiency a command asks
//!   for, read from the files it names.
//!
//! Everything but [`setup`] is pure computation on values.
//! The method and its simplifications are in `docs/plan.md`.
#![deny(missing_docs)]

pub mod arrivals;
pub mod calibrate;
pub mod capacity;
pub mod catalog;
pub mod chars_per_token;
pub mod efficiency;
pub mod error;
pub mod gguf;
pub mod hardware;
pub mod hf_config;
pub mod kv_cache;
pub mod model;
pub mod predict;
pub mod published;
pub mod quant;
pub mod remedies;
pub mod roofline;
pub mod setup;
pub mod suggest;

pub use error::PlanError;
