//! An untimed `GET` of a text (the server's Prometheus metrics), within a
//! deadline and a size cap: a hostile or broken endpoint's body may never
//! end, or never come.

use crate::request::HttpClient;
use std::error::Error as _;
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
    let why = |e: reqwest::Error| match e.is_timeout() {
        true => FetchError::Timeout(timeout),
        false => FetchError::Failed(chain(&crate::url::clean_error(e))),
    };
    let mut response = client
        .api()
        .get(url)
        .timeout(timeout)
        .send()
        .await
        .map_err(why)?;
    let status = response.status();
    if !status.is_success() {
        return Err(FetchError::Status(status.to_string()));
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(why)? {
        if body.len() + chunk.len() > cap {
            return Err(FetchError::TooLarge(cap));
        }
        body.extend_from_slice(&chunk);
    }
    Ok(String::from_utf8_lossy(&body).into_owned())
}

/// An error and its causes on one line.
fn chain(e: &reqwest::Error) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(cause) = source {
        text.push_str(": ");
        text.push_str(&cause.to_string());
        source = cause.source();
    }
    text
}
