//! Writing a completion on the model's schedule, with the chosen faults,
//! and recording every write in the ground truth.

use std::borrow::Cow;
use std::time::{Duration, Instant};

use tokenpace_core::text::CharCount;
use tokenpace_corpus::SplitMix64;

use tokenpace_wire::http::{self, Conn, Framing, HttpRequest, LAST_CHUNK};
use tokenpace_wire::native::NativeEnd;
use tokenpace_wire::server::shutdown_signal;
use tokenpace_wire::{Endpoint, Events, Next, Output, Usage};

use crate::faults::{split_points, FaultKind, FaultRecord, FaultSet};
use crate::generate::Generation;
use crate::request::GenRequest;
use crate::server::Sim;
use crate::truth::{ChunkTruth, RequestTruth};

use super::tools::ToolPlan;

/// Size the `long_event` fault pads an event to.
const LONG_EVENT_BYTES: usize = 64 * 1024;

mod whole;

/// How a response ended, when not normally.
enum Stop {
    ClientGone,
    Shutdown,
}

/// One response being written.
pub(super) struct Reply<'a> {
    sim: &'a Sim,
    conn: &'a mut Conn,
    truth: RequestTruth,
    faults: FaultSet,
    rng: SplitMix64,
    events: Events,
    received: Instant,
    /// When the request entered the batch.
    admitted: Option<Instant>,
    keep_alive: bool,
    /// Chunked transfer encoding (false for HTTP/1.0 clients).
    chunked: bool,
    /// The prompt's prefix-cache blocks, cached once it is prefilled.
    blocks: Vec<u64>,
    /// The answer is this tool call rather than text.
    tool: Option<ToolPlan>,
}

impl<'a> Reply<'a> {
    #[allow(clippy::too_many_arguments)]
    pub(super) fn new(
        sim: &'a Sim,
        conn: &'a mut Conn,
        truth: RequestTruth,
        faults: FaultSet,
        rng: SplitMix64,
        events: Events,
        received: Instant,
        req: &HttpRequest,
    ) -> Self {
        Reply {
            sim,
            conn,
            truth,
            faults,
            rng,
            events,
            received,
            admitted: None,
            keep_alive: req.keep_alive,
            chunked: !req.http10,
            blocks: Vec::new(),
            tool: None,
        }
    }

    /// The prompt's prefix-cache blocks (see [`crate::prefix_cache`]).
    pub(super) fn with_blocks(mut self, blocks: Vec<u64>) -> Self {
        self.blocks = blocks;
        self
    }

    /// Answers with `call` instead of text.
    pub(super) fn with_tool(mut self, call: Option<ToolPlan>) -> Self {
        if let Some(call) = &call {
            self.truth.tool_call = Some(call.truth());
            if call.bad_args {
                let detail = "arguments left without their closing brace".into();
                self.fault(FaultKind::BadToolArgs, Some(detail));
            }
        }
        self.tool = call;
        self
    }

    /// The prompt is prefilled: its blocks join the prefix cache.
    fn prefilled(&mut self) {
        let blocks = std::mem::take(&mut self.blocks);
        self.sim.prefix_cache.insert(&blocks);
    }

    /// Usage, with the cached prompt tokens when the cache is on.
    fn usage(&self, prompt: u64, completion: u64) -> Usage {
        let usage = Usage::new(prompt, completion);
        match self.truth.cached_tokens {
            Some(cached) => usage.with_cached(cached),
            None => usage,
        }
    }

