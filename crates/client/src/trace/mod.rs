//! Replaying a production request trace: the requests of a Mooncake JSONL,
//! Azure LLM inference CSV or BurstGPT CSV file sent at the trace's times
//! (sped up or slowed down), with prompts of the trace's lengths whose
//! shared `hash_ids` become shared text, so a prefix cache hits as it did in
//! production.
//!
//! The file is read line by line ([`TraceReader`]), never whole: it is
//! scanned once before the clock starts ([`scan`]: every line checked,
//! requests counted, O(1) memory) and then read again as it is replayed.

mod formats;
mod prompts;
mod reader;
pub mod replay;

pub use formats::{LogType, TraceFormat};
pub use prompts::TracePrompts;
pub use reader::TraceReader;

use std::path::PathBuf;
use std::time::Duration;
use tokenpace_core::setting::Setting;

/// One request of a trace.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceRequest {
    /// Its line in the file (1 = the first line, a CSV header included).
    pub line: u64,
    /// Its position among the trace's requests (0 = the first); records
    /// carry it as their id.
    pub index: u64,
    /// When it arrived, nanoseconds after the trace's first request.
    pub at_ns: u64,
    /// Prompt tokens.
    pub input_tokens: u32,
    /// Generated tokens.
    pub output_tokens: u32,
    /// Mooncake's prefix-block hashes (empty in other formats): requests
    /// that share leading ids share a prompt prefix.
    pub hash_ids: Vec<u64>,
}

/// A trace file and which of its requests to replay.
#[derive(Debug, Clone, PartialEq)]
pub struct TraceSpec {
    /// The file.
    pub path: PathBuf,
    /// Its format, or `None` to detect it from the first line.
    pub format: Option<TraceFormat>,
    /// BurstGPT: replay only this kind of request (`Log Type`).
    pub log_type: Option<LogType>,
    /// Skip requests before this much trace time (after its first request).
    pub start: Duration,
    /// Replay only this much trace time from `start`.
    pub duration: Option<Duration>,
    /// Tokens of text per `hash_ids` entry (Mooncake's blocks are 512).
    pub block_tokens: u32,
}

impl TraceSpec {
    /// The requests inside the window, in order, with times counted from
    /// the window's start.
    pub fn open(
        &self,
    ) -> Result<impl Iterator<Item = Result<TraceRequest, TraceError>>, TraceError> {
        let reader = TraceReader::open(&self.path, self.format, self.log_type)?;
        let start = self.start.as_nanos() as u64;
        let end = self
            .duration
            .map(|d| start.saturating_add(d.as_nanos() as u64));
        Ok(reader
            .filter(move |r| r.as_ref().map_or(true, |r| r.at_ns >= start))
            .take_while(move |r| r.as_ref().map_or(true, |r| end.is_none_or(|e| r.at_ns < e)))
            .map(move |r| {
                r.map(|mut r| {
                    r.at_ns -= start;
                    r
                })
            }))
    }
}

/// What a scan of the window found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TraceScan {
    /// Requests in the window.
    pub requests: u64,
    /// Trace time from the window's start to its last request.
    pub span_ns: u64,
    /// Prompt tokens of the window's requests.
    pub prompt_tokens: u64,
    /// Of those, tokens of leading blocks an earlier request of the window
    /// had (`hash_ids`): what a fresh server's prefix cache can serve at
    /// most, with room for everything.
    pub shared_tokens: u64,
}

/// Hashes a scan remembers to tell shared blocks (a bound on memory).
const SEEN_HASHES: usize = 8 << 20;

/// Reads the window once, checking every line, without holding more than
/// one line (and the hashes seen): errors surface before anything is sent.
pub fn scan(spec: &TraceSpec) -> Result<TraceScan, TraceError> {
    let mut out = TraceScan {
        requests: 0,
        span_ns: 0,
        prompt_tokens: 0,
        shared_tokens: 0,
    };
    let block = u64::from(spec.block_tokens.max(1));
    let mut seen = std::collections::HashSet::new();
    for r in spec.open()? {
        let r = r?;
        out.requests += 1;
        out.span_ns = r.at_ns;
        let input = u64::from(r.input_tokens.max(1));
        out.prompt_tokens += input;
        // Blocks chain: one is cached only when all before it are.
        for (i, h) in r.hash_ids.iter().enumerate() {
            let at = i as u64 * block;
            if at >= input || !seen.contains(h) {
                break;
            }
            out.shared_tokens += block.min(input - at);
        }
        if seen.len() < SEEN_HASHES {
            seen.extend(r.hash_ids.iter().copied());
        }
    }
    if out.requests == 0 {
        return Err(TraceError {
            path: spec.path.clone(),
            line: None,
            column: None,
            message: format!(
                "no request in the window: check {}, {} and {} against the trace's times and kinds",
                Setting::TraceStart,
                Setting::TraceDuration,
                Setting::TraceLogType
            ),
        });
    }
    Ok(out)
}

/// Why a trace cannot be replayed: the file, line and column, and what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceError {
    /// The file.
    pub path: PathBuf,
    /// The line (1 = first), if the problem is on one.
    pub line: Option<u64>,
    /// The column or JSON key, if the problem is in one.
    pub column: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl std::fmt::Display for TraceError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "trace '{}'", self.path.display())?;
        if let Some(l) = self.line {
            write!(f, " line {l}")?;
        }
        if let Some(c) = &self.column {
            write!(f, " column '{c}'")?;
        }
        write!(f, ": {}", self.message)
    }
}

impl std::error::Error for TraceError {}
