//! Turns a stream of timestamped events into one [`RequestRecord`].

use crate::backend::{Backend, Event, Usage};
pub use crate::guard::Guard;
use crate::sse::TooLarge;
use crate::tokenizer::ModelTokenizer;
pub use crate::transcript::{ToolCall, Transcript};
use tokenpace_core::record::{
    Chunk, CountSource, ErrorKind, Nanos, RequestError, RequestRecord, TokenCount,
};
use tokenpace_core::text::CharCount;

/// Builds the record of one request as its events arrive.
#[derive(Debug)]
pub struct Recorder<'t> {
    record: RequestRecord,
    usage: Option<Usage>,
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
        }
    }

    /// Sets what the response may hold and which secrets to hide.
    pub fn guard(&mut self, guard: Guard) {
        self.guard = guard;
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

    /// How the request went out: name resolution, a new connection, the
    /// last byte written.
    pub fn timeline(&mut self, t: &crate::transport::Timeline) {
        self.record.dns_ns = t.dns_ns;
        self.record.connected_ns = t.connected_ns;
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
            Err(message) => {
                return Some(StreamEnd::Failed(ErrorKind::MalformedEvent, None, message))
            }
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
            self.record.reasoning_chunks.push(Chunk {
                at_ns: at,
                tokens: tokens.next(),
                chars: count.chars,
            });
        }
        if !delta.answer.is_empty() {
            let count = CharCount::of(&delta.answer);
            self.record.chunks.push(Chunk {
                at_ns: at,
                tokens: tokens.next(),
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
            let mut chars = 0u32;
            for call in &delta.tool_calls {
                if call.id.is_some() || call.name.is_some() {
                    self.record.tool_calls = self.record.tool_calls.saturating_add(1);
                }
                let n = call.name.as_deref().map_or(0, |n| n.chars().count());
                chars = chars.saturating_add((n + call.arguments.chars().count()) as u32);
            }
            self.record.tool_chunks.push(Chunk {
                at_ns: at,
                tokens: tokens.next(),
                chars,
            });
        }
        if let Some(u) = delta.usage {
            // Some APIs report usage in parts (Anthropic: input tokens
            // first, output tokens last): later counts win, earlier stay.
            self.usage = Some(match self.usage {
                Some(old) => Usage {
                    prompt_tokens: u.prompt_tokens.or(old.prompt_tokens),
                    completion_tokens: u.completion_tokens.or(old.completion_tokens),
                    reasoning_tokens: u.reasoning_tokens.or(old.reasoning_tokens),
                    cached_tokens: u.cached_tokens.or(old.cached_tokens),
                },
                None => u,
            });
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
        u64::from(self.record.streamed_tokens())
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
            (StreamEnd::Complete, Some(t)) => match bad_tool_call(t) {
                Some(message) => StreamEnd::Failed(ErrorKind::BadToolCall, None, message),
                None => end,
            },
            _ => end,
        };
        (self.finish(at, end), transcript)
    }

    /// Ends the record at `at`.
    pub fn finish(mut self, at: Nanos, end: StreamEnd) -> RequestRecord {
        let streamed = self.streamed();
        let r = &mut self.record;
        r.end_ns = Some(at);
        let chunk_tokens: u32 = r
            .chunks
            .iter()
            .chain(&r.reasoning_chunks)
            .chain(&r.tool_chunks)
            .map(|c| c.tokens)
            .fold(0, u32::saturating_add);
        let usage = self.usage.unwrap_or_default();
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
        // A body that ended without [DONE] and without a finish reason was
        // cut short; one with a finish reason merely omitted the marker.
        let end = match end {
            StreamEnd::Complete if !self.done && self.finish_reason.is_none() => StreamEnd::Failed(
                ErrorKind::StreamCut,
                None,
                "the stream ended without [DONE] or a finish reason".into(),
            ),
            StreamEnd::Complete if streamed == 0 && r.tool_calls == 0 => StreamEnd::Failed(
                ErrorKind::EmptyResponse,
                None,
                match usage.completion_tokens {
                    Some(n) if n > 0 => format!("the response streamed no token, though its usage counts {n} (only [DONE], empty or role-only events)"),
                    _ => "the response streamed no token (only [DONE], empty or role-only events)".into(),
                },
            ),
            StreamEnd::Left if streamed == 0 && r.tool_calls == 0 => StreamEnd::Failed(
                ErrorKind::Abandoned,
                None,
                "the user left (--cancel-after) before the first token".into(),
            ),
            StreamEnd::Left => {
                r.left_ns = Some(at);
                StreamEnd::Left
            }
            other => other,
        };
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

/// Why a response's tool calls cannot be acted on, if they cannot.
fn bad_tool_call(t: &Transcript) -> Option<String> {
    t.tool_calls.iter().enumerate().find_map(|(i, call)| {
        if call.name.is_empty() {
            return Some(format!("tool call {i} has no function name"));
        }
        let args = call.arguments.trim();
        let parsed = if args.is_empty() {
            Ok(serde_json::Value::Object(Default::default()))
        } else {
            serde_json::from_str::<serde_json::Value>(args)
        };
        match parsed {
            Ok(_) => None,
            Err(e) => {
                let shown: String = args.chars().take(60).collect();
                Some(format!(
                    "tool call {i} ({}) has arguments that are not JSON ({e}): {shown}",
                    call.name
                ))
            }
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backend::openai::OpenAiChat;

    fn content(s: &str) -> String {
        serde_json::json!({"choices":[{"delta":{"content": s}}]}).to_string()
    }

    #[test]
    fn builds_a_record_from_events() {
        let own = Some(TokenCount {
            count: 100,
            source: CountSource::Tokenizer,
        });
        let mut r = Recorder::new(7, 0, 10, own);
        r.headers(20);
        let b = OpenAiChat;
        assert!(r
            .event(30, br#"{"choices":[{"delta":{"role":"assistant"}}]}"#, &b)
            .is_none());
        assert!(r.event(40, content("你好").as_bytes(), &b).is_none());
        assert!(r.event(50, content(", world").as_bytes(), &b).is_none());
        let last = r#"{"choices":[{"delta":{},"finish_reason":"length"}]}"#;
        assert!(r.event(55, last.as_bytes(), &b).is_none());
        let usage = r#"{"choices":[],"usage":{"prompt_tokens":101,"completion_tokens":2}}"#;
        assert!(r.event(60, usage.as_bytes(), &b).is_none());
        assert!(r.event(61, b"[DONE]", &b).is_none());
        let rec = r.finish(70, StreamEnd::Complete);
        assert!(rec.is_ok());
        assert_eq!(
            (rec.headers_ns, rec.first_event_ns, rec.end_ns),
            (Some(20), Some(30), Some(70))
        );
        assert_eq!(rec.chunks.len(), 2);
        assert_eq!((rec.output_chars, rec.output_cjk_chars), (9, 2));
        assert_eq!(rec.output_tokens.unwrap().source, CountSource::ServerUsage);
        assert_eq!(rec.prompt_tokens.unwrap().count, 101);
    }

    #[test]
    fn falls_back_to_chunk_counts_and_own_prompt_count() {
        let own = Some(TokenCount {
            count: 100,
            source: CountSource::Tokenizer,
        });
        let mut r = Recorder::new(0, 0, 0, own);
        let b = OpenAiChat;
        r.event(1, content("a").as_bytes(), &b);
        r.event(
            2,
            br#"{"choices":[{"delta":{"reasoning_content":"hm"}}]}"#,
            &b,
        );
        r.event(3, b"[DONE]", &b);
        let rec = r.finish(4, StreamEnd::Complete);
        assert_eq!(
            rec.output_tokens,
            Some(TokenCount {
                count: 2,
                source: CountSource::ChunkCount
            })
        );
        assert_eq!(rec.reasoning_tokens, Some(1));
        assert_eq!(rec.prompt_tokens.unwrap().source, CountSource::Tokenizer);
    }

    #[test]
    fn a_tokenizer_counts_output_without_usage() {
        let (_dir, t) = crate::tokenizer::tests::char_tokenizer();
        let mut r = Recorder::new(0, 0, 0, None);
        r.count_output_with(&t);
        r.event(1, content("你好").as_bytes(), &OpenAiChat);
        r.event(2, content("世界!").as_bytes(), &OpenAiChat);
        r.event(3, b"[DONE]", &OpenAiChat);
        let rec = r.finish(4, StreamEnd::Complete);
        assert_eq!(
            rec.output_tokens,
            Some(TokenCount {
                count: 5,
                source: CountSource::Tokenizer
            })
        );
    }

    #[test]
    fn tool_calls_are_recorded_and_kept() {
        let b = OpenAiChat;
        let mut r = Recorder::new(0, 0, 0, None);
        r.keep_transcript();
        let first = r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"call_1","function":{"name":"search","arguments":""}}]}}]}"#;
        let piece = |a: &str| {
            serde_json::json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":a}}]}}]})
                .to_string()
        };
        r.event(5, first.as_bytes(), &b);
        r.event(7, piece("{\"q\":").as_bytes(), &b);
        r.event(9, piece("\"天气\"}").as_bytes(), &b);
        r.event(
            10,
            br#"{"choices":[{"delta":{},"finish_reason":"tool_calls"}]}"#,
            &b,
        );
        r.event(11, b"[DONE]", &b);
        let (rec, t) = r.finish_with_transcript(12, StreamEnd::Complete);
        assert!(rec.is_ok(), "{:?}", rec.error);
        assert_eq!(rec.tool_calls, 1);
        assert_eq!(rec.first_tool_ns(), Some(5));
        assert_eq!(rec.first_token_ns(), Some(5));
        // "search" (6) + "{\"q\":" (5) + "\"天气\"}" (5)
        assert_eq!(rec.tool_chars(), 16);
        assert_eq!(rec.output_tokens.unwrap().count, 3);
        let t = t.unwrap();
        assert_eq!(t.tool_calls.len(), 1);
        assert_eq!(t.tool_calls[0].id, "call_1");
        assert_eq!(t.tool_calls[0].arguments, "{\"q\":\"天气\"}");
    }

    #[test]
    fn broken_tool_arguments_are_a_named_error() {
        let b = OpenAiChat;
        let mut r = Recorder::new(0, 0, 0, None);
        r.keep_transcript();
        r.event(
            1,
            br#"{"choices":[{"delta":{"tool_calls":[{"index":0,"id":"c","function":{"name":"f","arguments":"{\"a\":"}}]}}]}"#,
            &b,
        );
        r.event(2, b"[DONE]", &b);
        let (rec, _) = r.finish_with_transcript(3, StreamEnd::Complete);
        let e = rec.error.unwrap();
        assert_eq!(e.kind, ErrorKind::BadToolCall);
        assert!(e.message.contains("not JSON"), "{}", e.message);
    }

    #[test]
    fn transcripts_are_bounded() {
        let mut t = Transcript::default();
        let big = "x".repeat(Transcript::LIMIT / 2 + 1);
        t.push(&big, |t| &mut t.answer);
        t.push(&big, |t| &mut t.answer);
        assert!(t.truncated);
        assert!(t.answer.len() <= Transcript::LIMIT);
        // Calls are kept in order of arrival whatever the API numbers
        // them, and at most MAX_CALLS of them.
        let mut t = Transcript::default();
        for index in (0..=Transcript::MAX_CALLS as u32).map(|i| u32::MAX - i) {
            t.tool_delta(&crate::backend::ToolCallDelta {
                index,
                name: Some(index.to_string().into()),
                ..Default::default()
            });
        }
        assert_eq!(t.tool_calls.len(), Transcript::MAX_CALLS);
        assert_eq!(t.tool_calls[0].name, u32::MAX.to_string());
        assert!(t.truncated);
    }

    #[test]
    fn a_stream_without_end_is_cut() {
        let mut r = Recorder::new(0, 0, 0, None);
        r.event(1, content("a").as_bytes(), &OpenAiChat);
        let rec = r.finish(2, StreamEnd::Complete);
        assert_eq!(rec.error.unwrap().kind, ErrorKind::StreamCut);
    }

    #[test]
    fn malformed_and_error_events_end_the_request() {
        let mut r = Recorder::new(0, 0, 0, None);
        let end = r.event(1, b"{not json", &OpenAiChat).unwrap();
        assert!(matches!(
            end,
            StreamEnd::Failed(ErrorKind::MalformedEvent, None, _)
        ));
        let end = r
            .event(1, br#"{"error":{"message":"boom"}}"#, &OpenAiChat)
            .unwrap();
        assert_eq!(
            end,
            StreamEnd::Failed(ErrorKind::ServerError, None, "boom".into())
        );
    }
}
