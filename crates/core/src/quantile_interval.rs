//! Distribution-free confidence intervals of percentiles from one run.
//!
//! Of `n` values, how many fall at or below the true `p`-quantile is
//! Binomial(n, p) whatever the distribution, so the interval
//! `[x_(l), x_(u)]` between two order statistics covers the quantile with
//! probability `P(l ≤ X ≤ u − 1)`. The ranks are chosen so that each tail
//! holds at most (1 − [`CONFIDENCE`]) / 2: coverage is at least 95 %, exact
//! binomial, for any `n` (the probabilities are summed outward from the
//! mode with the ratio of successive terms, so nothing under- or overflows
//! at a million values). Where `n` is too small for a rank to exist (a
//! p99 of fewer than 368 values has no upper one) that end is open: absent,
//! never invented.

use crate::confidence::CONFIDENCE;
use serde::{Deserialize, Serialize};

/// A percentile's 95 % interval; an end is absent where too few values
/// exist to bound it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct QuantileInterval {
    /// Lower end (an order statistic); absent: too few values to bound it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub low: Option<f64>,
    /// Upper end (an order statistic); absent: too few values to bound it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub high: Option<f64>,
}

impl QuantileInterval {
    /// The interval of the `p`-quantile (0 < p < 1) of values sorted
    /// ascending, at [`CONFIDENCE`].
    pub fn of_sorted(sorted: &[f64], p: f64) -> QuantileInterval {
        let (l, u) = order_ranks(sorted.len() as u64, p, CONFIDENCE);
        let at = |rank: u64| sorted.get(rank as usize - 1).copied();
        QuantileInterval {
            low: l.and_then(at),
            high: u.and_then(at),
        }
    }

    /// Whether `x` lies in the interval (an open end reaches any value).
    pub fn contains(&self, x: f64) -> bool {
        self.low.is_none_or(|l| l <= x) && self.high.is_none_or(|h| x <= h)
    }

    /// Half the width relative to `centre` (0.05 is ± 5 %); `None` while an
    /// end is open or the centre is 0.
    pub fn relative_half_width(&self, centre: f64) -> Option<f64> {
        let (l, h) = (self.low?, self.high?);
        (centre != 0.0).then(|| (h - l) / 2.0 / centre.abs())
    }
}

/// The 95 % intervals of the percentiles [`crate::stats::Stats`] reports.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PercentileIntervals {
    /// Of the 10th percentile.
    pub p10: QuantileInterval,
    /// Of the median.
    pub p50: QuantileInterval,
    /// Of the 90th percentile.
    pub p90: QuantileInterval,
    /// Of the 95th percentile.
    pub p95: QuantileInterval,
    /// Of the 99th percentile.
    pub p99: QuantileInterval,
}

impl PercentileIntervals {
    /// The intervals of values sorted ascending.
    pub fn of_sorted(sorted: &[f64]) -> PercentileIntervals {
        let at = |p| QuantileInterval::of_sorted(sorted, p);
        PercentileIntervals {
            p10: at(0.10),
            p50: at(0.50),
            p90: at(0.90),
            p95: at(0.95),
            p99: at(0.99),
        }
    }
}

/// The 1-based ranks `(l, u)` of the order statistics bounding the
/// `p`-quantile of `n` values at `confidence`: `P(X ≤ l − 1)` and
/// `P(X ≥ u)` each at most (1 − confidence) / 2 for X ~ Binomial(n, p).
/// An end is `None` when no rank in 1..=n qualifies.
pub fn order_ranks(n: u64, p: f64, confidence: f64) -> (Option<u64>, Option<u64>) {
    if n == 0 || !(p > 0.0 && p < 1.0) {
        return (None, None);
    }
    let tail = (1.0 - confidence) / 2.0;
    let (first, pmf) = binomial_pmf_window(n, p);
    let last = first + pmf.len() as u64 - 1;
    // Lower: the largest j with P(X ≤ j) ≤ tail gives l = j + 1; below the
    // window the mass is negligible, so j = first − 1 always qualifies.
    let mut lower = first.checked_sub(1);
    let mut cdf = 0.0;
    for (i, w) in pmf.iter().enumerate() {
        cdf += w;
        if cdf > tail {
            break;
        }
        lower = Some(first + i as u64);
    }
    // Upper: the smallest u with P(X ≥ u) ≤ tail; above the window every
    // u qualifies, so u = last + 1 when nothing inside does.
    let mut upper = last + 1;
    let mut sf = 0.0;
    for (i, w) in pmf.iter().enumerate().rev() {
        sf += w;
        if sf > tail {
            break;
        }
        upper = first + i as u64;
    }
    (lower.map(|j| j + 1), (upper <= n).then_some(upper))
}

