//! One request as tokenpace observed it: [`RequestRecord`].
//!
//! Every backend (OpenAI-compatible HTTP, native server APIs, the embedded
//! engine) fills this one type, and every command (bench, report, compare,
//! merge) reads it. Times are nanosecond offsets from the start of the run on
//! a monotonic clock, so two records of one run can be subtracted directly and
//! records of different hosts are only ever compared through per-request
//! differences.
//!
//! The record is compact: a streamed chunk costs 16 bytes, so 100 000 records
//! of 256 chunks each fit in about 410 MB, and a typical chat run far less.

mod error;
pub mod throttle;

use serde::{Deserialize, Serialize};

pub use error::{ErrorKind, RequestError};
use std::collections::BTreeMap;
pub use throttle::Retries;

/// Nanoseconds since the start of the run, on a monotonic clock.
pub type Nanos = u64;

/// One streamed event that carried generated text, as it arrived.
///
/// Events that carry no generated text (a role-only delta, a usage-only final
/// chunk, keep-alive comments) are not chunks; the first of any event is kept
/// in [`RequestRecord::first_event_ns`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Chunk {
    /// When the bytes that completed this event arrived (before parsing).
    pub at_ns: Nanos,
    /// Tokens this event carried (1 per event for most servers; the
    /// tokenizer's count or the server's where the event carried several).
    pub tokens: u32,
    /// Visible characters (Unicode scalar values) of its text.
    pub chars: u32,
}

/// Where a token count came from, most to least trustworthy.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum CountSource {
    /// The server's `usage` block (or its native equivalent).
    ServerUsage,
    /// The model's own tokenizer, run locally on the text.
    Tokenizer,
    /// One token per streamed event: a lower bound when servers batch tokens.
    ChunkCount,
    /// A character-based estimate; never exact.
    Estimate,
}

/// Timings a server reported about itself (llama.cpp `timings`, Ollama
/// durations, the embedded engine), kept beside the client's own figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ServerTimings {
    /// Prompt processing speed the server measured, tokens/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_tok_s: Option<f64>,
    /// Generation speed the server measured, tokens/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_tok_s: Option<f64>,
}

/// Where a request sits in a conversation: a chat session's turn, or an
/// agent task's step (a task is a session whose turns are model calls).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TurnRef {
    /// The session (or agent task), numbered from 0 within the run.
    pub session: u64,
    /// The turn (or step) within it, from 0.
    pub turn: u32,
}

