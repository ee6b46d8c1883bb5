//! Writing a completion on the model's schedule, with the chosen faults,
//! and recording every write in the ground truth.

use std::time::{Duration, Instant};

use tokenpace_core::text::CharCount;
use tokenpace_corpus::SplitMix64;

use tokenpace_wire::http::{self, Conn, Framing, HttpRequest};
use tokenpace_wire::server::shutdown_signal;
use tokenpace_wire::{Events, Next, Usage};

use crate::faults::{split_points, FaultKind, FaultRecord, FaultSet};
use crate::generate::Generation;
use crate::server::Sim;
use crate::truth::{ChunkTruth, RequestTruth};

use super::tools::ToolPlan;

/// Size the `long_event` fault pads an event to.
const LONG_EVENT_BYTES: usize = 64 * 1024;

mod stream;
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
    /// The last generated token's deadline so far.
    generation_end: Option<Instant>,
    /// The asked model's decode speed, a factor of the timing model's.
    speed: f64,
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
            generation_end: None,
            speed: 1.0,
        }
    }

    /// Decodes at `speed` times the timing model's rate (the asked model's
    /// `model_speeds` factor).
    pub(super) fn with_speed(mut self, speed: f64) -> Self {
        self.speed = speed;
        self
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

    /// Usage, with the cached prompt tokens (and those written to the
    /// cache) when the cache is on.
    fn usage(&self, prompt: u64, completion: u64) -> Usage {
        let mut usage = Usage::new(prompt, completion);
        if self.truth.reasoning_tokens > 0 {
            usage = usage.with_reasoning(self.truth.reasoning_tokens);
        }
        match (self.truth.cached_tokens, self.truth.created_cache_tokens) {
            (Some(cached), Some(created)) => usage.with_cached(cached).with_created(created),
            (Some(cached), None) => usage.with_cached(cached),
            _ => usage,
        }
    }

    /// `tool_calls` for a tool call, unless generation went on after it
    /// until `max_tokens` cut it (`length`, as vLLM says).
    fn finish_reason(&self, generation: &Generation) -> &'static str {
        match &self.tool {
            Some(call) if call.trails(generation.tokens.len()) => match generation.finish_reason {
                "length" => "length",
                _ => "tool_calls",
            },
            Some(_) => "tool_calls",
            None => generation.finish_reason,
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
        let hit = self.sim.prefix_cache.hit(&self.blocks, prompt_tokens);
        let cached = hit.cached;
        if self.sim.prefix_cache.enabled() {
            self.truth.cached_tokens = Some(cached);
            self.truth.created_cache_tokens = Some(hit.created);
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
            self.sim
                .model
                .scaled(self.speed)
                .schedule(admitted + ttft, jitter_rng),
        ))
    }

    fn stall(&self) -> Duration {
        Duration::from_secs_f64(self.sim.config.faults.stall_ms / 1000.0)
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
        self.truth.token_chunks = self
            .truth
            .chunks
            .iter()
            .filter(|c| matches!(c.kind.as_str(), "content" | "tool_call" | "body"))
            .count() as u64;
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
