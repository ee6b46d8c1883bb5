//! A non-streamed answer: one JSON body once the whole generation is due.

use std::time::Instant;

use tokenpace_wire::http::Framing;
use tokenpace_wire::Next;

use crate::faults::FaultKind;
use crate::generate::Generation;
use crate::request::GenRequest;

use super::{Reply, Stop};

impl Reply<'_> {
    /// Answers with one JSON body once the whole generation is due.
    pub(crate) async fn whole(mut self, req: &GenRequest, generation: &Generation) -> Next {
        let result = self.whole_inner(req, generation).await;
        self.finish(result, req.prompt_tokens)
    }

    async fn whole_inner(
        &mut self,
        req: &GenRequest,
        generation: &Generation,
    ) -> Result<Next, Stop> {
        let (admission, mut schedule) = self.admit(req.prompt_tokens).await?;
        let n = generation.tokens.len();
        let mid = n / 2;
        let mut deadline = Instant::now();
        for i in 0..n.max(1) {
            if i == mid && n > 0 {
                if self.has(FaultKind::StallMid) {
                    schedule.delay(self.stall());
                    self.fault(FaultKind::StallMid, None);
                }
                if self.has(FaultKind::Reset) {
                    self.fault(FaultKind::Reset, None);
                    self.truth.outcome = "reset".into();
                    return Ok(Next::Reset);
                }
            }
            // Token by token, so batch changes apply as they happen.
            deadline = schedule.next(self.sim.batcher.active());
            if !self.wait(deadline).await {
                return Err(Stop::Shutdown);
            }
            if i == 0 {
                self.prefilled();
            }
        }
        drop(admission);
        let usage = self.usage(req.prompt_tokens, n as u64);
        let (text, mut body) = match &self.tool {
            Some(call) => {
                let args = call.arguments(&generation.tokens);
                let body = self
                    .events
                    .tool_call_body(&call.id, &call.name, &args, usage);
                (args, body)
            }
            None => {
                let text: String = generation.tokens.concat();
                let body = self.events.body(&text, generation.finish_reason, usage);
                (text, body)
            }
        };
        let full_len = body.len();
        if self.has(FaultKind::MalformedJson) {
            body.truncate(full_len / 2);
            self.fault(FaultKind::MalformedJson, Some("body cut in half".into()));
        }
        let truncate = self.has(FaultKind::Truncate);
        let length = if truncate { full_len } else { body.len() };
        self.head(Framing::Length(length), "application/json", "")
            .await?;
        if truncate {
            body.truncate(full_len / 2);
            self.fault(
                FaultKind::Truncate,
                Some(format!("sent {} of {full_len} bytes", body.len())),
            );
        }
        self.send("body", &body, false, Some(deadline), &text, n as u32)
            .await?;
        self.record_whole_call(&text, n);
        self.sim.metrics.ttft(Instant::now() - self.received);
        self.truth.completion_tokens = n as u64;
        if truncate {
            self.truth.outcome = "truncated".into();
            return Ok(Next::Close);
        }
        self.truth.finish_reason = Some(self.finish_reason(generation).into());
        self.truth.outcome = "ok".into();
        Ok(Next::KeepAlive)
    }

    /// A whole tool call's line in the truth: when it was written, its
    /// arguments' characters and the tokens they carry of `n` generated.
    fn record_whole_call(&mut self, arguments: &str, n: usize) {
        let written_ns = self.truth.chunks.last().map(|c| c.written_ns);
        let shown = self.tool.as_ref().map_or(n, |c| c.shown(n));
        if let Some(call) = self.truth.tool_call.as_mut() {
            call.first_chunk_ns = written_ns;
            call.argument_chars = arguments.chars().count() as u64;
            call.delta_tokens = shown as u64;
        }
    }
}