/// One request as observed by the client.
///
/// Answer chunks (what a reader sees) and reasoning chunks (a reasoning
/// model's hidden or separately shown thoughts) are kept in separate lists, so
/// the four candidate "first token" times are all derivable: the first event
/// ([`first_event_ns`](Self::first_event_ns)), the first token of either kind
/// ([`first_token_ns`](Self::first_token_ns)), the first reasoning token and
/// the first visible answer character.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestRecord {
    /// Sequence number within the run, from 0.
    pub id: u64,
    /// The id the server gave the response (OpenAI `id`), to match the
    /// record with server logs or the simulator's ground truth.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response_id: Option<Box<str>>,
    /// The id tokenpace sent in its request-id header (`X-Request-ID` by
    /// default), to join the record with the server's own logs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<Box<str>>,
    /// The model the request asked for, kept only when the run mixed
    /// several (`bench --model-mix`); otherwise it is the run's model.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<Box<str>>,
    /// When the load schedule wanted this request sent (open loop), or when a
    /// slot became free (closed loop).
    pub scheduled_ns: Nanos,
    /// When the request started: before its connection was taken or opened
    /// and its first byte written. TTFT counts from here, so a request that
    /// opens a connection pays for it, as a user's first request does.
    pub sent_ns: Nanos,
    /// When the target's host name was resolved (only the request that
    /// resolved it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub dns_ns: Option<Nanos>,
    /// When this request's new connection was established (TCP connected);
    /// absent when it reused a kept-alive connection, or when the transport
    /// cannot tell (`https://` targets).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub connected_ns: Option<Nanos>,
    /// When this request's new connection finished its TLS handshake
    /// (`https://`; absent in the clear or on a reused connection). TTFT
    /// includes it, as a user's first request pays for it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_ns: Option<Nanos>,
    /// Whether that handshake resumed an earlier session.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tls_resumed: Option<bool>,
    /// When the request's last byte was written to the socket (absent when
    /// the transport cannot tell).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub written_ns: Option<Nanos>,
    /// When the response headers arrived.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers_ns: Option<Nanos>,
    /// When the first SSE event of any kind arrived (often a role-only delta).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_event_ns: Option<Nanos>,
    /// Answer chunks in arrival order.
    #[serde(default)]
    pub chunks: Vec<Chunk>,
    /// Reasoning chunks in arrival order (`reasoning_content` / `reasoning`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reasoning_chunks: Vec<Chunk>,
    /// Tool-call chunks in arrival order: `chars` counts the characters of
    /// the call's name and JSON arguments that event carried.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tool_chunks: Vec<Chunk>,
    /// Tool calls the response made.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub tool_calls: u32,
    /// The session turn or agent step this request was, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub turn: Option<TurnRef>,
    /// Which repeat of its level the request belonged to (`bench
    /// --repeat`), from 0; absent when the level ran once.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeat: Option<u32>,
    /// Why generation stopped, as the server said it in OpenAI's words
    /// (`stop`, `length`, `tool_calls`, …; other APIs' reasons mapped).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<Box<str>>,
    /// When the event that said why generation stopped (its finish reason)
    /// arrived: the end of generation, also when its last tokens never
    /// streamed (a tool call's closing tokens, text a server held back).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_ns: Option<Nanos>,
    /// When the response ended (last byte, or the error).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_ns: Option<Nanos>,
    /// Prompt tokens, and where the count came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<TokenCount>,
    /// Generated tokens (answer and reasoning together), and where the count
    /// came from.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tokens: Option<TokenCount>,
    /// Of the prompt tokens, how many the server took from its prefix cache
    /// (`usage.prompt_tokens_details.cached_tokens`), when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u32>,
    /// Of the generated tokens, how many were reasoning, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reasoning_tokens: Option<u32>,
    /// Characters of the visible answer text.
    #[serde(default)]
    pub output_chars: u32,
    /// Of those, CJK characters.
    #[serde(default)]
    pub output_cjk_chars: u32,
    /// Timings the server reported about itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_timings: Option<ServerTimings>,
    /// Set when the request failed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<RequestError>,
    /// When the client closed the stream by design (`--cancel-after`: a
    /// user who stopped reading after some tokens). Such a request
    /// succeeded; its end-to-end latency is not a full answer's.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_ns: Option<Nanos>,
    /// How long the server asked the client to wait (`Retry-After`, read
    /// as milliseconds: seconds or an HTTP-date), when it said.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_ms: Option<u64>,
    /// The response's rate-limit headers as sent (`x-ratelimit-*`,
    /// `anthropic-ratelimit-*`, `retry-after`; names in lower case, at
    /// most 16, values cut to 64 characters, control characters escaped).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub rate_limits: BTreeMap<Box<str>, Box<str>>,
    /// The throttled attempts retried before this one
    /// (`bench --retry-throttled`); absent when there were none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retries: Option<Retries>,
}

/// A token count with its provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TokenCount {
    /// The number of tokens.
    pub count: u32,
    /// Where the number came from.
    pub source: CountSource,
}

impl RequestRecord {
    /// A record for a request sent at `sent_ns` as scheduled at
    /// `scheduled_ns`, with nothing received yet.
    pub fn new(id: u64, scheduled_ns: Nanos, sent_ns: Nanos) -> Self {
        RequestRecord {
            id,
            response_id: None,
            request_id: None,
            model: None,
            scheduled_ns,
            sent_ns,
            dns_ns: None,
            connected_ns: None,
            tls_ns: None,
            tls_resumed: None,
            written_ns: None,
            headers_ns: None,
            first_event_ns: None,
            chunks: Vec::new(),
            reasoning_chunks: Vec::new(),
            tool_chunks: Vec::new(),
            tool_calls: 0,
            turn: None,
            repeat: None,
            finish_reason: None,
            finish_ns: None,
            end_ns: None,
            prompt_tokens: None,
            output_tokens: None,
            cached_tokens: None,
            reasoning_tokens: None,
            output_chars: 0,
            output_cjk_chars: 0,
            server_timings: None,
            error: None,
            left_ns: None,
            retry_after_ms: None,
            rate_limits: BTreeMap::new(),
            retries: None,
        }
    }

    /// Whether the request succeeded.
    pub fn is_ok(&self) -> bool {
        self.error.is_none()
    }

    /// The first chunk carrying a token: answer, reasoning or tool call.
    pub fn first_token_ns(&self) -> Option<Nanos> {
        let answer = self.chunks.first().map(|c| c.at_ns);
        let reasoning = self.reasoning_chunks.first().map(|c| c.at_ns);
        min_opt(min_opt(answer, reasoning), self.first_tool_ns())
    }

    /// The last chunk carrying a token: answer, reasoning or tool call.
    pub fn last_token_ns(&self) -> Option<Nanos> {
        let answer = self.chunks.last().map(|c| c.at_ns);
        let reasoning = self.reasoning_chunks.last().map(|c| c.at_ns);
        let tool = self.tool_chunks.last().map(|c| c.at_ns);
        answer.max(reasoning).max(tool)
    }

