//! The server's prefix cache as the client sees it: [`PrefixCache`], from
//! the `cached_tokens` servers report in `usage.prompt_tokens_details`.
//! (Prefill itself counts only the tokens a server computed: see
//! [`RequestMetrics`]'s `prefill_tok_s`.) Definitions in `docs/metrics.md`.

use crate::record::RequestRecord;
use crate::request_metrics::{MetricOptions, RequestMetrics};
use crate::stats::Stats;
use serde::{Deserialize, Serialize};

/// How much of the prompts the server took from its prefix cache, and what
/// that did to TTFT. Over successful requests that reported cached tokens
/// and a prompt count; absent when none did, so a server that does not
/// report its cache never reads as a 0 % hit rate.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrefixCache {
    /// Requests the figures are over (those that reported cached tokens).
    pub requests: u64,
    /// Σ cached prompt tokens ÷ Σ prompt tokens.
    pub hit_rate: f64,
    /// Share of those requests with at least one cached token.
    pub hit_share: f64,
    /// TTFT of the requests with a hit, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_hit_s: Option<Stats>,
    /// TTFT of the requests without one, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_miss_s: Option<Stats>,
}

impl PrefixCache {
    /// The cache figures of `records`, or `None` when no successful request
    /// reported cached tokens.
    pub fn of(records: &[RequestRecord], opts: &MetricOptions) -> Option<PrefixCache> {
        let (mut requests, mut hits, mut cached, mut prompt) = (0u64, 0u64, 0u64, 0u64);
        let (mut ttft_hit, mut ttft_miss) = (Vec::new(), Vec::new());
        for r in records.iter().filter(|r| r.is_ok()) {
            let (Some(c), Some(p)) = (r.cached_tokens, r.prompt_tokens) else {
                continue;
            };
            // A server never caches more than the prompt; clamp a bad report.
            let c = c.min(p.count);
            requests += 1;
            cached += u64::from(c);
            prompt += u64::from(p.count);
            let ttft = RequestMetrics::of(r, opts).ttft_s;
            if c > 0 {
                hits += 1;
                ttft_hit.extend(ttft);
            } else {
                ttft_miss.extend(ttft);
            }
        }
        (requests > 0).then(|| PrefixCache {
            requests,
            hit_rate: if prompt > 0 {
                cached as f64 / prompt as f64
            } else {
                0.0
            },
            hit_share: hits as f64 / requests as f64,
            ttft_hit_s: Stats::from_values(&mut ttft_hit),
            ttft_miss_s: Stats::from_values(&mut ttft_miss),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Chunk, CountSource, RequestError, TokenCount};

    const MS: u64 = 1_000_000;

    /// Sent at 0, first token at `ttft_ms`, `prompt` prompt tokens of which
    /// `cached` came from the cache.
    fn req(ttft_ms: u64, prompt: u32, cached: Option<u32>) -> RequestRecord {
        let mut r = RequestRecord::new(0, 0, 0);
        r.chunks.push(Chunk {
            at_ns: ttft_ms * MS,
            tokens: 1,
            chars: 1,
        });
        r.end_ns = Some(ttft_ms * MS);
        r.prompt_tokens = Some(TokenCount {
            count: prompt,
            source: CountSource::ServerUsage,
        });
        r.cached_tokens = cached;
        r
    }

    #[test]
    fn hit_rate_is_over_tokens_and_hit_share_over_requests() {
        let opts = MetricOptions::default();
        let mut failed = req(10, 1000, Some(1000));
        failed.error = Some(RequestError {
            kind: crate::record::ErrorKind::Timeout,
            status: None,
            message: "late".into(),
        });
        let records = [
            req(100, 1000, Some(0)),
            req(300, 1000, Some(0)),
            req(40, 1000, Some(800)),
            req(60, 1000, Some(1000)),
            req(500, 1000, None),
            failed,
        ];
        let c = PrefixCache::of(&records, &opts).unwrap();
        // (0 + 0 + 800 + 1000) / 4000; 2 of 4 requests had a hit.
        assert_eq!(c.requests, 4);
        assert!((c.hit_rate - 0.45).abs() < 1e-12);
        assert!((c.hit_share - 0.5).abs() < 1e-12);
        let hit = c.ttft_hit_s.unwrap();
        assert!((hit.p50 - 0.05).abs() < 1e-12 && hit.n == 2);
        let miss = c.ttft_miss_s.unwrap();
        assert!((miss.p50 - 0.2).abs() < 1e-12 && miss.n == 2);
    }

    #[test]
    fn absent_when_the_server_does_not_report_its_cache() {
        let records = [req(100, 1000, None), req(200, 500, None)];
        assert_eq!(PrefixCache::of(&records, &MetricOptions::default()), None);
        assert_eq!(PrefixCache::of(&[], &MetricOptions::default()), None);
    }

    #[test]
    fn prefill_counts_only_the_tokens_the_server_computed() {
        let opts = MetricOptions::default();
        let r = req(100, 1000, Some(800));
        let m = RequestMetrics::of(&r, &opts);
        // 200 computed tokens in 0.1 s; the full prompt would say 10 000.
        let v = m.prefill_tok_s.unwrap();
        assert!((v - 2000.0).abs() < 1e-9);
        let r = req(100, 1000, None);
        let v = RequestMetrics::of(&r, &opts).prefill_tok_s.unwrap();
        assert!((v - 10_000.0).abs() < 1e-9);
        let r = req(100, 1000, Some(1000));
        assert_eq!(RequestMetrics::of(&r, &opts).prefill_tok_s, None);
    }
}
