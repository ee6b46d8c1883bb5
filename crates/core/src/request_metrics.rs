//! The numbers one [`RequestRecord`] yields. The definitions here are the
//! ones `docs/metrics.md` states in words; keep the two in step.

use crate::record::{Chunk, Nanos, RequestRecord};

/// Settings that change how per-request metrics are derived.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MetricOptions {
    /// A gap between two visible chunks longer than this is a stall, seconds.
    pub stall_threshold_s: f64,
    /// Network and request-handling time to subtract from TTFT when deriving
    /// prefill speed on the client (e.g. a measured round trip), seconds.
    pub network_overhead_s: f64,
}

impl Default for MetricOptions {
    fn default() -> Self {
        MetricOptions {
            stall_threshold_s: 0.25,
            network_overhead_s: 0.0,
        }
    }
}

/// Derived metrics of one request. `None` where the record does not carry
/// what the metric needs (a failed request, a one-token answer, …).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct RequestMetrics {
    /// Send → first chunk carrying a token (answer or reasoning).
    pub ttft_s: Option<f64>,
    /// Send → first visible answer character.
    pub ttfv_s: Option<f64>,
    /// Prompt tokens the server computed (less those it took from its
    /// prefix cache, when it said) / (TTFT − network overhead).
    pub prefill_tok_s: Option<f64>,
    /// (Output tokens − those of the first chunk) / (end of generation −
    /// first token); see [`RequestRecord::generation_end_ns`].
    pub decode_tok_s: Option<f64>,
    /// Visible characters after the first visible chunk / time from the first
    /// to the last visible chunk.
    pub output_chars_s: Option<f64>,
    /// Send → end of the response.
    pub e2e_s: Option<f64>,
    /// Longest gap between two consecutive visible chunks.
    pub longest_stall_s: Option<f64>,
    /// Gaps between consecutive visible chunks longer than the threshold.
    pub stalls: Option<u32>,
    /// Visible answer characters per answer token.
    pub chars_per_token: Option<f64>,
    /// Actual send time − scheduled send time (every request, even failed).
    pub schedule_lag_s: f64,
    /// Prompt tokens.
    pub prompt_tokens: Option<u32>,
    /// Output tokens (answer and reasoning).
    pub output_tokens: Option<u32>,
}

fn secs(from: Nanos, to: Nanos) -> f64 {
    to.saturating_sub(from) as f64 / 1e9
}

impl RequestMetrics {
    /// Derives the metrics of `record`. Latency and rate metrics are only
    /// derived for successful requests; schedule lag for every request.
    pub fn of(record: &RequestRecord, opts: &MetricOptions) -> RequestMetrics {
        let schedule_lag_s = secs(record.scheduled_ns, record.sent_ns);
        let mut m = RequestMetrics {
            schedule_lag_s,
            ..Default::default()
        };
        if !record.is_ok() {
            return m;
        }
        let sent = record.sent_ns;
        m.ttft_s = record.first_token_ns().map(|t| secs(sent, t));
        m.ttfv_s = record.first_visible_ns().map(|t| secs(sent, t));
        m.e2e_s = record.end_ns.map(|t| secs(sent, t));
        m.prompt_tokens = record.prompt_tokens.map(|c| c.count);
        let output_tokens = record.output_tokens.map(|c| c.count).or_else(|| {
            let n: u64 = record
                .chunks
                .iter()
                .chain(&record.reasoning_chunks)
                .map(|c| u64::from(c.tokens))
                .sum();
            (n > 0).then(|| u32::try_from(n).unwrap_or(u32::MAX))
        });
        m.output_tokens = output_tokens;

        if let (Some(p), Some(ttft)) = (m.prompt_tokens, m.ttft_s) {
            // Cached tokens cost no prefill: counting them would flatter it.
            let computed = p.saturating_sub(record.cached_tokens.unwrap_or(0));
            let busy = ttft - opts.network_overhead_s;
            if computed > 0 && busy > 0.0 {
                m.prefill_tok_s = Some(f64::from(computed) / busy);
            }
        }
        // Tokens the server counted over the time they took: chunks are
        // not tokens (tool-call deltas, held-back text and speculative
        // decoding send several per chunk).
        if let (Some(n), Some(first), Some(end)) = (
            output_tokens,
            record.first_token_ns(),
            record.generation_end_ns(),
        ) {
            let after_first = n.saturating_sub(record.first_chunk_tokens().max(1));
            if after_first >= 1 && end > first {
                m.decode_tok_s = Some(f64::from(after_first) / secs(first, end));
            }
        }

        let visible: Vec<&Chunk> = record.chunks.iter().filter(|c| c.chars > 0).collect();
        if let (Some(first), Some(last)) = (visible.first(), visible.last()) {
            let after_first = record.output_chars.saturating_sub(first.chars);
            if last.at_ns > first.at_ns {
                m.output_chars_s = Some(f64::from(after_first) / secs(first.at_ns, last.at_ns));
            }
            let gaps = visible.windows(2).map(|w| secs(w[0].at_ns, w[1].at_ns));
            let (mut longest, mut stalls) = (0.0f64, 0u32);
            for gap in gaps {
                longest = longest.max(gap);
                stalls += u32::from(gap > opts.stall_threshold_s);
            }
            m.longest_stall_s = Some(longest);
            m.stalls = Some(stalls);
        }
        // No characters and no tool call: the text was not kept (an
        // imported run), not an answer of zero characters.
        let text_known = record.output_chars > 0 || record.tool_calls > 0;
        if let Some(answer) = record.answer_tokens().filter(|&n| n > 0 && text_known) {
            m.chars_per_token = Some(f64::from(record.output_chars) / f64::from(answer));
        }
        m
    }
}