    /// Tokens the streamed chunks carried (answer, reasoning and tool calls).
    pub fn streamed_tokens(&self) -> u32 {
        self.chunks
            .iter()
            .chain(&self.reasoning_chunks)
            .chain(&self.tool_chunks)
            .map(|c| c.tokens)
            .fold(0, u32::saturating_add)
    }

    /// The first chunk carrying a token: answer, reasoning or tool call.
    fn first_token_chunk(&self) -> Option<Chunk> {
        [
            self.chunks.first(),
            self.reasoning_chunks.first(),
            self.tool_chunks.first(),
        ]
        .into_iter()
        .flatten()
        .min_by_key(|c| c.at_ns)
        .copied()
    }

    /// Tokens the first token-carrying chunk held (1 unless the server said
    /// more, as per-chunk usage does).
    pub fn first_chunk_tokens(&self) -> u32 {
        self.first_token_chunk().map_or(0, |c| c.tokens)
    }

    /// When generation ended: the last token chunk, or the finish event
    /// after it when the server counts more tokens than the chunks carried
    /// (they were generated but never streamed as their own chunks).
    pub fn generation_end_ns(&self) -> Option<Nanos> {
        let last = self.last_token_ns()?;
        let counted = self.output_tokens.map_or(0, |t| t.count);
        Some(match self.finish_ns {
            Some(f) if counted > self.streamed_tokens() => last.max(f),
            _ => last,
        })
    }

    /// The first tool-call chunk.
    pub fn first_tool_ns(&self) -> Option<Nanos> {
        self.tool_chunks.first().map(|c| c.at_ns)
    }

    /// Characters of tool-call names and arguments.
    pub fn tool_chars(&self) -> u32 {
        self.tool_chunks
            .iter()
            .map(|c| c.chars)
            .fold(0, u32::saturating_add)
    }

    /// The share of the prompt the server took from its cache, when it said.
    pub fn cached_share(&self) -> Option<f64> {
        let prompt = self.prompt_tokens?.count;
        let cached = self.cached_tokens?;
        (prompt > 0).then(|| f64::from(cached.min(prompt)) / f64::from(prompt))
    }

    /// The first reasoning token.
    pub fn first_reasoning_ns(&self) -> Option<Nanos> {
        self.reasoning_chunks.first().map(|c| c.at_ns)
    }

    /// The first answer chunk with at least one visible character.
    pub fn first_visible_ns(&self) -> Option<Nanos> {
        self.chunks.iter().find(|c| c.chars > 0).map(|c| c.at_ns)
    }

    /// How much of `limit` the server said was left (its rate-limit
    /// headers), when it said it as a number.
    pub fn remaining(&self, limit: throttle::RateLimitKind) -> Option<u64> {
        limit
            .remaining_headers()
            .iter()
            .find_map(|h| self.rate_limits.get(*h)?.trim().parse().ok())
    }

    /// Answer tokens: output tokens less reasoning tokens.
    pub fn answer_tokens(&self) -> Option<u32> {
        let out = self.output_tokens?.count;
        Some(out.saturating_sub(self.reasoning_tokens.unwrap_or(0)))
    }
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

fn min_opt(a: Option<Nanos>, b: Option<Nanos>) -> Option<Nanos> {
    match (a, b) {
        (Some(a), Some(b)) => Some(a.min(b)),
        (a, None) => a,
        (None, b) => b,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_chunk_costs_sixteen_bytes() {
        assert_eq!(std::mem::size_of::<Chunk>(), 16);
    }

    #[test]
    fn first_token_is_the_earlier_of_answer_and_reasoning() {
        let mut r = RequestRecord::new(0, 0, 10);
        assert_eq!(r.first_token_ns(), None);
        r.reasoning_chunks.push(Chunk {
            at_ns: 50,
            tokens: 1,
            chars: 2,
        });
        r.chunks.push(Chunk {
            at_ns: 70,
            tokens: 1,
            chars: 0,
        });
        r.chunks.push(Chunk {
            at_ns: 90,
            tokens: 1,
            chars: 3,
        });
        assert_eq!(r.first_token_ns(), Some(50));
        assert_eq!(r.first_reasoning_ns(), Some(50));
        assert_eq!(r.first_visible_ns(), Some(90));
        assert_eq!(r.last_token_ns(), Some(90));
    }

    #[test]
    fn round_trips_through_json() {
        let mut r = RequestRecord::new(3, 5, 7);
        r.chunks.push(Chunk {
            at_ns: 9,
            tokens: 1,
            chars: 2,
        });
        r.error = Some(RequestError {
            kind: ErrorKind::HttpStatus,
            status: Some(429),
            message: "slow down".into(),
        });
        let json = serde_json::to_string(&r).unwrap();
        assert!(json.contains("\"kind\":\"http_status\""), "{json}");
        let back: RequestRecord = serde_json::from_str(&json).unwrap();
        assert_eq!(back, r);
    }
}
