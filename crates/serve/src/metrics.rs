//! Prometheus counters for `/metrics`: requests by status, tokens, and the
//! engine's own time split (queue, prompt, decode), so a client can
//! decompose its TTFT with the server's figures.

use crate::generate::Finished;
use std::sync::atomic::{AtomicU64, Ordering};
use tokenpace_wire::prom::{self, StatusCounts};

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    by_status: StatusCounts,
    prompt_tokens: AtomicU64,
    generated_tokens: AtomicU64,
    finished: AtomicU64,
    /// Microseconds, summed.
    queue_us: AtomicU64,
    prompt_us: AtomicU64,
    decode_us: AtomicU64,
}

impl Metrics {
    /// Counts a response with `status`.
    pub fn request(&self, status: u16) {
        self.by_status.add(status);
    }

    /// Adds a finished generation.
    pub fn finished(&self, f: &Finished) {
        let us = |ms: f64| (ms * 1e3).max(0.0) as u64;
        self.finished.fetch_add(1, Ordering::Relaxed);
        self.prompt_tokens
            .fetch_add(u64::from(f.prompt_tokens), Ordering::Relaxed);
        self.generated_tokens
            .fetch_add(u64::from(f.completion_tokens), Ordering::Relaxed);
        self.queue_us.fetch_add(us(f.queue_ms), Ordering::Relaxed);
        self.prompt_us.fetch_add(us(f.prompt_ms), Ordering::Relaxed);
        self.decode_us
            .fetch_add(us(f.predicted_ms), Ordering::Relaxed);
    }

    /// The exposition text.
    pub fn render(&self, running: usize, waiting: usize) -> String {
        let mut o = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let secs = |a: &AtomicU64| get(a) as f64 / 1e6;
        self.by_status.render(
            &mut o,
            "tokenpace_requests_total",
            "Responses, by HTTP status.",
        );
        let gauges = [
            (
                "tokenpace_requests_running",
                "Generations running.",
                running,
            ),
            (
                "tokenpace_requests_waiting",
                "Generations waiting for a slot.",
                waiting,
            ),
        ];
        for (name, help, v) in gauges {
            prom::gauge(&mut o, name, help, v);
        }
        let counts = [
            (
                "tokenpace_generations_finished_total",
                "Generations finished.",
                &self.finished,
            ),
            (
                "tokenpace_prompt_tokens_total",
                "Prompt tokens processed.",
                &self.prompt_tokens,
            ),
            (
                "tokenpace_generation_tokens_total",
                "Tokens generated.",
                &self.generated_tokens,
            ),
        ];
        for (name, help, v) in counts {
            prom::counter(&mut o, name, help, get(v));
        }
        let times = [
            (
                "tokenpace_queue_seconds_total",
                "Time generations waited for a slot.",
                &self.queue_us,
            ),
            (
                "tokenpace_prompt_seconds_total",
                "Time from a prompt entering the engine to its first token.",
                &self.prompt_us,
            ),
            (
                "tokenpace_decode_seconds_total",
                "Time from first to last generated token.",
                &self.decode_us,
            ),
        ];
        for (name, help, v) in times {
            prom::counter(&mut o, name, help, secs(v));
        }
        o
    }
}
