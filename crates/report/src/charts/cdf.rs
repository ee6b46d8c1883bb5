//! A distribution as a cumulative curve (share of requests at or below a
//! value), one curve per run, over the tier zones of the metric.

use super::{series, thin, tier_bands_x};
use crate::lang::Lang;
use crate::level::Level;
use crate::svg::{Axis, Plot};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::{Profile, Rule};
use tokenpace_core::stats::Statistic;

/// The inter-token latency equivalent of the decode tiers: a stream
/// decoding at 30 tok/s has 1/30 s between tokens.
pub fn itl_rule(profile: &Profile) -> Option<Rule> {
    let d = profile.metrics.get(&Metric::DecodeTokS)?;
    Some(Rule {
        statistic: Statistic::Mean,
        a: 1.0 / d.a,
        b: d.b.map(|b| 1.0 / b),
    })
}

/// The CDF of `metric` over the per-request values of each level, one
/// curve per level, over the profile's tier zones (for inter-token
/// latency, the decode tiers as gaps). `None` when no level has a value.
pub fn of_levels(
    metric: Metric,
    levels: &[Level],
    profile: &Profile,
    lang: Lang,
) -> Option<String> {
    let label = match metric {
        Metric::DecodeTokS => lang
            .pick("decode, per stream (tok/s)", "单流解码速度 (tok/s)")
            .to_string(),
        Metric::OutputCharsS => lang
            .pick("output speed (chars/s)", "输出速度 (字/秒)")
            .to_string(),
        _ => tokenpace_present::labels::metric_with_unit(lang, metric),
    };
    let rule = match metric {
        Metric::ItlS => itl_rule(profile),
        _ => profile.metrics.get(&metric).copied(),
    };
    let series: Vec<(String, Vec<f64>)> = levels
        .iter()
        .map(|l| (l.name.clone(), l.values(metric)))
        .collect();
    chart(metric, &series, rule.as_ref(), &label, lang)
}

/// The CDF of `metric` for each `(name, values)` series, with the tier
/// zones of `rule` shaded. Returns `None` when no series has a value.
pub fn chart(
    metric: Metric,
    runs: &[(String, Vec<f64>)],
    rule: Option<&Rule>,
    axis_label: &str,
    lang: Lang,
) -> Option<String> {
    let mut sorted: Vec<(String, Vec<f64>)> = runs
        .iter()
        .map(|(n, v)| {
            let mut v: Vec<f64> = v.iter().copied().filter(|x| x.is_finite()).collect();
            v.sort_by(f64::total_cmp);
            (n.clone(), v)
        })
        .filter(|(_, v)| !v.is_empty())
        .collect();
    if sorted.is_empty() {
        return None;
    }
    // The x range: the data up to its 99.9th percentile, and the boundaries.
    let tail = sorted
        .iter()
        .map(|(_, v)| v[((v.len() - 1) as f64 * 0.999) as usize])
        .fold(0.0f64, f64::max);
    let floor = rule.map_or(0.0, |r| r.b.unwrap_or(r.a) * 1.15);
    let x = Axis::from_zero([tail], floor, axis_label);
    let y = Axis {
        min: 0.0,
        max: 1.0,
        label: lang.pick("share of requests", "请求占比").into(),
    };
    let (lo, hi) = (x.min, x.max);
    let mut plot = Plot::new(x, y);
    if let Some(rule) = rule {
        tier_bands_x(&mut plot, metric, rule, lo, hi);
    }
    plot.hline(0.5, "median", "p50");
    plot.hline(0.9, "median", "p90");
    for (i, (name, v)) in sorted.iter_mut().enumerate() {
        let mut points = vec![(v[0], 0.0)];
        points.extend(thin(v, 400));
        plot.step(&points, &format!("curve {}", series(i)));
        if runs.len() > 1 {
            plot.legend(series(i), name);
        }
    }
    Some(plot.finish(&format!(
        "{} — {}",
        lang.metric(metric),
        lang.pick("distribution", "分布")
    )))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::profile::Profile;

    #[test]
    fn draws_curves_and_zones() {
        let rule = Profile::builtin().metrics[&Metric::TtftS];
        let svg = chart(
            Metric::TtftS,
            &[("a".into(), vec![0.3, 0.5, 2.5]), ("b".into(), vec![1.0])],
            Some(&rule),
            "TTFT (s)",
            Lang::En,
        )
        .unwrap();
        assert_eq!(svg.matches("<polyline").count(), 2);
        assert!(svg.contains("tier-a") && svg.contains("tier-c"));
        assert!(svg.contains("A &lt; 2 s"), "{svg}");
        assert!(chart(Metric::TtftS, &[("a".into(), vec![])], None, "x", Lang::En).is_none());
    }
}
