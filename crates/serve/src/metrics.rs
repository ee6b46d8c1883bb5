//! Prometheus counters for `/metrics`: requests by status, tokens, and the
//! engine's own time split (queue, prompt, decode), so a client can
//! decompose its TTFT with the server's figures.

use crate::answer::ToolOutcome;
use crate::generate::Finished;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use tokenpace_wire::prom::{self, StatusCounts};

/// The counters.
#[derive(Debug, Default)]
pub struct ServeMetrics {
    by_status: StatusCounts,
    prompt_tokens: AtomicU64,
    cached_tokens: AtomicU64,
    generated_tokens: AtomicU64,
    finished: AtomicU64,
    /// Microseconds, summed.
    queue_us: AtomicU64,
    prompt_us: AtomicU64,
    decode_us: AtomicU64,
    /// Answers to requests that let the model call a tool, by
    /// [`TOOL_OUTCOMES`].
    tool_answers: [AtomicU64; 4],
}

/// How an answer that could call a tool ended, as `/metrics` labels it.
const TOOL_OUTCOMES: [(ToolOutcome, &str); 4] = [
    (ToolOutcome::Called, "call"),
    (ToolOutcome::BrokenArguments, "broken_arguments"),
    (ToolOutcome::Text, "text"),
    (ToolOutcome::Missing, "missing"),
];

impl ServeMetrics {
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
        self.cached_tokens
            .fetch_add(u64::from(f.cached_tokens.unwrap_or(0)), Ordering::Relaxed);
        self.generated_tokens
            .fetch_add(u64::from(f.completion_tokens), Ordering::Relaxed);
        self.queue_us.fetch_add(us(f.queue_ms), Ordering::Relaxed);
        self.prompt_us.fetch_add(us(f.prompt_ms), Ordering::Relaxed);
        self.decode_us
            .fetch_add(us(f.predicted_ms), Ordering::Relaxed);
    }

    /// Counts an answer's tool outcome; true the first time a demanded
    /// call was missing.
    pub fn tool_outcome(&self, outcome: ToolOutcome) -> bool {
        let Some(i) = TOOL_OUTCOMES.iter().position(|(o, _)| *o == outcome) else {
            return false;
        };
        let before = self.tool_answers[i].fetch_add(1, Ordering::Relaxed);
        outcome == ToolOutcome::Missing && before == 0
    }

    /// The exposition text.
    pub fn render(&self, running: usize, waiting: usize) -> String {
        let mut o = String::new();
        let count = |a: &AtomicU64| a.load(Ordering::Relaxed) as f64;
        let secs = |a: &AtomicU64| count(a) / 1e6;
        self.by_status.render(
            &mut o,
            "tokenpace_requests_total",
            "Responses, by HTTP status.",
        );
        // Name (after `tokenpace_`), type, help, value.
        #[rustfmt::skip]
        let samples = [
            ("requests_running", "gauge", "Generations running.", running as f64),
            ("requests_waiting", "gauge", "Generations waiting.", waiting as f64),
            ("generations_finished_total", "counter", "Generations.", count(&self.finished)),
            ("prompt_tokens_total", "counter", "Prompt tokens.", count(&self.prompt_tokens)),
            ("prompt_tokens_cached_total", "counter", "Prompt tokens reused from the prefix cache.", count(&self.cached_tokens)),
            ("generation_tokens_total", "counter", "Tokens generated.", count(&self.generated_tokens)),
            ("queue_seconds_total", "counter", "Time waiting for a slot.", secs(&self.queue_us)),
            ("prompt_seconds_total", "counter", "Time to the first token.", secs(&self.prompt_us)),
            ("decode_seconds_total", "counter", "Time first to last token.", secs(&self.decode_us)),
        ];
        for (name, kind, help, value) in samples {
            let name = format!("tokenpace_{name}");
            prom::header(&mut o, &name, help, kind);
            let _ = writeln!(o, "{name} {value}");
        }
        let name = "tokenpace_tool_answers_total";
        prom::header(
            &mut o,
            name,
            "Answers to requests that let the model call a tool, by what it did \
             (missing: tool_choice demanded a call and it answered in text).",
            "counter",
        );
        for (i, (_, label)) in TOOL_OUTCOMES.iter().enumerate() {
            let n = self.tool_answers[i].load(Ordering::Relaxed);
            let _ = writeln!(o, "{name}{{outcome=\"{label}\"}} {n}");
        }
        o
    }
}
