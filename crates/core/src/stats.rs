//! Summary statistics over per-request values.
//!
//! Percentiles use linear interpolation between closest ranks (Hyndman and
//! Fan's type 7, the default of numpy, R and pandas), so anyone can recompute
//! them from `requests.jsonl` and get the same number. Standard deviation is
//! the sample standard deviation (n − 1 in the denominator; 0 for one value).

use crate::quantile_interval::{PercentileIntervals, QuantileInterval};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// Summary of one metric over the requests of a run.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Stats {
    /// How many values were summarised.
    pub n: u64,
    /// Arithmetic mean.
    pub mean: f64,
    /// Sample standard deviation.
    pub stddev: f64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// 10th percentile (the slow tail of a rate).
    pub p10: f64,
    /// Median.
    pub p50: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// The percentiles' 95 % distribution-free intervals (order
    /// statistics); absent in runs written before them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci: Option<PercentileIntervals>,
}

impl Stats {
    /// Summarises `values`, ignoring any that are not finite. Returns `None`
    /// when no finite value is left. Sorts `values` in place.
    pub fn from_values(values: &mut Vec<f64>) -> Option<Stats> {
        values.retain(|v| v.is_finite());
        if values.is_empty() {
            return None;
        }
        values.sort_by(f64::total_cmp);
        let n = values.len();
        let mean = kahan_sum(values) / n as f64;
        let var = if n > 1 {
            values.iter().map(|v| (v - mean).powi(2)).sum::<f64>() / (n - 1) as f64
        } else {
            0.0
        };
        Some(Stats {
            n: n as u64,
            mean,
            stddev: var.sqrt(),
            min: values[0],
            max: values[n - 1],
            p10: percentile_sorted(values, 10.0),
            p50: percentile_sorted(values, 50.0),
            p90: percentile_sorted(values, 90.0),
            p95: percentile_sorted(values, 95.0),
            p99: percentile_sorted(values, 99.0),
            ci: Some(PercentileIntervals::of_sorted(values)),
        })
    }

    /// The 95 % interval of one percentile; `None` for the mean, min and
    /// max, and in runs written before intervals.
    pub fn interval(&self, statistic: Statistic) -> Option<QuantileInterval> {
        let ci = self.ci.as_ref()?;
        match statistic {
            Statistic::P10 => Some(ci.p10),
            Statistic::P50 => Some(ci.p50),
            Statistic::P90 => Some(ci.p90),
            Statistic::P95 => Some(ci.p95),
            Statistic::P99 => Some(ci.p99),
            Statistic::Mean | Statistic::Min | Statistic::Max => None,
        }
    }

    /// The value of one statistic.
    pub fn get(&self, statistic: Statistic) -> f64 {
        match statistic {
            Statistic::Mean => self.mean,
            Statistic::Min => self.min,
            Statistic::Max => self.max,
            Statistic::P10 => self.p10,
            Statistic::P50 => self.p50,
            Statistic::P90 => self.p90,
            Statistic::P95 => self.p95,
            Statistic::P99 => self.p99,
        }
    }
}

/// The `p`-th percentile (0 ≤ p ≤ 100) of values sorted ascending, by linear
/// interpolation between closest ranks (type 7). `NaN` for an empty slice.
pub fn percentile_sorted(sorted: &[f64], p: f64) -> f64 {
    match sorted.len() {
        0 => f64::NAN,
        1 => sorted[0],
        n => {
            let h = (n - 1) as f64 * (p.clamp(0.0, 100.0) / 100.0);
            let lo = h.floor() as usize;
            let hi = (lo + 1).min(n - 1);
            sorted[lo] + (h - lo as f64) * (sorted[hi] - sorted[lo])
        }
    }
}

/// Sum with compensation, so a mean over 100 000 values is not off in the
/// last digits.
fn kahan_sum(values: &[f64]) -> f64 {
    let (mut sum, mut c) = (0.0f64, 0.0f64);
    for &v in values {
        let y = v - c;
        let t = sum + y;
        c = (t - sum) - y;
        sum = t;
    }
    sum
}

