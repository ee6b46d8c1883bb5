//! Turns a stream of timestamped events into one [`RequestRecord`].

use crate::backend::{Backend, Event, ReportedUsage, ToolCallDelta};
pub use crate::guard::Guard;
use crate::sse::TooLarge;
use crate::tokenizer::ModelTokenizer;
pub use crate::transcript::{StreamedToolCall, Transcript};
use std::time::SystemTime;
use tokenpace_core::record::{
    Chunk, CountSource, ErrorKind, Nanos, RequestError, RequestRecord, TokenCount,
};
use tokenpace_core::setting::Setting;
use tokenpace_core::text::CharCount;
use verdict::{bad_tool_call, no_visible_text};

mod verdict;

/// Builds the record of one request as its events arrive.
#[derive(Debug)]
pub struct Recorder<'t> {
    record: RequestRecord,
    usage: Option<ReportedUsage>,
    finish_reason: Option<String>,
    done: bool,
    prompt_tokens: Option<TokenCount>,
    /// With a tokenizer: the generated text so far, to count at the end.
    text: Option<(String, &'t ModelTokenizer)>,
    /// In a conversation: the answer and tool calls, to continue it.
    transcript: Option<Transcript>,
    /// What a server may send, and what must not be kept from it.
    guard: Guard,
    /// The server sends its running token count on every event (vLLM's
    /// `continuous_usage_stats`): chunks then carry exact token counts.
    per_chunk_usage: bool,
    /// The running count of generated tokens the server last reported.
    counted: u32,
    /// The tokens of the chunks recorded so far (the record's
    /// `streamed_tokens`), kept as they come: summing every chunk at every
    /// event made a stream's cost grow with its length squared.
    tokens_so_far: u64,
}

impl From<TooLarge> for StreamEnd {
    fn from(t: TooLarge) -> Self {
        StreamEnd::Failed(ErrorKind::EventTooLarge, None, t.to_string())
    }
}

/// How a stream ended.
#[derive(Debug, Clone, PartialEq)]
pub enum StreamEnd {
    /// The body ended normally.
    Complete,
    /// The request failed with this error.
    Failed(ErrorKind, Option<u16>, String),
    /// The user stopped reading (`--cancel-after`) and the client closed
    /// the stream: by design, not an error, once a token had arrived.
    Left,
}

impl<'t> Recorder<'t> {
    /// Starts the record of request `id`, sent at `sent_ns` as scheduled at
    /// `scheduled_ns`. `prompt_tokens` is the workload's own count, used when
    /// the server reports none.
    pub fn new(
        id: u64,
        scheduled_ns: Nanos,
        sent_ns: Nanos,
        prompt_tokens: Option<TokenCount>,
    ) -> Self {
        Recorder {
            record: RequestRecord::new(id, scheduled_ns, sent_ns),
            usage: None,
            finish_reason: None,
            done: false,
            prompt_tokens,
            text: None,
            transcript: None,
            guard: Guard::default(),
            per_chunk_usage: false,
            counted: 0,
            tokens_so_far: 0,
        }
    }

    /// Sets what the response may hold and which secrets to hide.
    pub fn guard(&mut self, guard: Guard) {
        self.guard = guard;
    }

    /// The secrets no kept server text may hold.
    pub fn secrets(&self) -> &crate::redact::Secrets {
        &self.guard.secrets
    }

    /// When the last token-carrying event arrived, if one has.
    pub fn last_token_ns(&self) -> Option<Nanos> {
        self.record.last_token_ns()
    }

    /// Bytes one streamed event may hold (for the parser).
    pub fn max_event_bytes(&self) -> usize {
        self.guard.max_event_bytes
    }

    /// Keeps the answer and tool calls ([`Recorder::finish_with_transcript`]).
    pub fn keep_transcript(&mut self) {
        self.transcript = Some(Transcript::default());
    }

    /// Keeps the generated text so `tokenizer` can count it when the server
    /// reports no usage (the text is dropped when the record is finished).
    pub fn count_output_with(&mut self, tokenizer: &'t ModelTokenizer) {
        self.text = Some((String::new(), tokenizer));
    }

    /// The id sent in the request-id header.
    pub fn request_id(&mut self, id: Box<str>) {
        self.record.request_id = Some(id);
    }

    /// The response headers arrived.
    pub fn headers(&mut self, at: Nanos) {
        self.record.headers_ns = Some(at);
    }

