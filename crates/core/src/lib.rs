//! The pure core of tokenpace: one data model, statistics, grading and
//! scenario maths. Nothing here does I/O or needs an async runtime.
#![deny(missing_docs)]

pub mod aggregate;
pub mod cancel;
pub mod capacity;
pub mod ceiling;
pub mod confidence;
pub mod conversation;
pub mod dist;
pub mod gguf;
pub mod grade;
pub mod imported;
pub mod load_window;
pub mod merge;
pub mod metric;
pub mod model_mix;
pub mod precision;
pub mod prefill;
pub mod prefix_cache;
pub mod profile;
pub mod quantile_interval;
pub mod record;
pub mod regression;
pub mod repeats;
pub mod request_metrics;
pub mod scenario;
pub mod self_check;
pub mod server_metrics;
pub mod setting;
pub mod shard;
pub mod slo;
pub mod stats;
pub mod steady_state;
pub mod summary;
pub mod text;
pub mod throttling;
pub mod timeline;
pub mod tokenizer_family;
pub mod wall_clock;