/// Appends the inter-token latencies of a successful `record` to `out`: for
/// every token-carrying chunk after the first (answer and reasoning merged in
/// arrival order), the gap since the previous one divided by the tokens it
/// carried. One sample per chunk; with one token per chunk, one per token.
pub fn itl_samples(record: &RequestRecord, out: &mut Vec<f64>) {
    if !record.is_ok() {
        return;
    }
    let mut chunks: Vec<Chunk> = record
        .chunks
        .iter()
        .chain(&record.reasoning_chunks)
        .copied()
        .collect();
    if !record.reasoning_chunks.is_empty() {
        chunks.sort_by_key(|c| c.at_ns);
    }
    out.extend(
        chunks
            .windows(2)
            .map(|w| secs(w[0].at_ns, w[1].at_ns) / f64::from(w[1].tokens.max(1))),
    );
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{CountSource, ErrorKind, RequestError, TokenCount};

    const MS: u64 = 1_000_000;

    /// Sent at 10 ms, scheduled at 8 ms; tokens at 210, 230, 250, 270 ms,
    /// each with 2 characters except the first (3); ends at 275 ms.
    fn stream() -> RequestRecord {
        let mut r = RequestRecord::new(0, 8 * MS, 10 * MS);
        for (i, at) in [210u64, 230, 250, 270].into_iter().enumerate() {
            let chars = if i == 0 { 3 } else { 2 };
            r.chunks.push(Chunk {
                at_ns: at * MS,
                tokens: 1,
                chars,
            });
        }
        r.output_chars = 9;
        r.end_ns = Some(275 * MS);
        r.prompt_tokens = Some(TokenCount {
            count: 400,
            source: CountSource::ServerUsage,
        });
        r.output_tokens = Some(TokenCount {
            count: 4,
            source: CountSource::ServerUsage,
        });
        r
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn derives_each_metric_as_documented() {
        let m = RequestMetrics::of(&stream(), &MetricOptions::default());
        assert!(close(m.ttft_s, 0.2));
        assert!(close(m.ttfv_s, 0.2));
        assert!(close(m.prefill_tok_s, 2000.0));
        assert!(close(m.decode_tok_s, 3.0 / 0.06));
        assert!(close(m.output_chars_s, 6.0 / 0.06));
        assert!(close(m.e2e_s, 0.265));
        assert!(close(m.longest_stall_s, 0.02));
        assert_eq!(m.stalls, Some(0));
        assert!(close(m.chars_per_token, 9.0 / 4.0));
        assert!((m.schedule_lag_s - 0.002).abs() < 1e-12);
    }

    #[test]
    fn cached_prompt_tokens_are_not_prefill() {
        let opts = MetricOptions::default();
        let mut r = stream();
        let full = RequestMetrics::of(&r, &opts).prefill_tok_s.unwrap();
        let p = r.prompt_tokens.unwrap().count;
        r.cached_tokens = Some(p * 3 / 4);
        let part = RequestMetrics::of(&r, &opts).prefill_tok_s.unwrap();
        let want = full * f64::from(p - p * 3 / 4) / f64::from(p);
        assert!((part - want).abs() < 1e-9, "{part} vs {want}");
        r.cached_tokens = Some(p);
        assert_eq!(RequestMetrics::of(&r, &opts).prefill_tok_s, None);
    }

    #[test]
    fn network_overhead_is_taken_out_of_prefill() {
        let opts = MetricOptions {
            network_overhead_s: 0.1,
            ..Default::default()
        };
        let m = RequestMetrics::of(&stream(), &opts);
        assert!(close(m.prefill_tok_s, 4000.0));
        let opts = MetricOptions {
            network_overhead_s: 0.3,
            ..Default::default()
        };
        assert_eq!(RequestMetrics::of(&stream(), &opts).prefill_tok_s, None);
    }

    #[test]
    fn a_freeze_is_a_stall_even_when_the_mean_rate_is_fine() {
        let mut r = stream();
        r.chunks[3].at_ns = 700 * MS;
        let m = RequestMetrics::of(&r, &MetricOptions::default());
        assert!(close(m.longest_stall_s, 0.45));
        assert_eq!(m.stalls, Some(1));
    }

    #[test]
    fn reasoning_counts_for_ttft_not_for_visible_output() {
        let mut r = stream();
        r.reasoning_chunks.push(Chunk {
            at_ns: 100 * MS,
            tokens: 1,
            chars: 5,
        });
        r.output_tokens = Some(TokenCount {
            count: 5,
            source: CountSource::ServerUsage,
        });
        r.reasoning_tokens = Some(1);
        let m = RequestMetrics::of(&r, &MetricOptions::default());
        assert!(close(m.ttft_s, 0.09));
        assert!(close(m.ttfv_s, 0.2));
        assert!(close(m.decode_tok_s, 4.0 / 0.17));
        assert!(close(m.chars_per_token, 9.0 / 4.0));
        let mut itl = Vec::new();
        itl_samples(&r, &mut itl);
        assert_eq!(itl.len(), 4);
        assert!((itl[0] - 0.11).abs() < 1e-9);
    }

    #[test]
    fn itl_divides_a_gap_among_the_chunks_tokens() {
        let mut r = stream();
        r.chunks[1].tokens = 4;
        let mut itl = Vec::new();
        itl_samples(&r, &mut itl);
        assert_eq!(itl.len(), 3);
        assert!((itl[0] - 0.005).abs() < 1e-12);
    }

    #[test]
    fn failed_requests_only_yield_schedule_lag() {
        let mut r = stream();
        r.error = Some(RequestError {
            kind: ErrorKind::StreamCut,
            status: None,
            message: "cut".into(),
        });
        let m = RequestMetrics::of(&r, &MetricOptions::default());
        assert_eq!((m.ttft_s, m.decode_tok_s), (None, None));
        assert!(m.schedule_lag_s > 0.0);
        let mut itl = Vec::new();
        itl_samples(&r, &mut itl);
        assert!(itl.is_empty());
    }

    #[test]
    fn missing_usage_falls_back_to_chunk_tokens() {
        let mut r = stream();
        r.output_tokens = None;
        let m = RequestMetrics::of(&r, &MetricOptions::default());
        assert_eq!(m.output_tokens, Some(4));
        assert!(close(m.decode_tok_s, 50.0));
        assert_eq!(m.chars_per_token, None);
    }

    #[test]
    fn text_not_kept_gives_no_characters_per_token() {
        // An imported run whose tool kept no answer text: no characters
        // and no tool call is not an answer of zero characters per token.
        let mut r = stream();
        r.output_chars = 0;
        for c in &mut r.chunks {
            c.chars = 0;
        }
        assert_eq!(
            RequestMetrics::of(&r, &MetricOptions::default()).chars_per_token,
            None
        );
        r.tool_calls = 1;
        assert_eq!(
            RequestMetrics::of(&r, &MetricOptions::default()).chars_per_token,
            Some(0.0)
        );
    }
}