/// Binomial(n, p)'s probabilities over the window of k where they are not
/// negligible (below 1e-40 of the mode's), as `(first k, probabilities)`.
fn binomial_pmf_window(n: u64, p: f64) -> (u64, Vec<f64>) {
    let mode = (((n + 1) as f64 * p).floor() as u64).min(n);
    let odds = p / (1.0 - p);
    const FLOOR: f64 = 1e-40;
    // pmf(k+1)/pmf(k) = (n − k)/(k + 1) · p/(1 − p), walked outward from 1.
    let mut below = Vec::new();
    let (mut w, mut k) = (1.0f64, mode);
    while k > 0 && w > FLOOR {
        w *= k as f64 / ((n - k + 1) as f64 * odds);
        k -= 1;
        below.push(w);
    }
    let mut weights: Vec<f64> = below.into_iter().rev().collect();
    let first = mode - weights.len() as u64;
    weights.push(1.0);
    let (mut w, mut k) = (1.0f64, mode);
    while k < n && w > FLOOR {
        w *= (n - k) as f64 / (k + 1) as f64 * odds;
        k += 1;
        weights.push(w);
    }
    let total: f64 = weights.iter().sum();
    weights.iter_mut().for_each(|w| *w /= total);
    (first, weights)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_100_matches_the_tables() {
        // Conover's table (and R's binom-based qbeta method): ranks 40, 61.
        assert_eq!(order_ranks(100, 0.5, 0.95), (Some(40), Some(61)));
        // n = 10: x_(2)..x_(9), coverage 97.9 %.
        assert_eq!(order_ranks(10, 0.5, 0.95), (Some(2), Some(9)));
    }

    #[test]
    fn each_tail_holds_at_most_its_share_and_is_tight() {
        for &(n, p) in &[
            (50, 0.9),
            (400, 0.99),
            (1000, 0.99),
            (2500, 0.1),
            (777, 0.95),
        ] {
            let (l, u) = order_ranks(n, p, 0.95);
            let (l, u) = (l.unwrap(), u.unwrap());
            let pmf = |k: u64| exact_pmf(n, p, k);
            let below: f64 = (0..l).map(pmf).sum();
            let above: f64 = (u..=n).map(pmf).sum();
            assert!(below <= 0.025 && above <= 0.025, "{n} {p}: {below} {above}");
            // One rank tighter would break the bound.
            assert!(below + pmf(l) > 0.025, "{n} {p}: lower not tight");
            assert!(above + pmf(u - 1) > 0.025, "{n} {p}: upper not tight");
        }
    }

    /// The binomial probability by logs of factorials, summed the slow way.
    fn exact_pmf(n: u64, p: f64, k: u64) -> f64 {
        let ln_fact = |m: u64| (1..=m).map(|i| (i as f64).ln()).sum::<f64>();
        (ln_fact(n) - ln_fact(k) - ln_fact(n - k)
            + k as f64 * p.ln()
            + (n - k) as f64 * (1.0 - p).ln())
        .exp()
    }

    #[test]
    fn too_few_values_leave_an_end_open() {
        // 0.99^367 > 0.025 ≥ 0.99^368: the p99's upper rank needs 368 values.
        assert_eq!(order_ranks(367, 0.99, 0.95).1, None);
        assert_eq!(order_ranks(368, 0.99, 0.95).1, Some(368));
        assert!(order_ranks(367, 0.99, 0.95).0.is_some());
        assert_eq!(order_ranks(5, 0.5, 0.95), (None, None));
        assert_eq!(order_ranks(0, 0.5, 0.95), (None, None));
        let iv = QuantileInterval::of_sorted(&[1.0, 2.0, 3.0], 0.99);
        assert_eq!(iv.high, None);
        assert!(iv.contains(1e9));
        assert_eq!(iv.relative_half_width(2.0), None);
    }

    #[test]
    fn a_million_values_agree_with_the_normal_approximation() {
        let n = 1_000_000u64;
        for p in [0.5, 0.99, 0.1] {
            let (l, u) = order_ranks(n, p, 0.95);
            let (mean, sd) = (n as f64 * p, (n as f64 * p * (1.0 - p)).sqrt());
            // Normal with continuity correction: l − 1 ≈ mean − 1.96 sd − ½.
            let want_l = mean - 1.959_964 * sd + 0.5;
            let want_u = mean + 1.959_964 * sd + 0.5;
            assert!(
                (l.unwrap() as f64 - want_l).abs() <= 2.0,
                "{p}: {l:?} {want_l}"
            );
            assert!(
                (u.unwrap() as f64 - want_u).abs() <= 2.0,
                "{p}: {u:?} {want_u}"
            );
        }
    }
}