/// Which statistic of a metric a profile grades.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Statistic {
    /// The mean over requests (the seed's "average"; the default).
    #[default]
    Mean,
    /// The smallest value.
    Min,
    /// The largest value.
    Max,
    /// 10th percentile: for a rate, 90 % of requests were at least this fast.
    P10,
    /// Median.
    P50,
    /// 90th percentile: for a latency, 90 % of requests were at most this slow.
    P90,
    /// 95th percentile.
    P95,
    /// 99th percentile.
    P99,
}

impl Statistic {
    /// Every statistic.
    pub const ALL: [Statistic; 8] = [
        Statistic::Mean,
        Statistic::Min,
        Statistic::Max,
        Statistic::P10,
        Statistic::P50,
        Statistic::P90,
        Statistic::P95,
        Statistic::P99,
    ];

    /// The id used in profiles and JSON.
    pub fn id(self) -> &'static str {
        match self {
            Statistic::Mean => "mean",
            Statistic::Min => "min",
            Statistic::Max => "max",
            Statistic::P10 => "p10",
            Statistic::P50 => "p50",
            Statistic::P90 => "p90",
            Statistic::P95 => "p95",
            Statistic::P99 => "p99",
        }
    }
}

impl fmt::Display for Statistic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

impl FromStr for Statistic {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Statistic::ALL
            .into_iter()
            .find(|st| st.id() == s)
            .ok_or_else(|| {
                format!(
                    "unknown statistic '{s}'; use one of {}",
                    Statistic::ALL.map(Statistic::id).join(", ")
                )
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn percentiles_match_numpy_default() {
        // numpy.percentile([1, 2, 3, 4, 10], [10, 50, 90, 99]) = 1.4, 3, 7.6, 9.76
        let s = Stats::from_values(&mut vec![10.0, 1.0, 3.0, 2.0, 4.0]).unwrap();
        assert!((s.p10 - 1.4).abs() < 1e-12);
        assert_eq!(s.p50, 3.0);
        assert!((s.p90 - 7.6).abs() < 1e-12);
        assert!((s.p99 - 9.76).abs() < 1e-12);
        assert_eq!((s.min, s.max, s.mean), (1.0, 10.0, 4.0));
        // numpy.std(..., ddof=1) = 3.5355339059327378
        assert!((s.stddev - 3.535_533_905_932_737_8).abs() < 1e-12);
    }

    #[test]
    fn one_value_has_zero_spread() {
        let s = Stats::from_values(&mut vec![2.5]).unwrap();
        assert_eq!((s.stddev, s.p99, s.p10), (0.0, 2.5, 2.5));
    }

    #[test]
    fn non_finite_values_are_dropped() {
        assert!(Stats::from_values(&mut vec![f64::NAN, f64::INFINITY]).is_none());
        let s = Stats::from_values(&mut vec![f64::NAN, 1.0, 3.0]).unwrap();
        assert_eq!((s.n, s.mean), (2, 2.0));
    }

    #[test]
    fn statistic_ids_parse() {
        for st in Statistic::ALL {
            assert_eq!(st.id().parse::<Statistic>().unwrap(), st);
        }
        assert!("p42".parse::<Statistic>().unwrap_err().contains("p90"));
    }

    proptest! {
        #[test]
        fn ordered_and_bounded(mut v in prop::collection::vec(-1e9f64..1e9, 1..200)) {
            let s = Stats::from_values(&mut v).unwrap();
            prop_assert!(s.min <= s.p10 && s.p10 <= s.p50 && s.p50 <= s.p90);
            prop_assert!(s.p90 <= s.p95 && s.p95 <= s.p99 && s.p99 <= s.max);
            prop_assert!(s.min <= s.mean + 1e-6 && s.mean <= s.max + 1e-6);
            prop_assert!(s.stddev >= 0.0 && s.stddev.is_finite());
        }
    }
}
