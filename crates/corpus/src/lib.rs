//! Prose that tokenpace ships, and a tokenizer-free "pseudo-token" splitter.
//!
//! The simulator streams this text and the benchmarking client builds prompts
//! from it, so both sides agree on what a "token" of Chinese or English looks
//! like without shipping a real tokenizer. The texts were written for
//! tokenpace and are under the project's licence (see `SOURCES.md`).
#![deny(missing_docs)]

mod lang;
mod rng;
mod split;

pub use lang::{text, ParseLangError, TextLang};
pub use rng::SplitMix64;
pub use split::{estimate_tokens, split, PseudoTokens, ESTIMATE_METHOD};
