//! One module per chart. Each takes plain data and returns an `<svg>`
//! string (or a small HTML fragment); none reads files.

pub mod cdf;
pub mod per_second;
pub mod prefill;
pub mod sweep;
pub mod timeline;
pub mod turns;
pub mod typing;

use crate::svg::Plot;
use tokenpace_core::metric::{Direction, Metric};
use tokenpace_core::profile::Rule;

/// The CSS classes of the series colours, in order.
pub const SERIES: [&str; 8] = ["s0", "s1", "s2", "s3", "s4", "s5", "s6", "s7"];

/// The class of the `i`-th series.
pub fn series(i: usize) -> &'static str {
    SERIES[i % SERIES.len()]
}

/// The value ranges of tier A, B and C under `rule`, each `(from, to,
/// class)`, clipped to `[lo, hi]`.
pub fn tier_ranges(metric: Metric, rule: &Rule, lo: f64, hi: f64) -> Vec<(f64, f64, &'static str)> {
    let higher = metric.direction() != Some(Direction::LowerIsBetter);
    let b = rule.b.unwrap_or(rule.a);
    let ranges = if higher {
        vec![
            (rule.a, hi, "tier-a"),
            (b, rule.a, "tier-b"),
            (lo, b, "tier-c"),
        ]
    } else {
        vec![
            (lo, rule.a, "tier-a"),
            (rule.a, b, "tier-b"),
            (b, hi, "tier-c"),
        ]
    };
    ranges
        .into_iter()
        .map(|(f, t, c)| (f.max(lo), t.min(hi), c))
        .filter(|(f, t, _)| t > f)
        .collect()
}

/// Shades the tier zones along the x axis and draws the boundaries.
pub fn tier_bands_x(plot: &mut Plot, metric: Metric, rule: &Rule, lo: f64, hi: f64) {
    for (f, t, class) in tier_ranges(metric, rule, lo, hi) {
        plot.band_x(f, t, class);
    }
    for (label, v) in boundaries(metric, rule) {
        plot.vline(v, "boundary", &label);
    }
}

/// Shades the tier zones along the y axis and draws the boundaries.
pub fn tier_bands_y(plot: &mut Plot, metric: Metric, rule: &Rule, lo: f64, hi: f64) {
    for (f, t, class) in tier_ranges(metric, rule, lo, hi) {
        plot.band_y(f, t, class);
    }
    for (label, v) in boundaries(metric, rule) {
        plot.hline(v, "boundary", &label);
    }
}

/// "A < 2 s", "B ≥ 20 tok/s": the label of each boundary.
fn boundaries(metric: Metric, rule: &Rule) -> Vec<(String, f64)> {
    let op = if metric.direction() == Some(Direction::LowerIsBetter) {
        "<"
    } else {
        "≥"
    };
    let unit = metric.unit();
    let mut out = vec![(
        format!("A {op} {} {unit}", crate::format::tick(rule.a)),
        rule.a,
    )];
    if let Some(b) = rule.b {
        out.push((format!("B {op} {} {unit}", crate::format::tick(b)), b));
    }
    out
}

/// Up to `n` evenly spaced quantiles of sorted values, so a chart of 100 000
/// samples stays small.
pub fn thin(sorted: &[f64], n: usize) -> Vec<(f64, f64)> {
    let len = sorted.len();
    if len == 0 {
        return Vec::new();
    }
    let step = (len as f64 / n as f64).max(1.0);
    let mut out = Vec::new();
    let mut i = 0.0f64;
    while (i as usize) < len {
        let k = i as usize;
        out.push((sorted[k], (k + 1) as f64 / len as f64));
        i += step;
    }
    if out.last().map(|p| p.1) != Some(1.0) {
        out.push((sorted[len - 1], 1.0));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::profile::Profile;

    #[test]
    fn tier_zones_follow_the_direction() {
        let seed = Profile::builtin();
        let ttft = tier_ranges(Metric::TtftS, &seed.metrics[&Metric::TtftS], 0.0, 5.0);
        assert_eq!(
            ttft,
            vec![
                (0.0, 2.0, "tier-a"),
                (2.0, 3.0, "tier-b"),
                (3.0, 5.0, "tier-c")
            ]
        );
        let decode = tier_ranges(
            Metric::DecodeTokS,
            &seed.metrics[&Metric::DecodeTokS],
            0.0,
            25.0,
        );
        assert_eq!(decode, vec![(20.0, 25.0, "tier-b"), (0.0, 20.0, "tier-c")]);
        let chars = tier_ranges(
            Metric::OutputCharsS,
            &seed.metrics[&Metric::OutputCharsS],
            0.0,
            50.0,
        );
        assert_eq!(chars, vec![(25.0, 50.0, "tier-a"), (0.0, 25.0, "tier-c")]);
    }

    #[test]
    fn thinning_keeps_the_ends() {
        let v: Vec<f64> = (0..10_000).map(f64::from).collect();
        let t = thin(&v, 100);
        assert!(t.len() <= 102);
        assert_eq!(t[0], (0.0, 1e-4));
        assert_eq!(*t.last().unwrap(), (9999.0, 1.0));
    }
}