    fn finish_reason(&self, generation: &Generation) -> &'static str {
        if self.tool.is_some() {
            "tool_calls"
        } else {
            generation.finish_reason
        }
    }

    fn now_ns(&self) -> u64 {
        self.sim.ns(Instant::now())
    }

    /// Records that `kind` took effect now.
    fn fault(&mut self, kind: FaultKind, detail: Option<String>) {
        let at_ns = self.now_ns();
        self.truth.faults.push(FaultRecord {
            kind,
            at_ns,
            detail,
        });
        self.sim.metrics.fault(kind);
    }

    fn has(&self, kind: FaultKind) -> bool {
        self.faults.has(kind)
    }

    /// Waits until `at` on the precise timer, or returns false on shutdown.
    async fn wait(&self, at: Instant) -> bool {
        tokio::select! {
            _ = self.sim.timer.sleep_until(at) => true,
            _ = shutdown_signal(self.sim.shutdown.clone()) => false,
        }
    }

    /// Writes `data` (SSE text or a body), as HTTP chunks when `chunked`,
    /// in pieces when the `split` fault is on, and records the write.
    async fn send(
        &mut self,
        kind: &str,
        data: &[u8],
        chunked: bool,
        deadline: Option<Instant>,
        text: &str,
        tokens: u32,
    ) -> Result<(), Stop> {
        let frame = |piece: &[u8]| -> Vec<u8> {
            if chunked {
                http::chunk(piece)
            } else {
                piece.to_vec()
            }
        };
        let mut writes = 0;
        if self.has(FaultKind::Split) && data.len() >= 2 {
            let cuts = split_points(data, &mut self.rng);
            let gap = Duration::from_micros(self.sim.config.faults.split_gap_us);
            let mut from = 0;
            for (i, &to) in cuts.iter().chain(std::iter::once(&data.len())).enumerate() {
                if i > 0 && !gap.is_zero() {
                    self.sim.timer.sleep_until(Instant::now() + gap).await;
                }
                writes += self
                    .conn
                    .write(&frame(&data[from..to]))
                    .await
                    .map_err(|_| Stop::ClientGone)?;
                from = to;
            }
            if !self.truth.faults.iter().any(|f| f.kind == FaultKind::Split) {
                self.fault(
                    FaultKind::Split,
                    Some(format!("first event cut at bytes {cuts:?}")),
                );
            }
        } else {
            writes = self
                .conn
                .write(&frame(data))
                .await
                .map_err(|_| Stop::ClientGone)?;
        }
        let written_ns = self.now_ns();
        let count = CharCount::of(text);
        if let Some(call) = self
            .truth
            .tool_call
            .as_mut()
            .filter(|_| kind == "tool_call")
        {
            call.first_chunk_ns.get_or_insert(written_ns);
            call.argument_chars += u64::from(count.chars);
        }
        self.truth.chunks.push(ChunkTruth {
            kind: kind.into(),
            deadline_ns: deadline.map(|d| self.sim.ns(d)),
            written_ns,
            bytes: data.len(),
            tokens,
            chars: count.chars,
            cjk: count.cjk,
            writes,
        });
        Ok(())
    }

    /// Writes the response head (trickled under `slow_loris`).
    async fn head(
        &mut self,
        framing: Framing,
        content_type: &str,
        extra: &str,
    ) -> Result<(), Stop> {
        if self.has(FaultKind::SlowLoris) {
            let gap = Duration::from_secs_f64(self.sim.config.faults.trickle_ms / 1000.0);
            self.conn
                .set_trickle(Some((gap, std::sync::Arc::new(self.sim.timer.clone()))));
            self.fault(
                FaultKind::SlowLoris,
                Some(format!(
                    "{} ms between bytes",
                    self.sim.config.faults.trickle_ms
                )),
            );
        }
        // A response that will end by closing the connection says so in its
        // head, as real servers do; otherwise a client may reuse the
        // connection for its next request and lose it in the race.
        let closes = self.has(FaultKind::Truncate) || self.has(FaultKind::Reset);
        let head = http::head(
            200,
            content_type,
            framing,
            self.keep_alive && !closes,
            extra,
        );
        self.conn.write(&head).await.map_err(|_| Stop::ClientGone)?;
        self.truth.headers_ns = Some(self.now_ns());
        Ok(())
    }

    /// Queues for a batch slot, then returns the token schedule.
    async fn admit(
        &mut self,
        prompt_tokens: u64,
    ) -> Result<(crate::batch::Admission, crate::timing::Schedule), Stop> {
        self.truth.queued_ns = Some(self.now_ns());
        let admission = tokio::select! {
            a = self.sim.batcher.admit() => a,
            _ = shutdown_signal(self.sim.shutdown.clone()) => return Err(Stop::Shutdown),
        };
        let admitted = Instant::now();
        self.admitted = Some(admitted);
        self.sim.metrics.queue(admitted - self.received);
        self.truth.admitted_ns = Some(self.sim.ns(admitted));
        self.truth.batch_at_admission = Some(admission.batch_at_admission);
        // Looked up at admission: blocks another request is still
        // prefilling are not cached yet.
        let cached = self.sim.prefix_cache.lookup(&self.blocks, prompt_tokens);
        if self.sim.prefix_cache.enabled() {
            self.truth.cached_tokens = Some(cached);
            self.sim.metrics.prefix_cache(prompt_tokens, cached);
        }
        let mut ttft = self
            .sim
            .model
            .ttft(prompt_tokens.saturating_sub(cached), &mut self.rng);
        if self.has(FaultKind::StallFirst) {
            let stall = self.stall();
            ttft += stall;
            self.fault(
                FaultKind::StallFirst,
                Some(format!("{} ms", stall.as_secs_f64() * 1e3)),
            );
        }
        let jitter_rng = SplitMix64::new(self.rng.next_u64());
        Ok((
            admission,
            self.sim.model.schedule(admitted + ttft, jitter_rng),
        ))
    }

    fn stall(&self) -> Duration {
        Duration::from_secs_f64(self.sim.config.faults.stall_ms / 1000.0)
    }

    /// Streams the generation as SSE on the model's schedule.
    pub(super) async fn stream(mut self, req: &GenRequest, generation: &Generation) -> Next {
        let result = self.stream_inner(req, generation).await;
        self.finish(result, req.prompt_tokens)
    }

    async fn stream_inner(
        &mut self,
        req: &GenRequest,
        generation: &Generation,
    ) -> Result<Next, Stop> {
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
        let (admission, mut schedule) = self.admit(req.prompt_tokens).await?;
        // Anthropic's and the Responses API's opening events, once the
        // request is admitted (its cached prompt tokens known): no token.
        if let Some(start) = self.events.start(self.usage(req.prompt_tokens, 0)) {
            self.send("start", &start, self.chunked, None, "", 0)
                .await?;
        }
        let per_chunk = self.sim.config.timing.tokens_per_chunk;
        let groups: Vec<&[Cow<'static, str>]> = generation.tokens.chunks(per_chunk).collect();
        let (mid, n) = (groups.len() / 2, groups.len());
        for (i, group) in groups.iter().enumerate() {
            if i == mid {
                if let Some(next) = self.mid_stream_faults(&mut schedule).await? {
                    drop(admission);
                    return Ok(next);
                }
            }
            let batch = self.sim.batcher.active();
            let mut deadline = Instant::now();
            for _ in group.iter() {
                deadline = schedule.next(batch);
            }
            if !self.wait(deadline).await {
                return Err(Stop::Shutdown);
            }
            if i == 0 {
                self.prefilled();
            }
            let text = group.concat();
            let pad = (i == mid && self.has(FaultKind::LongEvent) && self.tool.is_none())
                .then_some(LONG_EVENT_BYTES);
            if pad.is_some() {
                self.fault(
                    FaultKind::LongEvent,
                    Some(format!("padded to {LONG_EVENT_BYTES} bytes")),
                );
            }
            let (kind, event, shown) = match &self.tool {
                Some(call) => {
                    let (event, piece) = call.chunk(&self.events, &text, i == 0, i + 1 == n);
                    ("tool_call", event, piece)
                }
                None => ("content", self.events.content(&text, i == 0, pad), text),
            };
            let tokens = group.len() as u32;
            self.send(kind, &event, self.chunked, Some(deadline), &shown, tokens)
                .await?;
            if i == 0 {
                let now = Instant::now();
                self.sim.metrics.ttft(now - self.received);
                if let Some(admitted) = self.admitted {
                    self.sim.metrics.prefill(now - admitted);
                }
            }
            self.truth.completion_tokens += group.len() as u64;
        }
        if groups.is_empty() {
            // Nothing to say, but the prompt still had to be read.
            let first = schedule.next(self.sim.batcher.active());
            if !self.wait(first).await {
                return Err(Stop::Shutdown);
            }
            self.prefilled();
            // A tool call is still made, with empty text in its arguments.
            if let Some((event, piece)) = self
                .tool
                .as_ref()
                .map(|c| c.chunk(&self.events, "", true, true))
            {
                self.send("tool_call", &event, self.chunked, Some(first), &piece, 0)
                    .await?;
            }
        }
        drop(admission);
        let end = if self.events.endpoint().is_native() {
            self.native_end(req, generation)
        } else if self.events.endpoint().typed_events() {
            self.typed_end(req, generation)
        } else {
            let usage = req
                .api
                .include_usage
                .then(|| self.usage(req.prompt_tokens, self.truth.completion_tokens));
            self.events.finish(self.finish_reason(generation), usage)
        };
        self.send("finish", &end, self.chunked, None, "", 0).await?;
        self.truth.finish_reason = Some(self.finish_reason(generation).into());
        self.truth.outcome = "ok".into();
        self.end_body().await
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
                let output = Output::ToolCall {
                    id: &call.id,
                    name: &call.name,
                    arguments: &arguments,
                };
                self.events.finish_output(reason, usage, output)
            }
            None => {
                let text = generation.tokens.concat();
                self.events
                    .finish_output(reason, usage, Output::Text(&text))
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
        Ok(None)
    }

    /// Records the request and tells the connection what to do next.
    fn finish(mut self, result: Result<Next, Stop>, prompt_tokens: u64) -> Next {
        let next = match result {
            Ok(next) => next,
            Err(Stop::ClientGone) => {
                self.truth.outcome = "client_gone".into();
                Next::Close
            }
            Err(Stop::Shutdown) => {
                self.truth.outcome = "shutdown".into();
                Next::Close
            }
        };
        self.conn.set_trickle(None);
        // 0: no response head was sent (e.g. reset before a whole body).
        self.truth.status = if self.truth.headers_ns.is_some() {
            200
        } else {
            0
        };
        self.truth.end_ns = self.now_ns();
        if self.truth.status != 0 {
            self.sim.metrics.request(self.truth.status);
        }
        self.sim
            .metrics
            .tokens(prompt_tokens, self.truth.completion_tokens);
        if let Some(log) = &self.sim.truth {
            log.record(std::mem::take(&mut self.truth));
        }
        next
    }
}
