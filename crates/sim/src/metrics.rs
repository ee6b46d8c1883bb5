//! Prometheus text metrics, named like vLLM's (`vllm:…`) but `tokenpace_sim_…`.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use tokenpace_wire::prom::{self, StatusCounts};

use crate::faults::FaultKind;

/// vLLM's TTFT histogram buckets, in seconds.
pub const TTFT_BUCKETS: [f64; 22] = [
    0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0,
    20.0, 40.0, 80.0, 160.0, 640.0, 2560.0,
];

/// Counters and a histogram, updated lock-free on the hot path.
#[derive(Debug, Default)]
pub struct Metrics {
    requests: StatusCounts,
    prompt_tokens: AtomicU64,
    generation_tokens: AtomicU64,
    ttft_buckets: [AtomicU64; TTFT_BUCKETS.len()],
    ttft_count: AtomicU64,
    ttft_sum_ns: AtomicU64,
    faults: [AtomicU64; FaultKind::ALL.len()],
    prefix_queries: AtomicU64,
    prefix_hits: AtomicU64,
    queue: Durations,
    prefill: Durations,
}

/// A histogram kept as its sum and count only (exported with one `+Inf`
/// bucket): enough for the mean between two scrapes.
#[derive(Debug, Default)]
struct Durations {
    count: AtomicU64,
    sum_ns: AtomicU64,
}

