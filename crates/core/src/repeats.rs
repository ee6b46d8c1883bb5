//! A level measured several times (`bench --repeat N`): each repeat
//! summarised on its own, every metric's per-repeat values as a mean with
//! its 95 % confidence interval and coefficient of variation
//! ([`crate::confidence`]), and which tiers the interval spans, so a grade
//! the repeats cannot tell apart says so ("B or A").
//!
//! Repeats are told apart by [`RequestRecord::repeat`]; records of one
//! level share one clock, so each repeat's throughput is over its own wall
//! time.

use crate::aggregate::Aggregate;
use crate::confidence::Interval;
use crate::grade::Tier;
use crate::metric::Metric;
use crate::profile::{Profile, Rule};
use crate::record::RequestRecord;
use crate::request_metrics::MetricOptions;
use crate::stats::{Statistic, Stats};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// One repeat of a level.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RepeatRun {
    /// Its index, from 0.
    pub repeat: u32,
    /// What its requests amount to.
    #[serde(flatten)]
    pub aggregate: Aggregate,
}

/// The repeats of a level and their spread.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Repeats {
    /// Each repeat, in order.
    pub runs: Vec<RepeatRun>,
    /// Per metric: the mean of the per-repeat means, with its 95 %
    /// interval and CV across repeats.
    pub means: BTreeMap<Metric, Interval>,
    /// Successful requests per second across repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_s: Option<Interval>,
    /// Output tokens per second (all streams) across repeats.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_tok_s: Option<Interval>,
}

impl Repeats {
    /// The repeats of `records`; `None` unless they carry two or more
    /// repeat indices.
    pub fn of(records: &[RequestRecord], opts: &MetricOptions) -> Option<Repeats> {
        let mut groups: BTreeMap<u32, Vec<&RequestRecord>> = BTreeMap::new();
        for r in records {
            if let Some(k) = r.repeat {
                groups.entry(k).or_default().push(r);
            }
        }
        if groups.len() < 2 {
            return None;
        }
        let runs: Vec<RepeatRun> = groups
            .into_iter()
            .map(|(repeat, g)| RepeatRun {
                repeat,
                aggregate: Aggregate::of(g, opts),
            })
            .collect();
        let mut repeats = Repeats {
            means: BTreeMap::new(),
            requests_per_s: Interval::of(&collect(&runs, |a| Some(a.throughput.requests_per_s))),
            output_tok_s: Interval::of(&collect(&runs, |a| Some(a.throughput.output_tok_s))),
            runs,
        };
        for m in Metric::ALL {
            if let Some(i) = repeats.interval(m, Statistic::Mean) {
                repeats.means.insert(m, i);
            }
        }
        Some(repeats)
    }

    /// The interval of one statistic of one metric over the repeats (the
    /// repeats that measured it); a run-level metric's one value each.
    pub fn interval(&self, metric: Metric, statistic: Statistic) -> Option<Interval> {
        Interval::of(&self.values(metric, statistic))
    }

    /// One statistic of one metric in each repeat that measured it.
    pub fn values(&self, metric: Metric, statistic: Statistic) -> Vec<f64> {
        collect(&self.runs, |a| match metric {
            Metric::AnsweredPct => a.counts.answered_pct(),
            _ => a.metrics.get(&metric).map(|s| s.get(statistic)),
        })
    }
}

fn collect(runs: &[RepeatRun], f: impl Fn(&Aggregate) -> Option<f64>) -> Vec<f64> {
    runs.iter().filter_map(|r| f(&r.aggregate)).collect()
}

/// The tiers a graded metric's interval spans.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TierSpan {
    /// The metric.
    pub metric: Metric,
    /// The statistic the profile grades.
    pub statistic: Statistic,
    /// Its interval over the repeats.
    pub interval: Interval,
    /// The tier of the interval's better end.
    pub best: Tier,
    /// The tier of its worse end.
    pub worst: Tier,
}

impl TierSpan {
    /// Whether the repeats settle the tier: no boundary inside the interval.
    pub fn separable(&self) -> bool {
        self.best == self.worst
    }
}

/// For every metric `profile` grades that the repeats measured, the tiers
/// its interval spans.
pub fn tier_spans(profile: &Profile, repeats: &Repeats) -> Vec<TierSpan> {
    let mut out = Vec::new();
    for (&metric, rule) in &profile.metrics {
        let Some(interval) = repeats.interval(metric, rule.statistic) else {
            continue;
        };
        let Some((best, worst)) = tiers_between(rule, metric, interval.low, interval.high) else {
            continue;
        };
        out.push(TierSpan {
            metric,
            statistic: rule.statistic,
            interval,
            best,
            worst,
        });
    }
    out
}

/// The tiers (best, worst) of an interval's two ends on `rule`.
fn tiers_between(rule: &Rule, metric: Metric, low: f64, high: f64) -> Option<(Tier, Tier)> {
    // An interval of a non-negative quantity may reach below 0.
    let tier = |v: f64| rule.grade(metric, v.max(0.0)).ok().map(|g| g.tier);
    let (a, b) = (tier(low)?, tier(high)?);
    Some((a.min(b), a.max(b)))
}

