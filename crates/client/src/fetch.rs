//! An untimed `GET` of a text (the server's Prometheus metrics), within a
//! deadline and a size cap: a hostile or broken endpoint's body may never
//! end, or never come.

use crate::call::{Call, CallError};
use crate::request::HttpClient;
use std::time::Duration;

/// Why a fetch failed, in words (never with the URL, which may carry a
/// credential).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FetchError {
    /// The body passed the cap; what came was dropped.
    #[error("it sent more than {} MiB: the answer was cut there and not used", .0 >> 20)]
    TooLarge(usize),
    /// No complete answer within the deadline.
    #[error("no complete answer within {} s", .0.as_secs_f64())]
    Timeout(Duration),
    /// The server answered with an error status.
    #[error("it answered {0}")]
    Status(String),
    /// The request failed (connection, protocol).
    #[error("{0}")]
    Failed(String),
}

/// The body of `GET url` as text, at most `cap` bytes, all of it within
/// `timeout`.
pub async fn text(
    client: &HttpClient,
    url: &str,
    cap: usize,
    timeout: Duration,
) -> Result<String, FetchError> {
    let call = Call::get(url, cap, timeout);
    let reply = client.call(call).await.map_err(|e| match e {
        CallError::Timeout(t) => FetchError::Timeout(t),
        CallError::TooLarge(n) => FetchError::TooLarge(n),
        CallError::Tls(m) | CallError::Failed(m) => FetchError::Failed(m),
    })?;
    if !reply.is_success() {
        return Err(FetchError::Status(crate::call::status_text(reply.status)));
    }
    Ok(String::from_utf8_lossy(&reply.body).into_owned())
}
