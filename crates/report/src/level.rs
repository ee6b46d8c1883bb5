//! [`Level`]: one measured load level as reports and comparisons see it — its
//! summary (`run.json`) and its request records (`requests.jsonl`).

use tokenpace_core::metric::Metric;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::request_metrics::{itl_samples, MetricOptions, RequestMetrics};
use tokenpace_core::summary::RunSummary;

/// One load level of a run.
#[derive(Debug, Clone)]
pub struct Level {
    /// A short name: the level label (`c4`, `p512`) or the run's directory.
    pub name: String,
    /// What `bench` summarised.
    pub summary: RunSummary,
    /// Every request, in the order they finished.
    pub records: Vec<RequestRecord>,
}

impl From<tokenpace_rundir::StoredLevel> for Level {
    fn from(l: tokenpace_rundir::StoredLevel) -> Level {
        Level {
            name: l.name,
            summary: l.summary,
            records: l.records,
        }
    }
}

impl Level {
    /// The options the run's metrics were derived with.
    pub fn metric_options(&self) -> MetricOptions {
        MetricOptions {
            stall_threshold_s: self.summary.settings.stall_threshold_s,
            network_overhead_s: self.summary.settings.network_overhead_s,
        }
    }

    /// The per-request values of `metric` over successful requests (the
    /// values `RunSummary` summarises): one per request, except inter-token
    /// latency, one per chunk pooled over all requests, and schedule lag,
    /// one per request including failed ones.
    pub fn values(&self, metric: Metric) -> Vec<f64> {
        let opts = self.metric_options();
        if metric == Metric::ItlS {
            let mut out = Vec::new();
            for r in &self.records {
                itl_samples(r, &mut out);
            }
            return out;
        }
        self.records
            .iter()
            .filter(|r| r.is_ok() || metric == Metric::ScheduleLagS)
            .filter_map(|r| pick(&RequestMetrics::of(r, &opts), metric))
            .filter(|v| v.is_finite())
            .collect()
    }

    /// Successful records.
    pub fn ok(&self) -> impl Iterator<Item = &RequestRecord> {
        self.records.iter().filter(|r| r.is_ok())
    }
}

/// One metric of a request's derived metrics.
pub fn pick(m: &RequestMetrics, metric: Metric) -> Option<f64> {
    match metric {
        Metric::TtftS => m.ttft_s,
        Metric::TtfvS => m.ttfv_s,
        Metric::PrefillTokS => m.prefill_tok_s,
        Metric::DecodeTokS => m.decode_tok_s,
        Metric::OutputCharsS => m.output_chars_s,
        // Pooled per chunk, or the server's own (on the record, not here).
        Metric::ItlS | Metric::ServerPrefillTokS | Metric::ServerDecodeTokS => None,
        Metric::E2eS => m.e2e_s,
        Metric::LongestStallS => m.longest_stall_s,
        Metric::Stalls => m.stalls.map(f64::from),
        Metric::CharsPerToken => m.chars_per_token,
        Metric::ScheduleLagS => Some(m.schedule_lag_s),
        Metric::PromptTokens => m.prompt_tokens.map(f64::from),
        Metric::OutputTokens => m.output_tokens.map(f64::from),
        // A figure of the run, not of each request.
        Metric::AnsweredPct => None,
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tokenpace_core::record::{Chunk, CountSource, TokenCount};
    use tokenpace_core::stats::Stats;
    use tokenpace_core::summary::{Environment, RunSettings};

    const MS: u64 = 1_000_000;

    /// A run of `n` streams: TTFT `ttft_ms + 10·i`, 20 tokens `gap_ms`
    /// apart, 2 characters each, a 300-token prompt.
    pub(crate) fn level(name: &str, n: u64, ttft_ms: u64, gap_ms: u64) -> Level {
        let records: Vec<RequestRecord> = (0..n)
            .map(|i| {
                let start = i * 50 * MS;
                let mut r = RequestRecord::new(i, start, start);
                let first = start + (ttft_ms + 10 * i) * MS;
                for k in 0..20 {
                    r.chunks.push(Chunk {
                        at_ns: first + k * gap_ms * MS,
                        tokens: 1,
                        chars: 2,
                    });
                }
                r.output_chars = 40;
                r.output_tokens = Some(TokenCount {
                    count: 20,
                    source: CountSource::ServerUsage,
                });
                r.prompt_tokens = Some(TokenCount {
                    count: 300,
                    source: CountSource::ServerUsage,
                });
                r.end_ns = Some(first + 20 * gap_ms * MS);
                r
            })
            .collect();
        let settings = RunSettings {
            stall_threshold_s: 0.25,
            ..Default::default()
        };
        let summary = RunSummary::from_records(&records, settings, Environment::default());
        Level {
            name: name.into(),
            summary,
            records,
        }
    }

    #[test]
    fn values_are_what_the_summary_summarised() {
        let r = level("a", 7, 200, 30);
        for m in Metric::ALL {
            let mut v = r.values(m);
            match (Stats::from_values(&mut v), r.summary.metrics.get(&m)) {
                (Some(s), Some(t)) => {
                    assert_eq!(s.n, t.n, "{m}");
                    assert!((s.mean - t.mean).abs() < 1e-9, "{m}");
                }
                (None, None) => {}
                (a, b) => panic!("{m}: {a:?} vs {b:?}"),
            }
        }
    }
}