/// The tiers a graded percentile's 95 % interval from one run spans
/// ([`crate::quantile_interval`]), as [`TierSpan`] does across repeats.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PercentileSpan {
    /// The metric.
    pub metric: Metric,
    /// The percentile the profile grades.
    pub statistic: Statistic,
    /// Values the percentile is over.
    pub n: u64,
    /// Lower end of its interval.
    pub low: f64,
    /// Upper end of its interval.
    pub high: f64,
    /// The tier of the interval's better end.
    pub best: Tier,
    /// The tier of its worse end.
    pub worst: Tier,
}

impl PercentileSpan {
    /// Whether the run settles the tier: no boundary inside the interval.
    pub fn separable(&self) -> bool {
        self.best == self.worst
    }
}

/// For every percentile `profile` grades whose interval in `metrics` has
/// both ends (an open end spans tiers no one measured), the tiers it spans.
pub fn percentile_spans(
    profile: &Profile,
    metrics: &BTreeMap<Metric, Stats>,
) -> Vec<PercentileSpan> {
    let mut out = Vec::new();
    for (&metric, rule) in &profile.metrics {
        let Some(stats) = metrics.get(&metric) else {
            continue;
        };
        let Some(iv) = stats.interval(rule.statistic) else {
            continue;
        };
        let (Some(low), Some(high)) = (iv.low, iv.high) else {
            continue;
        };
        if let Some((best, worst)) = tiers_between(rule, metric, low, high) {
            out.push(PercentileSpan {
                metric,
                statistic: rule.statistic,
                n: stats.n,
                low,
                high,
                best,
                worst,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Chunk;

    const MS: u64 = 1_000_000;

    fn req(repeat: u32, ttft_ms: u64) -> RequestRecord {
        let start = u64::from(repeat) * 10_000 * MS;
        let mut r = RequestRecord::new(0, start, start);
        for i in 0..3 {
            r.chunks.push(Chunk {
                at_ns: start + (ttft_ms + 10 * i) * MS,
                tokens: 1,
                chars: 1,
            });
        }
        r.end_ns = r.chunks.last().map(|c| c.at_ns);
        r.repeat = Some(repeat);
        r
    }

    #[test]
    fn each_repeat_is_one_value_of_the_interval() {
        let opts = MetricOptions::default();
        let records: Vec<_> = [(0, 1900), (0, 2100), (1, 1800), (1, 2000), (2, 2300)]
            .into_iter()
            .map(|(k, t)| req(k, t))
            .collect();
        let r = Repeats::of(&records, &opts).unwrap();
        assert_eq!(r.runs.len(), 3);
        // Per-repeat TTFT means 2.0, 1.9, 2.3 s.
        let ttft = r.means[&Metric::TtftS];
        let want = Interval::of(&[2.0, 1.9, 2.3]).unwrap();
        assert_eq!(ttft.n, 3);
        assert!((ttft.mean - want.mean).abs() < 1e-9);
        assert!((ttft.half_width() - want.half_width()).abs() < 1e-9);
        // The seed's TTFT boundaries are 2 and 3 s: the interval spans A
        // and B (and reaches C's 3 s? t(0.975, 2) · 0.208 / √3 ≈ 0.52).
        let spans = tier_spans(&Profile::builtin(), &r);
        let t = spans.iter().find(|s| s.metric == Metric::TtftS).unwrap();
        assert_eq!((t.best, t.worst), (Tier::A, Tier::B));
        assert!(!t.separable());
        // One repeat (or none) is no spread.
        let one: Vec<_> = records.iter().take(2).cloned().collect();
        assert!(Repeats::of(&one, &opts).is_none());
    }

    #[test]
    fn a_graded_percentile_whose_interval_holds_a_boundary_is_not_separable() {
        let mut profile = Profile::builtin();
        let rule = profile.metrics.get_mut(&Metric::TtftS).unwrap();
        rule.statistic = Statistic::P99;
        let boundary = rule.a;
        // 1000 TTFTs evenly up to just past the A boundary: the p99 sits
        // on it, its interval on both sides.
        let stats = |top: f64| {
            let mut v: Vec<f64> = (0..1000).map(|i| top * f64::from(i) / 999.0).collect();
            BTreeMap::from([(Metric::TtftS, Stats::from_values(&mut v).unwrap())])
        };
        let spans = percentile_spans(&profile, &stats(boundary * 1.01));
        let s = spans.iter().find(|s| s.metric == Metric::TtftS).unwrap();
        assert!(s.low < boundary && boundary < s.high, "{s:?}");
        assert_eq!((s.best, s.worst, s.n), (Tier::A, Tier::B, 1000));
        assert!(!s.separable());
        // Well inside A: one tier.
        let spans = percentile_spans(&profile, &stats(boundary * 0.5));
        assert!(spans.iter().all(|s| s.separable()));
        // The mean has no such interval.
        assert!(percentile_spans(&Profile::builtin(), &stats(boundary)).is_empty());
    }
}