impl Durations {
    fn add(&self, d: Duration) {
        self.count.fetch_add(1, Ordering::Relaxed);
        self.sum_ns.fetch_add(
            d.as_nanos().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    fn render(&self, o: &mut String, name: &str, help: &str) {
        let count = self.count.load(Ordering::Relaxed);
        let sum = self.sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        prom::header(o, name, help, "histogram");
        let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(o, "{name}_sum {sum}");
        let _ = writeln!(o, "{name}_count {count}");
    }
}

impl Metrics {
    /// Counts a prefix-cache lookup of `queried` prompt tokens, `hit` of
    /// them cached (vLLM's `prefix_cache_queries` and `prefix_cache_hits`).
    pub fn prefix_cache(&self, queried: u64, hit: u64) {
        self.prefix_queries.fetch_add(queried, Ordering::Relaxed);
        self.prefix_hits.fetch_add(hit, Ordering::Relaxed);
    }

    /// Counts a finished request by HTTP status.
    pub fn request(&self, status: u16) {
        self.requests.add(status);
    }

    /// Adds prompt and generated tokens.
    pub fn tokens(&self, prompt: u64, generated: u64) {
        self.prompt_tokens.fetch_add(prompt, Ordering::Relaxed);
        self.generation_tokens
            .fetch_add(generated, Ordering::Relaxed);
    }

    /// Records one time to first token (from receipt to the first token write).
    pub fn ttft(&self, d: Duration) {
        let s = d.as_secs_f64();
        if let Some(i) = TTFT_BUCKETS.iter().position(|&b| s <= b) {
            self.ttft_buckets[i].fetch_add(1, Ordering::Relaxed);
        }
        self.ttft_count.fetch_add(1, Ordering::Relaxed);
        self.ttft_sum_ns.fetch_add(
            d.as_nanos().min(u128::from(u64::MAX)) as u64,
            Ordering::Relaxed,
        );
    }

    /// Records a request's wait in the queue (receipt to batch admission).
    pub fn queue(&self, d: Duration) {
        self.queue.add(d);
    }

    /// Records a request's prefill (admission to the first token write).
    pub fn prefill(&self, d: Duration) {
        self.prefill.add(d);
    }

    /// Counts an injected fault.
    pub fn fault(&self, kind: FaultKind) {
        if let Some(i) = FaultKind::ALL.iter().position(|k| *k == kind) {
            self.faults[i].fetch_add(1, Ordering::Relaxed);
        }
    }

    /// The Prometheus text exposition.
    pub fn render(&self, running: usize, waiting: usize) -> String {
        let mut o = String::with_capacity(4096);
        self.render_counts(&mut o, running, waiting);
        self.render_ttft(&mut o);
        self.queue.render(
            &mut o,
            "tokenpace_sim_request_queue_time_seconds",
            "Time from request receipt to admission into the batch.",
        );
        self.prefill.render(
            &mut o,
            "tokenpace_sim_request_prefill_time_seconds",
            "Time from admission to the first token write.",
        );
        self.render_faults(&mut o);
        o
    }

    /// Requests by status, the batch's streams and queue, tokens, and the
    /// prefix cache's lookups.
    fn render_counts(&self, o: &mut String, running: usize, waiting: usize) {
        self.requests.render(
            o,
            "tokenpace_sim_requests_total",
            "Requests answered, by HTTP status.",
        );
        prom::gauge(
            o,
            "tokenpace_sim_num_requests_running",
            "Streams in the decode batch.",
            running,
        );
        prom::gauge(
            o,
            "tokenpace_sim_num_requests_waiting",
            "Requests queued for a batch slot.",
            waiting,
        );
        prom::counter(
            o,
            "tokenpace_sim_prompt_tokens_total",
            "Prompt tokens (estimated).",
            self.prompt_tokens.load(Ordering::Relaxed),
        );
        prom::counter(
            o,
            "tokenpace_sim_generation_tokens_total",
            "Tokens sent.",
            self.generation_tokens.load(Ordering::Relaxed),
        );
        prom::counter(
            o,
            "tokenpace_sim_prefix_cache_queries_total",
            "Prompt tokens looked up in the prefix cache.",
            self.prefix_queries.load(Ordering::Relaxed),
        );
        prom::counter(
            o,
            "tokenpace_sim_prefix_cache_hits_total",
            "Prompt tokens found in the prefix cache (not prefilled).",
            self.prefix_hits.load(Ordering::Relaxed),
        );
    }

    /// The TTFT histogram, cumulative over vLLM's buckets.
    fn render_ttft(&self, o: &mut String) {
        let name = "tokenpace_sim_time_to_first_token_seconds";
        prom::header(
            o,
            name,
            "Time from request receipt to the first token write.",
            "histogram",
        );
        let mut cumulative = 0;
        for (b, n) in TTFT_BUCKETS.iter().zip(&self.ttft_buckets) {
            cumulative += n.load(Ordering::Relaxed);
            let _ = writeln!(o, "{name}_bucket{{le=\"{b}\"}} {cumulative}");
        }
        let count = self.ttft_count.load(Ordering::Relaxed);
        let _ = writeln!(o, "{name}_bucket{{le=\"+Inf\"}} {count}");
        let sum = self.ttft_sum_ns.load(Ordering::Relaxed) as f64 / 1e9;
        let _ = writeln!(o, "{name}_sum {sum}");
        let _ = writeln!(o, "{name}_count {count}");
    }

    /// The faults injected, by kind.
    fn render_faults(&self, o: &mut String) {
        prom::header(
            o,
            "tokenpace_sim_faults_injected_total",
            "Faults injected, by kind.",
            "counter",
        );
        for (k, n) in FaultKind::ALL.iter().zip(&self.faults) {
            let _ = writeln!(
                o,
                "tokenpace_sim_faults_injected_total{{kind=\"{k}\"}} {}",
                n.load(Ordering::Relaxed)
            );
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn histogram_is_cumulative() {
        let m = Metrics::default();
        m.ttft(Duration::from_millis(3));
        m.ttft(Duration::from_millis(300));
        m.request(200);
        m.request(200);
        let text = m.render(1, 0);
        assert!(text.contains("tokenpace_sim_time_to_first_token_seconds_bucket{le=\"0.005\"} 1"));
        assert!(text.contains("tokenpace_sim_time_to_first_token_seconds_bucket{le=\"0.5\"} 2"));
        assert!(text.contains("tokenpace_sim_time_to_first_token_seconds_count 2"));
        assert!(text.contains("tokenpace_sim_requests_total{status=\"200\"} 2"));
        assert!(text.contains("tokenpace_sim_num_requests_running 1"));
    }
}
