//! Prometheus counters for `/metrics`: requests by status, tokens, and the
//! engine's own time split (queue, prompt, decode), so a client can
//! decompose its TTFT with the server's figures.

use crate::generate::Finished;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    by_status: Mutex<Vec<(u16, u64)>>,
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
        if let Ok(mut v) = self.by_status.lock() {
            match v.iter_mut().find(|(s, _)| *s == status) {
                Some((_, n)) => *n += 1,
                None => v.push((status, 1)),
            }
        }
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
        let mut out = String::new();
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let secs = |a: &AtomicU64| get(a) as f64 / 1e6;
        out.push_str("# TYPE tokenpace_requests_total counter\n");
        let mut statuses = self.by_status.lock().map(|v| v.clone()).unwrap_or_default();
        statuses.sort_unstable();
        for (status, n) in statuses {
            let _ = writeln!(out, "tokenpace_requests_total{{status=\"{status}\"}} {n}");
        }
        let _ = write!(
            out,
            "# TYPE tokenpace_requests_running gauge\ntokenpace_requests_running {running}\n\
             # TYPE tokenpace_requests_waiting gauge\ntokenpace_requests_waiting {waiting}\n\
             # TYPE tokenpace_generations_finished_total counter\ntokenpace_generations_finished_total {}\n\
             # TYPE tokenpace_prompt_tokens_total counter\ntokenpace_prompt_tokens_total {}\n\
             # TYPE tokenpace_generation_tokens_total counter\ntokenpace_generation_tokens_total {}\n\
             # TYPE tokenpace_queue_seconds_total counter\ntokenpace_queue_seconds_total {}\n\
             # TYPE tokenpace_prompt_seconds_total counter\ntokenpace_prompt_seconds_total {}\n\
             # TYPE tokenpace_decode_seconds_total counter\ntokenpace_decode_seconds_total {}\n",
            get(&self.finished),
            get(&self.prompt_tokens),
            get(&self.generated_tokens),
            secs(&self.queue_us),
            secs(&self.prompt_us),
            secs(&self.decode_us),
        );
        out
    }
}