    /// The response's rate-limit headers, read at `now` (`Retry-After`
    /// may be a date).
    pub fn rate_limits(&mut self, headers: &crate::throttle::RateLimitHeaders, now: SystemTime) {
        self.record.retry_after_ms = headers.retry_after_ms(now);
        self.record.rate_limits = headers
            .iter()
            .map(|(n, v)| (n.into(), self.guard.keep(v, Guard::ID_CHARS).into()))
            .collect();
    }

    /// How the request went out: name resolution, a new connection, the
    /// last byte written.
    pub fn timeline(&mut self, t: &crate::transport::Timeline) {
        self.record.dns_ns = t.dns_ns;
        self.record.connected_ns = t.connected_ns;
        self.record.tls_ns = t.tls_ns;
        self.record.tls_resumed = t.tls_resumed;
        self.record.written_ns = t.written_ns;
    }

    /// A complete event's data arrived at `at`. Returns the error to end the
    /// request with, if the event was malformed or reported an error.
    pub fn event(&mut self, at: Nanos, data: &[u8], backend: &dyn Backend) -> Option<StreamEnd> {
        self.record.first_event_ns.get_or_insert(at);
        let delta = match backend.parse_event(data) {
            Ok(Event::Done) => {
                self.done = true;
                return None;
            }
            Ok(Event::Delta(d)) => d,
            Err(why) => return Some(self.malformed(&why, data)),
        };
        if self.record.response_id.is_none() {
            self.record.response_id = delta.id.map(|id| id.into());
        }
        if let Some(message) = delta.error {
            return Some(StreamEnd::Failed(ErrorKind::ServerError, None, message));
        }
        if let Some((text, _)) = &mut self.text {
            text.push_str(&delta.reasoning);
            text.push_str(&delta.answer);
        }
        let carries =
            !delta.reasoning.is_empty() || !delta.answer.is_empty() || !delta.tool_calls.is_empty();
        let mut tokens = self.tokens_of(carries, delta.usage.and_then(|u| u.completion_tokens));
        if !delta.reasoning.is_empty() {
            let count = CharCount::of(&delta.reasoning);
            let tokens = self.counted_in(tokens.next());
            self.record.reasoning_chunks.push(Chunk {
                at_ns: at,
                tokens,
                chars: count.chars,
            });
        }
        if !delta.answer.is_empty() {
            let count = CharCount::of(&delta.answer);
            let tokens = self.counted_in(tokens.next());
            self.record.chunks.push(Chunk {
                at_ns: at,
                tokens,
                chars: count.chars,
            });
            self.record.output_chars = self.record.output_chars.saturating_add(count.chars);
            self.record.output_cjk_chars = self.record.output_cjk_chars.saturating_add(count.cjk);
        }
        if let Some(t) = &mut self.transcript {
            t.push(&delta.answer, |t| &mut t.answer);
            for call in &delta.tool_calls {
                t.tool_delta(call);
            }
        }
        if !delta.tool_calls.is_empty() {
            let tokens = self.counted_in(tokens.next());
            self.tool_chunk(at, &delta.tool_calls, tokens);
        }
        if let Some(u) = delta.usage {
            self.merge_usage(u);
        }
        if let Some(t) = delta.timings {
            self.record.server_timings = Some(t);
        }
        if let Some(f) = delta.finish_reason {
            self.finish_reason = Some(f.into_owned());
            self.record.finish_ns.get_or_insert(at);
        }
        let read_enough = self
            .guard
            .leave_after_tokens
            .is_some_and(|n| self.streamed_tokens() >= n);
        self.overrun()
            .or_else(|| read_enough.then_some(StreamEnd::Left))
    }

    /// The end of a request whose event `data` could not be parsed (`why`):
    /// the event's start shown, redacted whole before it is cut.
    fn malformed(&self, why: &str, data: &[u8]) -> StreamEnd {
        let event = String::from_utf8_lossy(data.trim_ascii());
        let shown = self.guard.keep(&event, Guard::EVENT_CHARS);
        StreamEnd::Failed(ErrorKind::MalformedEvent, None, format!("{why}: {shown}"))
    }

