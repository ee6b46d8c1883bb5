//! A response's rate-limit headers, kept as its head is read, and what they
//! make of a refusal: the one place any transport (the timed HTTP/1.1 one,
//! TLS, HTTP/2) turns a status and its headers into an [`ErrorKind`]
//! ([`RateLimitHeaders::kind`]) and the record's `Retry-After`.
//!
//! A server's headers are hostile bytes: at most
//! [`MAX_RATE_LIMIT_HEADERS`] are kept, each value cut to
//! [`MAX_RATE_LIMIT_VALUE`] characters with control characters escaped.

use std::time::SystemTime;
use tokenpace_core::record::throttle::{
    is_rate_limit_header, retry_after_ms, MAX_RATE_LIMIT_HEADERS, MAX_RATE_LIMIT_VALUE,
};
use tokenpace_core::record::ErrorKind;

/// `Retry-After` and the rate-limit headers of one response, as sent
/// (names in lower case, the first of each name kept).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RateLimitHeaders(Vec<(Box<str>, Box<str>)>);

impl RateLimitHeaders {
    /// The headers kept of a response's `headers` (name, raw value).
    pub fn of<'h>(headers: impl IntoIterator<Item = (&'h str, &'h [u8])>) -> RateLimitHeaders {
        let mut kept: Vec<(Box<str>, Box<str>)> = Vec::new();
        for (name, value) in headers {
            if kept.len() == MAX_RATE_LIMIT_HEADERS {
                break;
            }
            // Most headers are not rate limits: tested before any copy
            // (this runs for every header of every response).
            if !is_rate_limit_header_ci(name) {
                continue;
            }
            let name = shown(name.as_bytes()).to_ascii_lowercase();
            if is_rate_limit_header(&name) && !kept.iter().any(|(n, _)| **n == *name) {
                kept.push((name.into(), shown(value).into()));
            }
        }
        RateLimitHeaders(kept)
    }

    /// The value of header `name` (lower case), if kept.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(n, _)| **n == *name).map(|(_, v)| &**v)
    }

    /// Every header kept, in the order sent.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(n, v)| (&**n, &**v))
    }

    /// How long `Retry-After` asks to wait, in milliseconds, read at
    /// `now` (an HTTP-date counts from it); `None` when absent or not a
    /// delay.
    pub fn retry_after_ms(&self, now: SystemTime) -> Option<u64> {
        retry_after_ms(self.get("retry-after")?, now)
    }

    /// The kind of failure of a response with `status` (not 2xx) and these
    /// headers: throttled (429, or 503 / 529 with a readable
    /// `Retry-After`) or an HTTP status.
    pub fn kind(&self, status: u16, now: SystemTime) -> ErrorKind {
        ErrorKind::of_status(status, self.retry_after_ms(now).is_some())
    }
}

/// [`is_rate_limit_header`] on `name` in any case, without a copy.
fn is_rate_limit_header_ci(name: &str) -> bool {
    let starts = |p: &str| {
        name.get(..p.len())
            .is_some_and(|h| h.eq_ignore_ascii_case(p))
    };
    name.eq_ignore_ascii_case("retry-after")
        || starts("x-ratelimit-")
        || starts("anthropic-ratelimit-")
}

/// `bytes` as text to keep: cut to [`MAX_RATE_LIMIT_VALUE`] characters,
/// invalid UTF-8 replaced and control characters escaped.
fn shown(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes)
        .chars()
        .take(MAX_RATE_LIMIT_VALUE)
        .flat_map(|c| {
            let escaped = c.is_control().then(|| c.escape_default().to_string());
            escaped
                .unwrap_or_else(|| c.to_string())
                .chars()
                .collect::<Vec<_>>()
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::UNIX_EPOCH;

    fn of(headers: &[(&str, &[u8])]) -> RateLimitHeaders {
        RateLimitHeaders::of(headers.iter().copied())
    }

    #[test]
    fn keeps_only_rate_limit_headers_first_of_each_name() {
        let h = of(&[
            ("Content-Type", b"application/json"),
            ("Retry-After", b"2"),
            ("X-RateLimit-Remaining-Requests", b"41"),
            ("x-ratelimit-remaining-requests", b"40"),
            ("anthropic-ratelimit-tokens-remaining", b"9000"),
        ]);
        let kept: Vec<_> = h.iter().collect();
        assert_eq!(
            kept,
            [
                ("retry-after", "2"),
                ("x-ratelimit-remaining-requests", "41"),
                ("anthropic-ratelimit-tokens-remaining", "9000"),
            ]
        );
        assert_eq!(h.retry_after_ms(UNIX_EPOCH), Some(2000));
    }

    #[test]
    fn hostile_headers_are_bounded_and_escaped() {
        let names: Vec<String> = (0..1000).map(|i| format!("x-ratelimit-{i}")).collect();
        let long = vec![b'9'; 100_000];
        let headers: Vec<(&str, &[u8])> = names.iter().map(|n| (n.as_str(), &long[..])).collect();
        let h = RateLimitHeaders::of(headers);
        assert_eq!(h.iter().count(), MAX_RATE_LIMIT_HEADERS);
        assert!(h
            .iter()
            .all(|(_, v)| v.chars().count() == MAX_RATE_LIMIT_VALUE));
        let h = of(&[("x-ratelimit-reset-tokens", b"\x1b[2J\xff\r\n6m0s")]);
        let v = h.get("x-ratelimit-reset-tokens").unwrap();
        assert!(!v.chars().any(char::is_control), "{v:?}");
        assert!(v.contains("\\u{1b}") && v.contains('\u{fffd}'), "{v:?}");
    }

    #[test]
    fn classifies_by_status_and_retry_after() {
        let now = UNIX_EPOCH;
        let with = of(&[("retry-after", b"1")]);
        let garbage = of(&[("retry-after", b"later")]);
        let none = RateLimitHeaders::default();
        assert_eq!(none.kind(429, now), ErrorKind::Throttled);
        assert_eq!(with.kind(503, now), ErrorKind::Throttled);
        assert_eq!(with.kind(529, now), ErrorKind::Throttled);
        assert_eq!(garbage.kind(503, now), ErrorKind::HttpStatus);
        assert_eq!(none.kind(503, now), ErrorKind::HttpStatus);
        assert_eq!(with.kind(500, now), ErrorKind::HttpStatus);
    }
}
