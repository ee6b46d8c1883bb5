//! A streamed answer: each chunk at its last token's deadline, the tokens
//! a tool call generates after its last delta, then the closing events.

use std::ops::Range;
use std::time::Instant;

use tokenpace_wire::http::{Framing, LAST_CHUNK};
use tokenpace_wire::native::NativeEnd;
use tokenpace_wire::sse::{ChunkExtras, StreamTail};
use tokenpace_wire::{ApiError, Endpoint, Next, OutputItem};

use crate::faults::FaultKind;
use crate::generate::Generation;
use crate::request::GenRequest;
use crate::timing::Schedule;

use super::{Reply, Stop, LONG_EVENT_BYTES};

impl Reply<'_> {
    /// Streams the generation as SSE on the model's schedule.
    pub(crate) async fn stream(mut self, req: &GenRequest, generation: &Generation) -> Next {
        let result = self.stream_inner(req, generation).await;
        self.truth.generation_end_ns = self.generation_end.map(|t| self.sim.ns(t));
        self.finish(result, req.prompt_tokens)
    }

    async fn stream_inner(
        &mut self,
        req: &GenRequest,
        generation: &Generation,
    ) -> Result<Next, Stop> {
        self.open_stream().await?;
        let (admission, mut schedule) = self.admit(req.prompt_tokens).await?;
        // Anthropic's and the Responses API's opening events, once the
        // request is admitted (its cached prompt tokens known): no token.
        if let Some(start) = self.events.start(self.usage(req.prompt_tokens, 0)) {
            self.send("start", &start, self.chunked, None, "", 0)
                .await?;
        }
        let generated = generation.tokens.len();
        let shown = self.tool.as_ref().map_or(generated, |c| c.shown(generated));
        if let Some(call) = self.truth.tool_call.as_mut() {
            call.delta_tokens = shown as u64;
        }
        let per_chunk = self.sim.config.timing.tokens_per_chunk;
        // A dialect that reasons spends the first half of a text answer's
        // tokens on reasoning, in chunks of their own.
        let reasoning = match self.tool.is_none() && self.events.reasons() {
            true => shown / 2,
            false => 0,
        };
        let thought = (reasoning > 0).then(|| generation.tokens[..reasoning].concat());
        self.events = self.events.clone().with_reasoning(thought);
        let groups = split_at(generation.chunks(shown, per_chunk), reasoning);
        if let Some(next) = self
            .stream_chunks(req, generation, (&groups, reasoning), &mut schedule)
            .await?
        {
            drop(admission);
            return Ok(next);
        }
        if groups.is_empty() {
            self.nothing_to_say(req, generation, &mut schedule).await?;
        }
        self.generate_after_deltas(generated - shown, &mut schedule)
            .await?;
        drop(admission);
        let end = self.end_events(req, generation);
        // After a tool call's last delta the finish is due with the last
        // token generated.
        let due = self.generation_end.filter(|_| shown < generated);
        self.send("finish", &end, self.chunked, due, "", 0).await?;
        self.truth.finish_reason = Some(self.finish_reason(generation).into());
        self.truth.outcome = "ok".into();
        self.end_body().await
    }

    /// The response head, and the faults that strike before admission.
    async fn open_stream(&mut self) -> Result<(), Stop> {
        let framing = if self.chunked {
            Framing::Chunked
        } else {
            Framing::UntilClose
        };
        let content_type = match self.events.endpoint() {
            Endpoint::OllamaGenerate | Endpoint::OllamaChat => "application/x-ndjson",
            _ => "text/event-stream; charset=utf-8",
        };
        self.head(framing, content_type, "Cache-Control: no-cache\r\n")
            .await?;
        if self.has(FaultKind::Crlf) {
            self.fault(FaultKind::Crlf, Some("SSE lines end with CRLF".into()));
        }
        if self.has(FaultKind::KeepAlive) {
            self.fault(FaultKind::KeepAlive, Some("before the first token".into()));
            let comment = self.events.keep_alive();
            self.send("keep_alive", &comment, self.chunked, None, "", 0)
                .await?;
        }
        self.dialect_comment().await
    }

    /// The dialect's comment line, if it has one (OpenRouter's).
    async fn dialect_comment(&mut self) -> Result<(), Stop> {
        match self.events.comment() {
            Some(line) => self.send("comment", &line, self.chunked, None, "", 0).await,
            None => Ok(()),
        }
    }

    /// Writes each chunk of tokens at its last token's deadline; `Some`
    /// when a fault ended the stream.
    async fn stream_chunks(
        &mut self,
        req: &GenRequest,
        generation: &Generation,
        (groups, reasoning): (&[Range<usize>], usize),
        schedule: &mut Schedule,
    ) -> Result<Option<Next>, Stop> {
        // A text answer's finish may ride on its last chunk (a dialect's),
        // and its usage with it (Gemini's).
        let carry = self.tool.is_none() && self.events.finishes_on_last_chunk();
        let usage_on_last = carry && req.api.include_usage && self.usage_on_last_chunk();
        let reason = self.finish_reason(generation);
        let (mid, n) = (groups.len() / 2, groups.len());
        for (i, range) in groups.iter().enumerate() {
            if i == mid {
                if let Some(next) = self.mid_stream_faults(schedule).await? {
                    return Ok(Some(next));
                }
            }
            let batch = self.sim.batcher.active();
            let mut deadline = Instant::now();
            for _ in range.clone() {
                deadline = schedule.next(batch);
            }
            if !self.wait(deadline).await {
                return Err(Stop::Shutdown);
            }
            self.generation_end = Some(deadline);
            if i == 0 {
                self.prefilled();
            }
            let pad = (i == mid && self.has(FaultKind::LongEvent) && self.tool.is_none())
                .then_some(LONG_EVENT_BYTES);
            if pad.is_some() {
                self.fault(
                    FaultKind::LongEvent,
                    Some(format!("padded to {LONG_EVENT_BYTES} bytes")),
                );
            }
            let tokens = range.len() as u64;
            let last = i + 1 == n;
            let so_far = self.truth.completion_tokens + tokens;
            let thinking = range.end <= reasoning;
            if thinking {
                self.truth.reasoning_tokens += tokens;
            }
            let chunk = ChunkExtras {
                // The first of its kind: reasoning's, then the answer's.
                first: range.start == 0 || range.start == reasoning,
                finish_reason: (carry && last).then_some(reason),
                usage: (req.api.continuous_usage || (usage_on_last && last))
                    .then(|| self.usage(req.prompt_tokens, so_far)),
                last_event: carry && last && (!req.api.include_usage || usage_on_last),
                pad_to: pad,
            };
            let text = generation.tokens[range.clone()].concat();
            self.send_chunk(&text, (last, thinking), &chunk, deadline, tokens as u32)
                .await?;
            if i == 0 {
                let now = Instant::now();
                self.sim.metrics.ttft(now - self.received);
                if let Some(admitted) = self.admitted {
                    self.sim.metrics.prefill(now - admitted);
                }
            }
            self.truth.completion_tokens = so_far;
        }
        Ok(None)
    }

    /// One chunk of text, of reasoning (`thinking`) or of a tool call's
    /// arguments (`last`: the call's last).
    async fn send_chunk(
        &mut self,
        text: &str,
        (last, thinking): (bool, bool),
        chunk: &ChunkExtras<'_>,
        deadline: Instant,
        tokens: u32,
    ) -> Result<(), Stop> {
        let (kind, event, shown) = match &self.tool {
            _ if thinking => (
                "reasoning",
                self.events.reasoning_chunk(text, chunk),
                text.to_owned(),
            ),
            Some(call) => {
                let (event, piece) = call.chunk(&self.events, text, last, chunk);
                ("tool_call", event, piece)
            }
            None => (
                "content",
                self.events.text_chunk(text, chunk),
                text.to_owned(),
            ),
        };
        self.send(kind, &event, self.chunked, Some(deadline), &shown, tokens)
            .await
    }

    /// An answer without a token: the prompt still had to be read; a tool
    /// call is still made (with empty text in its arguments), and a
    /// dialect that finishes on the last chunk sends an empty one.
    async fn nothing_to_say(
        &mut self,
        req: &GenRequest,
        generation: &Generation,
        schedule: &mut Schedule,
    ) -> Result<(), Stop> {
        let first = schedule.next(self.sim.batcher.active());
        if !self.wait(first).await {
            return Err(Stop::Shutdown);
        }
        self.prefilled();
        let chunk = ChunkExtras {
            first: true,
            usage: (req.api.continuous_usage).then(|| self.usage(req.prompt_tokens, 0)),
            ..ChunkExtras::default()
        };
        if self.tool.is_some() {
            return self.send_chunk("", (true, false), &chunk, first, 0).await;
        }
        if self.events.finishes_on_last_chunk() {
            let with_usage = req.api.include_usage && self.usage_on_last_chunk();
            let chunk = ChunkExtras {
                finish_reason: Some(self.finish_reason(generation)),
                usage: match with_usage {
                    true => Some(self.usage(req.prompt_tokens, 0)),
                    false => chunk.usage,
                },
                last_event: !req.api.include_usage || with_usage,
                ..chunk
            };
            return self.send_chunk("", (true, false), &chunk, first, 0).await;
        }
        Ok(())
    }

    /// The tokens a tool call generates after its last delta
    /// (`tools.argument_tokens`): nothing is written, but they hold the
    /// batch slot and the finish waits for the last.
    async fn generate_after_deltas(
        &mut self,
        tokens: usize,
        schedule: &mut Schedule,
    ) -> Result<(), Stop> {
        for _ in 0..tokens {
            let deadline = schedule.next(self.sim.batcher.active());
            if !self.wait(deadline).await {
                return Err(Stop::Shutdown);
            }
            self.generation_end = Some(deadline);
            self.truth.completion_tokens += 1;
        }
        Ok(())
    }

    /// The closing events, in the endpoint's shape.
    fn end_events(&self, req: &GenRequest, generation: &Generation) -> Vec<u8> {
        let endpoint = self.events.endpoint();
        if endpoint.is_native() {
            return self.native_end(req, generation);
        }
        if endpoint.typed_events() {
            return self.typed_end(req, generation);
        }
        let n = self.truth.completion_tokens;
        let carried = self.tool.is_none() && self.events.finishes_on_last_chunk();
        // Usage rode on the last chunk, or is sent unasked (Groq's).
        let usage_carried = carried && self.usage_on_last_chunk();
        let usage = (req.api.include_usage && !usage_carried) || self.events.usage_unasked();
        self.events.stream_end(&StreamTail {
            finish_reason: (!carried).then(|| self.finish_reason(generation)),
            usage: usage.then(|| self.usage(req.prompt_tokens, n)),
            running: (req.api.continuous_usage).then(|| self.usage(req.prompt_tokens, n)),
        })
    }

    /// A native API's last event: counts, and timings from the truth.
    fn native_end(&self, req: &GenRequest, generation: &Generation) -> Vec<u8> {
        let mut writes = self.truth.chunks.iter().filter(|c| c.kind == "content");
        let first = writes.next().map_or(0, |c| c.written_ns);
        let last = writes.next_back().map_or(first, |c| c.written_ns);
        let n = self.truth.completion_tokens;
        let end = NativeEnd {
            finish_reason: generation.finish_reason,
            prompt_tokens: req.prompt_tokens,
            completion_tokens: n,
            // The whole prompt at the prefill rate, cache or not, so the
            // server-reported prefill rate is the model's.
            prompt_s: req.prompt_tokens as f64 / self.sim.config.timing.prefill,
            eval_s: NativeEnd::eval_s_from_writes(first, last, n),
        };
        self.events.native_end(&generation.tokens.concat(), &end)
    }

    /// The closing events of an API with typed events, which repeat the
    /// whole output.
    fn typed_end(&self, req: &GenRequest, generation: &Generation) -> Vec<u8> {
        let usage = self.usage(req.prompt_tokens, self.truth.completion_tokens);
        let reason = self.finish_reason(generation);
        match &self.tool {
            Some(call) => {
                let arguments = call.arguments(&generation.tokens);
                let output = OutputItem::ToolCall {
                    id: &call.id,
                    name: &call.name,
                    arguments: &arguments,
                };
                self.events.finish_output(reason, usage, output)
            }
            None => {
                let text = generation.tokens.concat();
                self.events
                    .finish_output(reason, usage, OutputItem::Text(&text))
            }
        }
    }

    /// Ends a streamed body: the last chunk, or closing for HTTP/1.0.
    async fn end_body(&mut self) -> Result<Next, Stop> {
        if !self.chunked {
            return Ok(Next::Close);
        }
        self.conn
            .write(LAST_CHUNK)
            .await
            .map_err(|_| Stop::ClientGone)?;
        Ok(Next::KeepAlive)
    }

    /// Faults that strike halfway through a stream; `Some` ends the stream.
    async fn mid_stream_faults(
        &mut self,
        schedule: &mut crate::timing::Schedule,
    ) -> Result<Option<Next>, Stop> {
        if self.has(FaultKind::StallMid) {
            let stall = self.stall();
            schedule.delay(stall);
            self.fault(
                FaultKind::StallMid,
                Some(format!("{} ms", stall.as_secs_f64() * 1e3)),
            );
        }
        if self.has(FaultKind::Reset) {
            self.fault(FaultKind::Reset, None);
            self.truth.outcome = "reset".into();
            return Ok(Some(Next::Reset));
        }
        if self.has(FaultKind::Truncate) {
            self.fault(
                FaultKind::Truncate,
                Some("body ended without finish or [DONE]".into()),
            );
            self.truth.outcome = "truncated".into();
            self.end_body().await?;
            return Ok(Some(Next::Close));
        }
        if self.has(FaultKind::MalformedJson) {
            self.fault(FaultKind::MalformedJson, None);
            let bad = self.events.malformed();
            self.send("malformed", &bad, self.chunked, None, "", 0)
                .await?;
        }
        if self.has(FaultKind::KeepAlive) {
            let comment = self.events.keep_alive();
            self.send("keep_alive", &comment, self.chunked, None, "", 0)
                .await?;
        }
        if self.has(FaultKind::Overloaded) {
            self.fault(FaultKind::Overloaded, None);
            let error = ApiError::new(529, "overloaded_error", "overloaded", "Overloaded");
            let event = self.events.error(&error);
            self.send("error", &event, self.chunked, None, "", 0)
                .await?;
            self.truth.outcome = "overloaded".into();
            return self.end_body().await.map(Some);
        }
        self.dialect_comment().await?;
        Ok(None)
    }

    /// Whether usage rides on the last token's chunk (Gemini's).
    fn usage_on_last_chunk(&self) -> bool {
        self.events.dialect().shape().usage_on_last_chunk
    }
}

/// `groups` with the one that spans token `at` cut in two there, so that
/// no chunk holds both reasoning and answer.
fn split_at(groups: Vec<Range<usize>>, at: usize) -> Vec<Range<usize>> {
    let mut out = Vec::with_capacity(groups.len() + 1);
    for g in groups {
        if g.start < at && at < g.end {
            out.push(g.start..at);
            out.push(at..g.end);
        } else {
            out.push(g);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn reasoning_and_answer_never_share_a_chunk() {
        let cut = super::split_at(vec![0..2, 2..4, 4..5], 3);
        assert_eq!(cut, [0..2, 2..3, 3..4, 4..5]);
        assert_eq!(super::split_at(vec![0..2, 2..4], 2), [0..2, 2..4]);
        let whole: Vec<_> = std::iter::once(0..2).collect();
        assert_eq!(super::split_at(whole.clone(), 0), whole);
    }
}
