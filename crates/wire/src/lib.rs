//! The server side of the APIs tokenpace speaks, written once for both of
//! its servers: the simulator (`tokenpace-sim`) and the embedded engine's
//! server (`tokenpace-serve`). Whatever a client sees of a protocol lives
//! here, so a new protocol is added in one place and both servers answer it
//! the same way, byte for byte:
//!
//! - [`auth`]: API keys (bearer or `x-api-key`) and the 401s;
//! - [`http`]: HTTP/1.1 over the socket directly, with bounded buffers
//!   ([`LimitsConfig`]), so a server controls when and how every byte is
//!   written;
//! - [`server`]: the accept loop and the per-connection request loop, with
//!   graceful shutdown;
//! - [`request`]: the routes' [`Endpoint`]s and request bodies parsed into a
//!   typed [`CompletionRequest`], with [`tools`] for function calling, and
//!   the arguments hosted APIs accept ([`request::strict`]);
//! - [`sse`] and [`native`]: the streamed and whole response bodies;
//! - [`tokenize`]: vLLM's `POST /tokenize`, request and body;
//! - [`models`]: `GET /v1/models` (and vLLM's `/version`) per dialect;
//! - [`ApiError`]: OpenAI's error JSON (or Anthropic's, [`ErrorShape`]);
//! - [`prom`]: Prometheus text exposition helpers for `/metrics`;
//! - [`arrival`]: socket reads dated by the kernel's arrival stamps (the
//!   client's timed transport uses it too);
//! - [`stream`]: a connection in the clear or under TLS, read with those
//!   stamps either way; [`tls`]: the servers' certificates;
//! - [`fds`]: room in the descriptor table made before a burst of
//!   connections (used by the client's load loop).
#![deny(missing_docs)]

pub mod arrival;
pub mod auth;
mod error;
pub mod fds;
pub mod http;
pub mod models;
pub mod native;
pub mod prom;
pub mod request;
pub mod server;
pub mod sse;
pub mod stream;
pub mod tls;
pub mod tokenize;
pub mod tools;

pub use error::{ApiError, ErrorShape, PATHS};
pub use http::{Conn, Framing, HttpRequest, LimitsConfig};
pub use request::{CompletionRequest, Endpoint, Message, PromptPart, RequestPrompt};
pub use server::{Handler, Next};
pub use sse::{Events, OutputItem, Usage};
pub use tools::{Tool, ToolCall, ToolChoice};
