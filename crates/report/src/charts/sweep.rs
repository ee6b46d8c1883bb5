//! Load sweeps: throughput and latency against the load level, with the
//! tier boundaries, one point per level.

use super::{series, tier_bands_y};
use crate::lang::Lang;
use crate::level::Level;
use crate::svg::{Axis, Plot};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::stats::Statistic;

/// The x positions (0, 1, 2, …) with the level names as labels, and the
/// axis title: levels are spaced evenly, as they usually grow by factors.
fn levels(runs: &[Level], lang: Lang) -> (Axis, Vec<(f64, String)>) {
    let labels: Vec<(f64, String)> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (i as f64, r.name.clone()))
        .collect();
    let axis = Axis {
        min: -0.3,
        max: (runs.len() as f64 - 0.7).max(0.7),
        label: lang.pick("load level", "负载档位").into(),
    };
    (axis, labels)
}

/// Output tokens per second over all streams, per level.
pub fn throughput(runs: &[Level], lang: Lang) -> String {
    let (x, labels) = levels(runs, lang);
    let pts: Vec<(f64, f64)> = runs
        .iter()
        .enumerate()
        .map(|(i, r)| (i as f64, r.summary.throughput.output_tok_s))
        .collect();
    let y = Axis::from_zero(
        pts.iter().map(|p| p.1),
        1.0,
        lang.pick("output tok/s, all streams", "输出 tok/s（所有流合计）"),
    );
    let mut plot = Plot::new(x, y).x_labels(labels);
    plot.line(&pts, "curve s0");
    plot.dots(&pts, "dot s0");
    plot.finish(lang.pick("throughput by load level", "各负载档位的吞吐"))
}

/// One metric's graded statistic (and p99 or p10, the bad tail) per level,
/// over its tier zones.
pub fn metric(runs: &[Level], metric: Metric, profile: &Profile, lang: Lang) -> Option<String> {
    let rule = profile.metrics.get(&metric);
    let main = rule.map_or(Statistic::Mean, |r| r.statistic);
    let tail = match metric.direction() {
        Some(tokenpace_core::metric::Direction::HigherIsBetter) => Statistic::P10,
        _ => Statistic::P99,
    };
    let get = |st: Statistic| -> Vec<(f64, f64)> {
        runs.iter()
            .enumerate()
            .filter_map(|(i, r)| r.summary.get(metric, st).map(|v| (i as f64, v)))
            .collect()
    };
    let (a, b) = (get(main), get(tail));
    if a.is_empty() {
        return None;
    }
    let (x, labels) = levels(runs, lang);
    let floor = rule.map_or(0.0, |r| r.a.max(r.b.unwrap_or(0.0)) * 1.15);
    let y = Axis::from_zero(
        a.iter().chain(&b).map(|p| p.1),
        floor,
        &format!("{} ({})", lang.metric(metric), metric.unit()),
    );
    let (lo, hi) = (y.min, y.max);
    let mut plot = Plot::new(x, y).x_labels(labels);
    if let Some(rule) = rule {
        tier_bands_y(&mut plot, metric, rule, lo, hi);
    }
    for (i, (pts, st)) in [(&a, main), (&b, tail)].into_iter().enumerate() {
        plot.line(pts, &format!("curve {}", series(i)));
        plot.dots(pts, &format!("dot {}", series(i)));
        plot.legend(series(i), st.id());
    }
    Some(plot.finish(&format!(
        "{} {}",
        lang.metric(metric),
        lang.pick("by load level", "随负载档位")
    )))
}
