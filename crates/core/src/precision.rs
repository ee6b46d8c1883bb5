//! `bench --until-precise P`: send until one run's p99 TTFT is known to
//! within ± P % (the half-width of its 95 % interval, [`crate::quantile_interval`],
//! over the p99 itself), in the spirit of MLPerf's early stopping, or until
//! a cap ends the run first. [`PrecisionWatch`] decides as requests finish;
//! [`Precision`] is what the run says about it.

use crate::quantile_interval::QuantileInterval;
use crate::record::RequestRecord;
use crate::request_metrics::{MetricOptions, RequestMetrics};
use crate::stats::percentile_sorted;
use serde::{Deserialize, Serialize};

/// How a run with `--until-precise` ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Precision {
    /// The half-width asked for, percent of the p99 TTFT.
    pub target_pct: f64,
    /// Requests finished when the run stopped starting new ones (those
    /// then in flight finished too, and are in the results).
    pub requests: u64,
    /// The p99 TTFT interval's half-width over those requests, percent;
    /// absent while too few answered to bound it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub half_width_pct: Option<f64>,
    /// Whether the target was met; false: a cap (`--max-requests`,
    /// `--duration`, Ctrl-C) ended the run first.
    pub converged: bool,
}

/// Watches TTFTs as requests finish and says when the p99's interval is
/// narrow enough.
#[derive(Debug, Clone)]
pub struct PrecisionWatch {
    target_pct: f64,
    ttft_s: Vec<f64>,
    finished: u64,
    next_check: u64,
    reached: Option<Precision>,
}

/// Fewest TTFTs whose p99 interval has an upper end (0.99^368 ≤ 2.5 %).
const FEWEST: usize = 368;

impl PrecisionWatch {
    /// A watch for a half-width of `target_pct` percent.
    pub fn new(target_pct: f64) -> PrecisionWatch {
        PrecisionWatch {
            target_pct,
            ttft_s: Vec::new(),
            finished: 0,
            next_check: 0,
            reached: None,
        }
    }

    /// Counts one finished request (its TTFT when it was answered); true
    /// from the moment the target is met.
    pub fn observe(&mut self, ttft_s: Option<f64>) -> bool {
        if self.reached.is_some() {
            return true;
        }
        self.finished += 1;
        self.ttft_s.extend(ttft_s.filter(|t| t.is_finite()));
        // Checked every 1 % more requests, so a long run does not sort
        // its TTFTs at every request, and stops at most 1 % late.
        if self.ttft_s.len() < FEWEST || self.finished < self.next_check {
            return false;
        }
        self.next_check = self.finished + (self.finished / 100).max(1);
        let state = self.state();
        if state.converged {
            self.reached = Some(state);
        }
        state.converged
    }

    /// Counts one finished request: its TTFT, as the run's summary takes
    /// it, when it succeeded.
    pub fn observe_record(&mut self, record: &RequestRecord) -> bool {
        let m = RequestMetrics::of(record, &MetricOptions::default());
        self.observe(m.ttft_s.filter(|_| record.is_ok()))
    }

    /// The outcome: as it stood when the target was met, else over every
    /// request seen (a cap ended the run).
    pub fn outcome(&self) -> Precision {
        self.reached.unwrap_or_else(|| self.state())
    }

    fn state(&self) -> Precision {
        let mut sorted = self.ttft_s.clone();
        sorted.sort_by(f64::total_cmp);
        let half_width_pct = QuantileInterval::of_sorted(&sorted, 0.99)
            .relative_half_width(percentile_sorted(&sorted, 99.0))
            .map(|h| h * 100.0);
        Precision {
            target_pct: self.target_pct,
            requests: self.finished,
            half_width_pct,
            converged: half_width_pct.is_some_and(|h| h <= self.target_pct),
        }
    }
}

/// The p99 TTFT interval's half-width over `ttft_s`, percent of the p99;
/// `None` while too few to bound it. What [`PrecisionWatch`] compares.
pub fn p99_half_width_pct(ttft_s: &[f64]) -> Option<f64> {
    let mut w = PrecisionWatch::new(0.0);
    w.ttft_s = ttft_s.iter().copied().filter(|t| t.is_finite()).collect();
    w.state().half_width_pct
}

#[cfg(test)]
mod tests {
    use super::*;

    /// TTFTs spread evenly over 1..2 s, in a scrambled order.
    fn ttft(i: u64) -> f64 {
        1.0 + ((i * 7919) % 1000) as f64 / 1000.0
    }

    #[test]
    fn stops_once_the_interval_is_narrow_enough_and_says_so() {
        let mut w = PrecisionWatch::new(0.2);
        let mut stopped_at = None;
        for i in 0..100_000 {
            if w.observe(Some(ttft(i))) {
                stopped_at = Some(i + 1);
                break;
            }
        }
        let at = stopped_at.expect("a uniform spread converges");
        let p = w.outcome();
        assert!(p.converged && p.requests == at);
        let h = p.half_width_pct.unwrap();
        assert!(h <= 0.2, "{h}");
        // Recomputed from the same requests: the same half-width.
        let seen: Vec<f64> = (0..at).map(ttft).collect();
        assert_eq!(p99_half_width_pct(&seen), Some(h));
        // Not long after it could have: 1 % fewer requests were not enough.
        let fewer: Vec<f64> = (0..at * 98 / 100).map(ttft).collect();
        assert!(p99_half_width_pct(&fewer).is_none_or(|h| h > 0.2));
    }

    #[test]
    fn a_cap_ends_it_unconverged_and_failures_do_not_count() {
        let mut w = PrecisionWatch::new(0.01);
        for i in 0..500 {
            assert!(!w.observe(Some(ttft(i))));
            assert!(!w.observe(None));
        }
        let p = w.outcome();
        assert!(!p.converged);
        assert_eq!(p.requests, 1000);
        assert!(p.half_width_pct.unwrap() > 0.01);
        // Too few answers to bound the p99: no half-width at all.
        let mut few = PrecisionWatch::new(50.0);
        (0..100).for_each(|i| assert!(!few.observe(Some(ttft(i)))));
        assert_eq!(few.outcome().half_width_pct, None);
    }
}