    /// Records an event's tool-call pieces, `tokens` tokens, at `at`.
    fn tool_chunk(&mut self, at: Nanos, calls: &[ToolCallDelta<'_>], tokens: u32) {
        let mut chars = 0u32;
        for call in calls {
            if call.id.is_some() || call.name.is_some() {
                self.record.tool_calls = self.record.tool_calls.saturating_add(1);
            }
            let n = call.name.as_deref().map_or(0, |n| n.chars().count());
            chars = chars.saturating_add((n + call.arguments.chars().count()) as u32);
        }
        self.record.tool_chunks.push(Chunk {
            at_ns: at,
            tokens,
            chars,
        });
    }

    /// Some APIs report usage in parts (Anthropic: input tokens first,
    /// output tokens last): later counts win, earlier ones stay.
    fn merge_usage(&mut self, u: ReportedUsage) {
        self.usage = Some(match self.usage {
            Some(old) => ReportedUsage {
                prompt_tokens: u.prompt_tokens.or(old.prompt_tokens),
                completion_tokens: u.completion_tokens.or(old.completion_tokens),
                reasoning_tokens: u.reasoning_tokens.or(old.reasoning_tokens),
                cached_tokens: u.cached_tokens.or(old.cached_tokens),
            },
            None => u,
        });
    }

    /// Chunks streamed so far (events that carried a token).
    fn streamed(&self) -> u64 {
        (self.record.chunks.len()
            + self.record.reasoning_chunks.len()
            + self.record.tool_chunks.len()) as u64
    }

    /// The tokens of the chunks an event makes. Without per-chunk usage,
    /// one each (a lower bound when a server sends several per event);
    /// with it, the growth of the server's running count, given to the
    /// event's first chunk. Per-chunk usage is recognised on the first
    /// token-carrying event: a count on a later one alone is the total.
    fn tokens_of(&mut self, carries: bool, running: Option<u32>) -> ChunkTokens {
        if carries && !self.has_token() {
            self.per_chunk_usage = running.is_some();
        }
        let first = match running {
            Some(n) if self.per_chunk_usage && carries => n.saturating_sub(self.counted),
            _ => 1,
        };
        if let Some(n) = running {
            self.counted = self.counted.max(n);
        }
        ChunkTokens {
            first: Some(first),
            rest: if self.per_chunk_usage { 0 } else { 1 },
        }
    }

    /// Tokens streamed so far: a lower bound when a server batches tokens
    /// and does not say so per chunk.
    fn streamed_tokens(&self) -> u64 {
        debug_assert_eq!(self.tokens_so_far, u64::from(self.record.streamed_tokens()));
        self.tokens_so_far
    }

    /// Counts a chunk's `tokens` into [`Self::streamed_tokens`].
    fn counted_in(&mut self, tokens: u32) -> u32 {
        self.tokens_so_far += u64::from(tokens);
        tokens
    }

    /// The end of a stream that ran far past `max_tokens`, if it did.
    fn overrun(&self) -> Option<StreamEnd> {
        let after = self.guard.overrun_after()?;
        let came = self.streamed_tokens();
        (came > after).then(|| {
            StreamEnd::Failed(
                ErrorKind::Overrun,
                None,
                format!(
                    "asked for at most {} tokens (max_tokens) but the server sent {came}; the rest of the stream was not read",
                    self.guard.max_tokens
                ),
            )
        })
    }

    /// Why the server stopped, if it said.
    pub fn finish_reason(&self) -> Option<&str> {
        self.finish_reason.as_deref()
    }

    /// Whether any token has arrived yet.
    pub fn has_token(&self) -> bool {
        !self.record.chunks.is_empty()
            || !self.record.reasoning_chunks.is_empty()
            || !self.record.tool_chunks.is_empty()
    }

    /// Ends the record at `at`, with what the response said if it was kept.
    /// A tool call whose arguments are not JSON fails the request
    /// ([`ErrorKind::BadToolCall`]): a client acting on it could not.
    pub fn finish_with_transcript(
        mut self,
        at: Nanos,
        end: StreamEnd,
    ) -> (RequestRecord, Option<Transcript>) {
        let transcript = self.transcript.take();
        let end = match (&end, &transcript) {
            (StreamEnd::Complete, Some(t)) => {
                match bad_tool_call(t, &self.finish_reason, &self.guard) {
                    Some(message) => StreamEnd::Failed(ErrorKind::BadToolCall, None, message),
                    None => end,
                }
            }
            _ => end,
        };
        (self.finish(at, end), transcript)
    }

    /// Ends the record at `at`.
    pub fn finish(mut self, at: Nanos, end: StreamEnd) -> RequestRecord {
        let streamed = self.streamed();
        self.record.end_ns = Some(at);
        let usage = self.usage.unwrap_or_default();
        self.count(usage);
        let end = self.settle(end, streamed, usage.completion_tokens, at);
        let r = &mut self.record;
        if let StreamEnd::Failed(kind, status, message) = end {
            r.error = Some(RequestError {
                kind,
                status,
                message: self.guard.keep(&message, Guard::MESSAGE_CHARS).into(),
            });
        }
        if let Some(id) = &mut r.response_id {
            *id = self.guard.keep(id, Guard::ID_CHARS).into();
        }
        r.finish_reason = self
            .finish_reason
            .as_deref()
            .map(|f| self.guard.keep(f, Guard::ID_CHARS).into());
        self.record
    }

    /// Sets the record's token counts from the server's `usage`, else the
    /// tokenizer, else the chunks.
    fn count(&mut self, usage: ReportedUsage) {
        let r = &mut self.record;
        let chunk_tokens: u32 = r
            .chunks
            .iter()
            .chain(&r.reasoning_chunks)
            .chain(&r.tool_chunks)
            .map(|c| c.tokens)
            .fold(0, u32::saturating_add);
        let counted = self
            .text
            .as_ref()
            .and_then(|(text, tokenizer)| tokenizer.count(text).ok());
        r.output_tokens = match (usage.completion_tokens, counted) {
            (Some(count), _) => Some(TokenCount {
                count,
                source: CountSource::ServerUsage,
            }),
            (None, Some(count)) if count > 0 => Some(TokenCount {
                count,
                source: CountSource::Tokenizer,
            }),
            (None, _) if chunk_tokens > 0 => Some(TokenCount {
                count: chunk_tokens,
                source: CountSource::ChunkCount,
            }),
            (None, _) => None,
        };
        r.reasoning_tokens = usage.reasoning_tokens.or_else(|| {
            let n = r.reasoning_chunks.len() as u32;
            (n > 0 && usage.completion_tokens.is_none()).then_some(n)
        });
        r.cached_tokens = usage.cached_tokens;
        r.prompt_tokens = match usage.prompt_tokens {
            Some(count) => Some(TokenCount {
                count,
                source: CountSource::ServerUsage,
            }),
            None => self.prompt_tokens,
        };
    }

    /// How the request really ended, given how its stream did (`end`, at
    /// `at`) and what it carried: `streamed` token chunks, `completion`
    /// tokens by the server's count.
    fn settle(
        &mut self,
        end: StreamEnd,
        streamed: u64,
        completion: Option<u32>,
        at: Nanos,
    ) -> StreamEnd {
        let r = &mut self.record;
        // A body that ended without [DONE] and without a finish reason was
        // cut short; one with a finish reason merely omitted the marker.
        match end {
            StreamEnd::Complete if !self.done && self.finish_reason.is_none() => StreamEnd::Failed(
                ErrorKind::StreamCut,
                None,
                "the stream ended without [DONE] or a finish reason".into(),
            ),
            StreamEnd::Complete if streamed == 0 && r.tool_calls == 0 => StreamEnd::Failed(
                ErrorKind::EmptyResponse,
                None,
                match completion {
                    Some(n) if n > 0 => format!("the response streamed no token, though its usage counts {n} (only [DONE], empty or role-only events)"),
                    _ => "the response streamed no token (only [DONE], empty or role-only events)".into(),
                },
            ),
            StreamEnd::Complete if r.chunks.is_empty() && r.tool_chunks.is_empty() => {
                let message = no_visible_text(r, &self.finish_reason);
                StreamEnd::Failed(ErrorKind::NoVisibleText, None, message)
            }
            StreamEnd::Left if streamed == 0 && r.tool_calls == 0 => StreamEnd::Failed(
                ErrorKind::Abandoned,
                None,
                format!("the user left ({}) before the first token", Setting::CancelAfter),
            ),
            StreamEnd::Left => {
                r.left_ns = Some(at);
                StreamEnd::Left
            }
            other => other,
        }
    }
}

/// The tokens of the chunks one event makes, in the order they are made.
struct ChunkTokens {
    first: Option<u32>,
    rest: u32,
}

impl ChunkTokens {
    fn next(&mut self) -> u32 {
        self.first.take().unwrap_or(self.rest)
    }
}

#[cfg(test)]
mod tests;
