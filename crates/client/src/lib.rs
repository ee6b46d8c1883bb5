//! tokenpace's client side: an incremental SSE parser, backends that turn a
//! server's events into [`RequestRecord`](tokenpace_core::record::RequestRecord)s,
//! and the load generator that drives them.
#![deny(missing_docs)]

pub mod backend;
pub mod bench;
pub mod call;
pub mod clock;
pub mod conversations;
pub mod count;
pub mod dataset;
pub mod discover;
pub mod exact;
pub mod fetch;
pub mod guard;
pub mod leave;
pub mod load;
pub mod model_mix;
pub mod recorder;
pub mod redact;
pub mod request;
pub mod server_kind;
pub mod session;
pub mod sink;
pub mod sse;
pub mod throttle;
pub mod tokenizer;
pub mod trace;
pub mod transcript;
pub mod transport;
pub mod url;
pub mod workers;
pub mod workload;
