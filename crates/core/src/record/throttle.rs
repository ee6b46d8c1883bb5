//! A request the server turned away for now ([`ErrorKind::Throttled`]):
//! how long it asked the client to wait (`Retry-After`), the rate-limit
//! headers it sent, and the retries `bench --retry-throttled` made.
//!
//! [`ErrorKind::Throttled`]: super::ErrorKind::Throttled

use super::Nanos;
use serde::{Deserialize, Serialize};
use std::time::SystemTime;

/// The most rate-limit headers kept of one response (a hostile server may
/// send thousands).
pub const MAX_RATE_LIMIT_HEADERS: usize = 16;
/// The most characters kept of one such header's value.
pub const MAX_RATE_LIMIT_VALUE: usize = 64;
/// The longest `Retry-After` recorded: a longer one (or one too large to
/// read) is recorded as this, a week.
pub const MAX_RETRY_AFTER_MS: u64 = 7 * 86_400 * 1000;

/// The retries of a throttled request (`bench --retry-throttled`): the
/// record is then its last attempt's, sent at `sent_ns`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Retries {
    /// Attempts the server throttled before the last one.
    pub throttled: u32,
    /// Time spent waiting between the attempts (after each `Retry-After`).
    pub waited_ns: Nanos,
    /// When the first attempt was sent.
    pub first_sent_ns: Nanos,
}

/// Which limit a rate-limit header is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RateLimitKind {
    /// Requests per window.
    Requests,
    /// Tokens per window.
    Tokens,
}

impl RateLimitKind {
    /// The headers that say how much of this limit is left: OpenAI's
    /// `x-ratelimit-remaining-*` and Anthropic's `anthropic-ratelimit-*-remaining`.
    pub fn remaining_headers(self) -> [&'static str; 2] {
        match self {
            RateLimitKind::Requests => [
                "x-ratelimit-remaining-requests",
                "anthropic-ratelimit-requests-remaining",
            ],
            RateLimitKind::Tokens => [
                "x-ratelimit-remaining-tokens",
                "anthropic-ratelimit-tokens-remaining",
            ],
        }
    }
}

/// Whether a response header is kept in the record: `Retry-After` and the
/// rate-limit headers (`name` in lower case).
pub fn is_rate_limit_header(name: &str) -> bool {
    name == "retry-after"
        || name.starts_with("x-ratelimit-")
        || name.starts_with("anthropic-ratelimit-")
}

/// How long `Retry-After: value` asks to wait, in milliseconds, read at
/// `now`: delay-seconds (a fraction is tolerated) or an HTTP-date (a date
/// past is 0). `None` for anything else; a wait past
/// [`MAX_RETRY_AFTER_MS`] (or too large to read) is that cap.
pub fn retry_after_ms(value: &str, now: SystemTime) -> Option<u64> {
    let v = value.trim();
    let numeric = !v.is_empty() && v.bytes().all(|b| b.is_ascii_digit() || b == b'.');
    if numeric {
        let secs: f64 = v.parse().ok()?;
        return Some(if secs * 1000.0 >= MAX_RETRY_AFTER_MS as f64 {
            MAX_RETRY_AFTER_MS
        } else {
            (secs * 1000.0).ceil() as u64
        });
    }
    let at = crate::wall_clock::parse_http_date(v)?;
    let wait = at.duration_since(now).unwrap_or_default();
    Some(
        u64::try_from(wait.as_millis()).map_or(MAX_RETRY_AFTER_MS, |ms| ms.min(MAX_RETRY_AFTER_MS)),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::{Duration, UNIX_EPOCH};

    #[test]
    fn retry_after_reads_seconds_dates_and_refuses_garbage() {
        let now = UNIX_EPOCH + Duration::from_secs(784_111_777); // 1994-11-06 08:49:37
        assert_eq!(retry_after_ms("1", now), Some(1000));
        assert_eq!(retry_after_ms(" 120 ", now), Some(120_000));
        assert_eq!(retry_after_ms("0", now), Some(0));
        assert_eq!(retry_after_ms("0.25", now), Some(250));
        let date = "Sun, 06 Nov 1994 08:50:07 GMT";
        assert_eq!(retry_after_ms(date, now), Some(30_000));
        let past = "Sun, 06 Nov 1994 08:00:00 GMT";
        assert_eq!(retry_after_ms(past, now), Some(0));
        for huge in [
            "99999999999999999999999999",
            "604801",
            "Fri, 31 Dec 9999 23:59:59 GMT",
        ] {
            assert_eq!(
                retry_after_ms(huge, now),
                Some(MAX_RETRY_AFTER_MS),
                "{huge}"
            );
        }
        for garbage in ["", "-1", "soon", "1e3", "1..2", ".", "\u{1b}[31m5", "5 s"] {
            assert_eq!(retry_after_ms(garbage, now), None, "{garbage:?}");
        }
    }

    #[test]
    fn rate_limit_headers_are_recognised_by_name() {
        for name in [
            "retry-after",
            "x-ratelimit-remaining-tokens",
            "anthropic-ratelimit-requests-reset",
        ] {
            assert!(is_rate_limit_header(name), "{name}");
        }
        for name in ["x-request-id", "ratelimit", "content-length", "x-ratelimit"] {
            assert!(!is_rate_limit_header(name), "{name}");
        }
    }
}
