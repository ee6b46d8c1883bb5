//! What any set of requests amounts to: how many ended how, throughput over
//! their wall time, and the statistics of every metric. A whole run, one
//! repeat of it and one phase of it (ramp-up, steady state, drain) are all
//! summarised by [`Aggregate::of`], so the figures agree by construction.

use crate::metric::Metric;
use crate::record::{ErrorKind, RequestRecord};
use crate::request_metrics::{itl_samples, MetricOptions, RequestMetrics};
use crate::stats::Stats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How many requests ended how: `sent = ok + failed`, and `failed` is the
/// sum of `by_kind`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Counts {
    /// Requests sent.
    pub sent: u64,
    /// Requests that succeeded.
    pub ok: u64,
    /// Requests that failed.
    pub failed: u64,
    /// Failures by kind.
    pub by_kind: BTreeMap<ErrorKind, u64>,
    /// Of the successes, streams the client closed by design
    /// (`--cancel-after`: the user stopped reading).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub left: u64,
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

/// Aggregate throughput over the run's wall time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Throughput {
    /// From the first send to the last end, seconds.
    pub duration_s: f64,
    /// Successful requests per second.
    pub requests_per_s: f64,
    /// Output tokens of successful requests per second, all streams together.
    pub output_tok_s: f64,
}

impl Counts {
    /// Percent of the requests sent that got an answer (`None` when none
    /// was sent): what the profile's `answered_pct` rule grades.
    pub fn answered_pct(&self) -> Option<f64> {
        // ok·100 is exact, so 99 of 100 is exactly 99.0, on the boundary.
        (self.sent > 0).then(|| self.ok as f64 * 100.0 / self.sent as f64)
    }
}

/// Counts, throughput and per-metric statistics of a set of requests.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Aggregate {
    /// Outcomes.
    pub counts: Counts,
    /// Throughput over the requests' wall time.
    pub throughput: Throughput,
    /// Statistics per metric over successful requests (schedule lag over
    /// all requests); metrics nothing measured are absent.
    pub metrics: BTreeMap<Metric, Stats>,
}

impl Aggregate {
    /// One statistic of one metric, if it was measured; the answered share
    /// from the counts (as [`crate::summary::RunSummary::get`]).
    pub fn get(&self, metric: Metric, statistic: crate::stats::Statistic) -> Option<f64> {
        match metric {
            Metric::AnsweredPct => self.counts.answered_pct(),
            _ => self.metrics.get(&metric).map(|s| s.get(statistic)),
        }
    }

    /// Summarises `records` (any subset of a run, on one clock).
    pub fn of<'a>(
        records: impl IntoIterator<Item = &'a RequestRecord>,
        opts: &MetricOptions,
    ) -> Aggregate {
        let mut counts = Counts::default();
        let mut values: BTreeMap<Metric, Vec<f64>> = BTreeMap::new();
        let mut push = |m: Metric, v: Option<f64>| {
            if let Some(v) = v {
                values.entry(m).or_default().push(v);
            }
        };
        let mut itl = Vec::new();
        let (mut first_sent, mut last_end, mut out_tokens) = (u64::MAX, 0u64, 0u64);
        for r in records {
            counts.sent += 1;
            first_sent = first_sent.min(r.sent_ns);
            last_end = last_end.max(r.end_ns.unwrap_or(r.sent_ns));
            match &r.error {
                None => {
                    counts.ok += 1;
                    counts.left += u64::from(r.left_ns.is_some());
                }
                Some(e) => {
                    counts.failed += 1;
                    *counts.by_kind.entry(e.kind).or_default() += 1;
                }
            }
            let m = RequestMetrics::of(r, opts);
            push(Metric::ScheduleLagS, Some(m.schedule_lag_s));
            if !r.is_ok() {
                continue;
            }
            out_tokens += u64::from(m.output_tokens.unwrap_or(0));
            push(Metric::TtftS, m.ttft_s);
            push(Metric::TtfvS, m.ttfv_s);
            push(Metric::PrefillTokS, m.prefill_tok_s);
            push(Metric::DecodeTokS, m.decode_tok_s);
            let server = r.server_timings.unwrap_or_default();
            push(Metric::ServerPrefillTokS, server.prefill_tok_s);
            push(Metric::ServerDecodeTokS, server.decode_tok_s);
            push(Metric::OutputCharsS, m.output_chars_s);
            // A reader who left did not wait for the whole answer.
            push(Metric::E2eS, m.e2e_s.filter(|_| r.left_ns.is_none()));
            push(Metric::LongestStallS, m.longest_stall_s);
            push(Metric::Stalls, m.stalls.map(f64::from));
            push(Metric::CharsPerToken, m.chars_per_token);
            push(Metric::PromptTokens, m.prompt_tokens.map(f64::from));
            push(Metric::OutputTokens, m.output_tokens.map(f64::from));
            itl_samples(r, &mut itl);
        }
        values.insert(Metric::ItlS, itl);
        let metrics = values
            .into_iter()
            .filter_map(|(m, mut v)| Stats::from_values(&mut v).map(|s| (m, s)))
            .collect();
        let duration_s = last_end.saturating_sub(first_sent) as f64 / 1e9;
        let per_s = |n: u64| {
            if duration_s > 0.0 {
                n as f64 / duration_s
            } else {
                0.0
            }
        };
        Aggregate {
            throughput: Throughput {
                duration_s,
                requests_per_s: per_s(counts.ok),
                output_tok_s: per_s(out_tokens),
            },
            counts,
            metrics,
        }
    }
}
