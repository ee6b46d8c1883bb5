//! One request as another tool timed it, in seconds on that tool's clock,
//! and its tokenpace record: the same differences of times, on a time line
//! that starts at the first send.

use tokenpace_core::imported::Missing;
use tokenpace_core::record::{
    Chunk, CountSource, ErrorKind, Nanos, RequestError, RequestRecord, TokenCount,
};
use tokenpace_core::text::CharCount;

/// The longest error message kept from a tool's file.
const MAX_MESSAGE_CHARS: usize = 300;

/// A request as a format records it; what it does not record is `None`.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timed {
    /// When it was sent, seconds on the tool's clock.
    pub start_s: f64,
    /// Send → first token.
    pub ttft_s: Option<f64>,
    /// The gaps between consecutive token-carrying chunks after the first.
    pub gaps_s: Option<Vec<f64>>,
    /// Send → the last token, when the chunks between are not timed.
    pub last_s: Option<f64>,
    /// Send → end of the response.
    pub latency_s: Option<f64>,
    /// Prompt tokens, and who counted them.
    pub prompt_tokens: Option<TokenCount>,
    /// Output tokens, and who counted them.
    pub output_tokens: Option<TokenCount>,
    /// The answer's text, when kept.
    pub text: Option<CharCount>,
    /// Each timed chunk's characters (first, then one per gap), when the
    /// format keeps every chunk's text.
    pub chunk_chars: Option<Vec<u32>>,
    /// Why it failed, in the tool's words.
    pub error: Option<String>,
    /// The kind of failure and HTTP status, when the format says them
    /// (else the failure counts as a server error, and that is named).
    pub error_kind: Option<(ErrorKind, Option<u16>)>,
}

/// Nanoseconds of `s` seconds (negative and non-finite read as 0; parsers
/// have refused those already).
fn ns(s: f64) -> Nanos {
    if s.is_finite() && s > 0.0 {
        (s * 1e9).round().min(u64::MAX as f64) as Nanos
    } else {
        0
    }
}

/// The records of `requests`, in the order they were sent, and what their
/// formats left out.
pub(crate) fn records(mut requests: Vec<Timed>) -> (Vec<RequestRecord>, Vec<Missing>) {
    requests.sort_by(|a, b| a.start_s.total_cmp(&b.start_s));
    let origin = requests.first().map_or(0.0, |r| r.start_s);
    let mut missing = vec![Missing::SendSchedule];
    let records = requests
        .iter()
        .zip(0u64..)
        .map(|(t, id)| record(id, t, origin, &mut missing))
        .collect();
    (records, missing)
}

fn record(id: u64, t: &Timed, origin: f64, missing: &mut Vec<Missing>) -> RequestRecord {
    let sent = ns(t.start_s - origin);
    let mut r = RequestRecord::new(id, sent, sent);
    r.end_ns = t.latency_s.map(|l| sent.saturating_add(ns(l)));
    r.prompt_tokens = t.prompt_tokens;
    r.output_tokens = t.output_tokens;
    if let Some(text) = t.text {
        r.output_chars = text.chars;
        r.output_cjk_chars = text.cjk;
    } else if t.error.is_none() {
        // A failed request's empty answer is no gap in the format.
        missing.push(Missing::AnswerText);
    }
    if let Some(message) = &t.error {
        let (kind, status) = t.error_kind.unwrap_or_else(|| {
            missing.push(Missing::ErrorKinds);
            (ErrorKind::ServerError, None)
        });
        r.error = Some(RequestError {
            kind,
            status,
            message: message.chars().take(MAX_MESSAGE_CHARS).collect(),
        });
        return r;
    }
    let Some(ttft) = t.ttft_s else {
        return r;
    };
    let first = sent.saturating_add(ns(ttft));
    match &t.gaps_s {
        Some(gaps) => every_chunk(&mut r, t, gaps, first, missing),
        None => {
            // First and last token only; no chunk is "visible", so no
            // stall or reading speed is derived from a gap never seen.
            missing.push(Missing::ChunkTimes);
            r.chunks.push(Chunk {
                at_ns: first,
                tokens: 1,
                chars: 0,
            });
            let n = t.output_tokens.map_or(1, |c| c.count);
            let last = t.last_s.map(|l| sent.saturating_add(ns(l))).or(r.end_ns);
            if let (Some(end), true) = (last, n > 1) {
                if end > first {
                    r.chunks.push(Chunk {
                        at_ns: end,
                        tokens: n - 1,
                        chars: 0,
                    });
                }
            }
        }
    }
    if r.end_ns.is_none() {
        r.end_ns = r.chunks.last().map(|c| c.at_ns);
    }
    r
}

/// The chunks of a request whose every chunk was timed: the first at
/// `first`, then one per gap.
fn every_chunk(
    r: &mut RequestRecord,
    t: &Timed,
    gaps: &[f64],
    first: Nanos,
    missing: &mut Vec<Missing>,
) {
    let per_chunk = t.chunk_chars.as_ref().filter(|c| c.len() == gaps.len() + 1);
    // Without each chunk's text, every chunk carried text (the tools time
    // only those) but how much is not kept: one character stands for
    // "some". Without the answer's text no chunk counts as seen.
    let some = u32::from(t.text.is_some_and(|c| c.chars > 0));
    if per_chunk.is_none() && some > 0 {
        missing.push(Missing::ChunkChars);
    }
    let chars = |i: usize| per_chunk.map_or(some, |c| c[i]);
    let mut at = first;
    r.chunks.push(Chunk {
        at_ns: at,
        tokens: 1,
        chars: chars(0),
    });
    for (i, gap) in gaps.iter().enumerate() {
        at = at.saturating_add(ns(*gap));
        r.chunks.push(Chunk {
            at_ns: at,
            tokens: 1,
            chars: chars(i + 1),
        });
    }
}

/// A count the tool took from the server's usage block.
pub(crate) fn usage(count: u32) -> TokenCount {
    TokenCount {
        count,
        source: CountSource::ServerUsage,
    }
}

/// A count the tool made with its tokenizer.
pub(crate) fn tokenized(count: u32) -> TokenCount {
    TokenCount {
        count,
        source: CountSource::Tokenizer,
    }
}

/// Settings every imported run starts from: the metrics' default options.
pub(crate) fn settings() -> tokenpace_core::summary::RunSettings {
    let opts = tokenpace_core::request_metrics::MetricOptions::default();
    tokenpace_core::summary::RunSettings {
        stall_threshold_s: opts.stall_threshold_s,
        network_overhead_s: opts.network_overhead_s,
        ..Default::default()
    }
}
