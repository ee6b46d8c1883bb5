//! The run second by second: output tokens and completed requests per
//! second, the mean in-flight count, and the median TTFT of the requests
//! that started in that second, so bursts and degradation over time show.
//!
//! Seconds count from the run's first send. Tokens are counted where their
//! chunk arrived (answer, reasoning and tool-call chunks of successful
//! requests), so a second's `output_tokens` is its output tok/s. The
//! in-flight count is averaged over the second (time-weighted), so a
//! request that ran half of it counts ½.

use crate::record::{Nanos, RequestRecord};
use crate::stats::percentile_sorted;
use serde::{Deserialize, Serialize};

/// One second of a run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Second {
    /// Seconds since the run's first send at the start of this second.
    pub t_s: u32,
    /// Output tokens that arrived in this second (successful requests).
    pub output_tokens: u64,
    /// Requests that ended successfully in this second.
    pub completed: u32,
    /// Requests that ended with an error in this second.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub failed: u32,
    /// Requests in flight, averaged over the second.
    pub in_flight: f64,
    /// Median TTFT of the successful requests sent in this second, seconds
    /// (absent when none started or none got a token).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_p50_s: Option<f64>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

/// Seconds of timeline kept at most (a day); a longer run's timeline is
/// cut there rather than grow without bound.
pub const MAX_SECONDS: u64 = 86_400;

const SECOND: Nanos = 1_000_000_000;

/// The run's timeline, one entry per second from the first send to the
/// last end (empty without records).
pub fn timeline(records: &[RequestRecord]) -> Vec<Second> {
    let Some(origin) = records.iter().map(|r| r.sent_ns).min() else {
        return Vec::new();
    };
    let end = records
        .iter()
        .map(|r| r.end_ns.unwrap_or(r.sent_ns))
        .max()
        .unwrap_or(origin);
    let seconds = (end.saturating_sub(origin) / SECOND + 1).min(MAX_SECONDS) as usize;
    let slot = |ns: Nanos| ((ns.saturating_sub(origin) / SECOND) as usize).min(seconds - 1);
    let mut out: Vec<Second> = (0..seconds)
        .map(|t| Second {
            t_s: t as u32,
            output_tokens: 0,
            completed: 0,
            failed: 0,
            in_flight: 0.0,
            ttft_p50_s: None,
        })
        .collect();
    let mut ttfts: Vec<Vec<f64>> = vec![Vec::new(); seconds];
    for r in records {
        let (from, to) = (r.sent_ns, r.end_ns.unwrap_or(r.sent_ns).max(r.sent_ns));
        // Time-weighted presence in each second it overlaps.
        for (k, s) in out
            .iter_mut()
            .enumerate()
            .take(slot(to) + 1)
            .skip(slot(from))
        {
            let lo = origin + k as Nanos * SECOND;
            let overlap = to.min(lo + SECOND).saturating_sub(from.max(lo));
            s.in_flight += overlap as f64 / SECOND as f64;
        }
        if !r.is_ok() {
            out[slot(to)].failed += 1;
            continue;
        }
        out[slot(to)].completed += 1;
        for c in r
            .chunks
            .iter()
            .chain(&r.reasoning_chunks)
            .chain(&r.tool_chunks)
        {
            out[slot(c.at_ns)].output_tokens += u64::from(c.tokens);
        }
        if let Some(first) = r.first_token_ns() {
            ttfts[slot(from)].push(first.saturating_sub(from) as f64 / 1e9);
        }
    }
    for (s, mut t) in out.iter_mut().zip(ttfts) {
        if !t.is_empty() {
            t.sort_by(f64::total_cmp);
            s.ttft_p50_s = Some(percentile_sorted(&t, 50.0));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Chunk, ErrorKind, RequestError};

    const MS: u64 = 1_000_000;

    fn req(sent_ms: u64, ttft_ms: u64, tokens: u64, gap_ms: u64) -> RequestRecord {
        let mut r = RequestRecord::new(0, sent_ms * MS, sent_ms * MS);
        for i in 0..tokens {
            r.chunks.push(Chunk {
                at_ns: (sent_ms + ttft_ms + i * gap_ms) * MS,
                tokens: 1,
                chars: 1,
            });
        }
        r.end_ns = r.chunks.last().map(|c| c.at_ns);
        r
    }

    #[test]
    fn buckets_count_tokens_completions_in_flight_and_ttft() {
        // 0.0–1.5 s: 16 tokens, 100 ms apart from 0.0 (TTFT 0).
        let a = req(0, 0, 16, 100);
        // 0.5–2.5 s: TTFT 300 ms, then 18 tokens 100 ms apart.
        let b = req(500, 300, 18, 100);
        // Sent at 0.2 s, fails at 0.7 s.
        let mut c = RequestRecord::new(1, 200 * MS, 200 * MS);
        c.end_ns = Some(700 * MS);
        c.error = Some(RequestError {
            kind: ErrorKind::StreamCut,
            status: None,
            message: "cut".into(),
        });
        let t = timeline(&[a, b, c]);
        assert_eq!(t.len(), 3);
        // Tokens: a has 10 in [0,1) and 6 in [1,1.5]; b's first at 0.8 s:
        // 0.8, 0.9 in second 0, 10 in second 1, 6 in second 2.
        assert_eq!(
            t.iter().map(|s| s.output_tokens).collect::<Vec<_>>(),
            vec![12, 16, 6]
        );
        assert_eq!(
            t.iter()
                .map(|s| (s.completed, s.failed))
                .collect::<Vec<_>>(),
            vec![(0, 1), (1, 0), (1, 0)]
        );
        // Second 0: a whole, b half, c half = 2.0.
        assert!((t[0].in_flight - 2.0).abs() < 1e-9, "{}", t[0].in_flight);
        assert!((t[1].in_flight - 1.5).abs() < 1e-9, "{}", t[1].in_flight);
        // b ends at 0.5 + 0.3 + 1.7 = 2.5 s.
        assert!((t[2].in_flight - 0.5).abs() < 1e-9, "{}", t[2].in_flight);
        // Second 0's starters: a (0 s) and b (0.3 s); c failed.
        assert_eq!(t[0].ttft_p50_s, Some(0.15));
        assert_eq!(t[1].ttft_p50_s, None);
        assert!(timeline(&[]).is_empty());
    }
}
