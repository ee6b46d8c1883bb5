//! One running request: where it is in its prompt and answer, how it
//! samples, and what it has sent back.

use crate::utf8::Utf8Buffer;
use llama_cpp_2::sampling::LlamaSampler;
use llama_cpp_2::token::LlamaToken;
use std::time::Instant;
use tokenpace_serve::{FinishReason, Finished, GenEvent, GenerationRequest, Sampling};
use tokio::sync::mpsc::UnboundedSender;

/// A request waiting for a slot.
pub struct Job {
    /// The prompt, tokenized.
    pub tokens: Vec<LlamaToken>,
    /// The request.
    pub request: GenerationRequest,
    /// Where its events go.
    pub events: UnboundedSender<GenEvent>,
    /// When it was submitted.
    pub queued: Instant,
}

/// A request in a slot (its KV-cache sequence).
pub struct Active {
    pub job: Job,
    /// Prompt tokens whose KV is in the cache (reused or decoded).
    pub fed: usize,
    /// Prompt tokens whose KV was reused from the slot's last request;
    /// `None` without a prefix cache.
    cached: Option<u32>,
    /// The sampled token not yet decoded (the next input).
    pub pending: Option<LlamaToken>,
    /// Tokens generated.
    pub generated: u32,
    pub sampler: LlamaSampler,
    utf8: Utf8Buffer,
    /// The answer so far, kept only when stop strings must be matched.
    text: String,
    admitted: Instant,
    first_token: Option<Instant>,
}

/// What happened after a token was sampled.
pub enum Step {
    Continue,
    Finished(FinishReason),
}

impl Active {
    /// A request starting with `cached` prompt tokens already in its
    /// sequence's KV (`prefix_cache` says whether reuse is on at all).
    pub fn new(job: Job, cached: usize, prefix_cache: bool) -> Active {
        let sampler = sampler(job.request.sampling);
        Active {
            job,
            fed: cached,
            cached: prefix_cache.then(|| u32::try_from(cached).unwrap_or(u32::MAX)),
            pending: None,
            generated: 0,
            sampler,
            utf8: Utf8Buffer::default(),
            text: String::new(),
            admitted: Instant::now(),
            first_token: None,
        }
    }

    /// The next position in the sequence.
    pub fn position(&self) -> usize {
        self.fed + self.generated as usize - usize::from(self.pending.is_some())
    }

    pub fn prompt_left(&self) -> usize {
        self.job.tokens.len() - self.fed
    }

    /// The client went away.
    pub fn cancelled(&self) -> bool {
        self.job.events.is_closed()
    }

    /// Takes a freshly sampled token: sends its text and decides whether
    /// the request ends. `is_eog` says whether it ends generation;
    /// `room` whether the context has space for one more token.
    pub fn accept(&mut self, token: LlamaToken, piece: &[u8], is_eog: bool, room: bool) -> Step {
        let now = Instant::now();
        self.first_token.get_or_insert(now);
        self.generated += 1;
        let request = &self.job.request;
        if is_eog && !request.ignore_eos {
            // The end-of-generation token is counted (as llama.cpp does)
            // but has no text.
            return Step::Finished(FinishReason::Stop);
        }
        let text = self.utf8.push(piece);
        let stopped = !request.stop.is_empty() && {
            self.text.push_str(&text);
            request
                .stop
                .iter()
                .any(|s| !s.is_empty() && self.text.ends_with(s.as_str()))
        };
        let _ = self.job.events.send(GenEvent::Token(text));
        if stopped {
            return Step::Finished(FinishReason::Stop);
        }
        if self.generated >= request.max_tokens || !room {
            return Step::Finished(FinishReason::Length);
        }
        self.pending = Some(token);
        Step::Continue
    }

    /// Sends the end of the request.
    pub fn finish(mut self, reason: FinishReason) {
        let rest = self.utf8.finish();
        if !rest.is_empty() {
            let _ = self.job.events.send(GenEvent::Token(rest));
        }
        let end = Instant::now();
        let first = self.first_token.unwrap_or(end);
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1e3;
        let _ = self.job.events.send(GenEvent::Done(Finished {
            reason,
            prompt_tokens: u32::try_from(self.job.tokens.len()).unwrap_or(u32::MAX),
            cached_tokens: self.cached,
            completion_tokens: self.generated,
            queue_ms: ms(self.admitted - self.job.queued),
            prompt_ms: ms(first - self.admitted),
            predicted_ms: ms(end - first),
        }));
    }

    pub fn fail(self, message: String) {
        let _ = self.job.events.send(GenEvent::Failed(message));
    }
}

/// Greedy at temperature 0; else top-p, temperature, then a seeded draw
/// (llama.cpp's usual order).
fn sampler(s: Sampling) -> LlamaSampler {
    if s.temperature <= 0.0 {
        return LlamaSampler::greedy();
    }
    let mut chain = Vec::new();
    if s.top_p < 1.0 {
        chain.push(LlamaSampler::top_p(s.top_p, 1));
    }
    chain.push(LlamaSampler::temp(s.temperature));
    chain.push(LlamaSampler::dist(s.seed));
    LlamaSampler::chain_simple(chain)
}
