//! What the server's rate limits did to a run: how many requests it
//! throttled, what `bench --retry-throttled` retried and waited, how long
//! it asked the client to wait, and the least it said was left.

use crate::record::throttle::RateLimitKind;
use crate::record::{ErrorKind, RequestRecord};
use serde::{Deserialize, Serialize};

/// Rate limiting over a set of requests (a run).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Throttling {
    /// Requests that ended throttled (counted among the failures).
    pub throttled: u64,
    /// Requests retried after being throttled (`bench --retry-throttled`),
    /// whatever their last attempt's outcome.
    pub retried: u64,
    /// Throttled attempts retried, all requests together.
    pub retries: u64,
    /// Time spent waiting before those retries, all requests together, s.
    pub retry_wait_s: f64,
    /// The median `Retry-After` the server asked for, s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_median_s: Option<f64>,
    /// The least of the request limit any response said was left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowest_remaining_requests: Option<u64>,
    /// The least of the token limit any response said was left.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lowest_remaining_tokens: Option<u64>,
}

impl Throttling {
    /// The rate limiting of `records`; `None` when no request was
    /// throttled or retried and no response sent a rate-limit header.
    pub fn of<'a>(records: impl IntoIterator<Item = &'a RequestRecord>) -> Option<Throttling> {
        let mut t = Throttling::default();
        let mut waits = Vec::new();
        let mut seen = false;
        let lowest = |a: Option<u64>, b: Option<u64>| match (a, b) {
            (Some(a), Some(b)) => Some(a.min(b)),
            (a, b) => a.or(b),
        };
        for r in records {
            seen |= !r.rate_limits.is_empty() || r.retries.is_some();
            if r.error.as_ref().map(|e| e.kind) == Some(ErrorKind::Throttled) {
                t.throttled += 1;
            }
            if let Some(retries) = r.retries {
                t.retried += 1;
                t.retries += u64::from(retries.throttled);
                t.retry_wait_s += retries.waited_ns as f64 / 1e9;
            }
            waits.extend(r.retry_after_ms.map(|ms| ms as f64 / 1000.0));
            t.lowest_remaining_requests = lowest(
                t.lowest_remaining_requests,
                r.remaining(RateLimitKind::Requests),
            );
            t.lowest_remaining_tokens = lowest(
                t.lowest_remaining_tokens,
                r.remaining(RateLimitKind::Tokens),
            );
        }
        waits.sort_by(f64::total_cmp);
        t.retry_after_median_s = match waits.len() {
            0 => None,
            n if n % 2 == 1 => Some(waits[n / 2]),
            n => Some((waits[n / 2 - 1] + waits[n / 2]) / 2.0),
        };
        (seen || t.throttled > 0).then_some(t)
    }

    /// Whether anything throttled the run (a request failed or waited).
    pub fn happened(&self) -> bool {
        self.throttled > 0 || self.retried > 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{RequestError, Retries};

    fn throttled(id: u64, retry_after_ms: u64, remaining: &str) -> RequestRecord {
        let mut r = RequestRecord::new(id, 0, 0);
        r.error = Some(RequestError {
            kind: ErrorKind::Throttled,
            status: Some(429),
            message: "HTTP 429: slow down".into(),
        });
        r.retry_after_ms = Some(retry_after_ms);
        r.rate_limits
            .insert("x-ratelimit-remaining-requests".into(), remaining.into());
        r
    }

    #[test]
    fn counts_throttled_retries_and_the_lowest_remaining() {
        let mut ok = RequestRecord::new(3, 0, 0);
        ok.retries = Some(Retries {
            throttled: 2,
            waited_ns: 3_000_000_000,
            first_sent_ns: 0,
        });
        ok.rate_limits
            .insert("anthropic-ratelimit-tokens-remaining".into(), "900".into());
        let records = [
            throttled(0, 1000, "7"),
            throttled(1, 4000, "2"),
            throttled(2, 2000, "not a number"),
            ok,
        ];
        let t = Throttling::of(&records).unwrap();
        assert_eq!((t.throttled, t.retried, t.retries), (3, 1, 2));
        assert_eq!(t.retry_wait_s, 3.0);
        assert_eq!(t.retry_after_median_s, Some(2.0));
        assert_eq!(t.lowest_remaining_requests, Some(2));
        assert_eq!(t.lowest_remaining_tokens, Some(900));
        assert!(t.happened());
        assert_eq!(Throttling::of(&[RequestRecord::new(0, 0, 0)]), None);
    }
}
