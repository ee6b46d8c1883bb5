//! Comparing runs: the change of each metric from a baseline, whether it is
//! beyond noise, and whether a tier changed.
//!
//! A change is **significant** when the Mann-Whitney U test on the
//! per-request values gives p < `alpha` (0.01 by default) *and* the graded
//! statistic moved by more than `min_change_pct` (2 % by default): with
//! thousands of requests a test finds differences no user would notice,
//! and with a handful a large change may still be chance.

use crate::level::Level;
use crate::mannwhitney::{mann_whitney_u, MannWhitney};
use serde::{Deserialize, Serialize};
use tokenpace_core::confidence::{welch, Interval, Welch};
use tokenpace_core::grade::{Grade, Tier};
use tokenpace_core::metric::{Direction, Metric};
use tokenpace_core::profile::Profile;
use tokenpace_core::quantile_interval::QuantileInterval;
use tokenpace_core::repeats::{percentile_spans, PercentileSpan};
use tokenpace_core::stats::Statistic;

/// When a change counts as beyond noise.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CompareOptions {
    /// Largest p-value that counts as significant.
    pub alpha: f64,
    /// Smallest relative change of the statistic that matters, percent.
    pub min_change_pct: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions {
            alpha: 0.01,
            min_change_pct: 2.0,
        }
    }
}

/// Ungraded metrics compared besides the profile's (on their mean).
pub const EXTRA: [Metric; 2] = [Metric::ItlS, Metric::E2eS];

/// What happened to one metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Verdict {
    /// Significantly better.
    Better,
    /// Significantly worse.
    Worse,
    /// No change beyond noise.
    Same,
}

/// One metric of one run against the baseline.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Change {
    /// The metric.
    pub metric: Metric,
    /// The statistic compared (the profile's for graded metrics, else the mean).
    pub statistic: Statistic,
    /// The baseline's value.
    pub base: f64,
    /// This run's value.
    pub value: f64,
    /// The baseline's 95 % interval of a percentile, from its requests
    /// (order statistics); `None` for the mean.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_interval: Option<QuantileInterval>,
    /// This run's, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub interval: Option<QuantileInterval>,
    /// When the baseline's interval of a graded percentile spans a tier
    /// boundary: the tiers it spans (one run does not settle its tier).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub base_span: Option<PercentileSpan>,
    /// This run's, likewise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub span: Option<PercentileSpan>,
    /// (value − base) ÷ base, percent; `None` when the base is 0.
    pub change_pct: Option<f64>,
    /// The change with the sign turned so that positive is worse (slower,
    /// later); `None` when the base is 0 or the metric has no direction.
    pub worse_pct: Option<f64>,
    /// The rank test on per-request values, when both runs had some.
    pub test: Option<MannWhitney>,
    /// With repeats in both runs (`bench --repeat`): each run's interval
    /// and Welch's test over the per-repeat values, which then decides
    /// significance, the repeats being the independent samples.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<RepeatChange>,
    /// Beyond noise: p < alpha and |change| > the practical threshold.
    pub significant: bool,
    /// Better, worse or the same.
    pub verdict: Verdict,
    /// Whether the profile grades this metric.
    pub graded: bool,
    /// The baseline's tier, for graded metrics.
    pub base_tier: Option<Tier>,
    /// This run's tier, for graded metrics.
    pub tier: Option<Tier>,
    /// The metric is graded pass or fail (tier A passes, C fails), as
    /// `bench` shows output speed.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub pass_fail: bool,
}

impl Change {
    /// `tier` as `bench` shows it: A, B or C, or pass/fail for a pass/fail
    /// metric.
    pub fn tier_text(&self, tier: Tier, lang: tokenpace_present::Lang) -> String {
        match (self.pass_fail, tier) {
            (false, t) => t.to_string(),
            (true, Tier::A) => lang.pick("pass", "达标").into(),
            (true, _) => lang.pick("fail", "未达标").into(),
        }
    }
}

/// One metric's repeats in both runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RepeatChange {
    /// The baseline's 95 % interval over its repeats.
    pub base: Interval,
    /// This run's.
    pub run: Interval,
    /// Welch's t-test of the per-repeat values.
    pub test: Welch,
}

/// One run against the baseline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Comparison {
    /// The baseline's name.
    pub base: String,
    /// This run's name.
    pub run: String,
    /// One entry per compared metric that both runs measured.
    pub changes: Vec<Change>,
}

impl Change {
    /// The p-value that decided significance: Welch's over the repeats
    /// when both runs had them, else Mann-Whitney's over the requests.
    pub fn p_value(&self) -> Option<f64> {
        match &self.repeats {
            Some(r) => Some(r.test.p_value),
            None => self.test.map(|t| t.p_value),
        }
    }
}

impl Comparison {
    /// The graded metrics that got significantly worse by more than `pct`
    /// percent (for `--fail-on-regression`).
    pub fn regressions(&self, pct: f64) -> Vec<&Change> {
        self.changes
            .iter()
            .filter(|c| c.graded && c.significant && c.worse_pct.is_some_and(|w| w > pct))
            .collect()
    }
}

/// Compares `run` with `base` on the profile's graded metrics and
/// [`EXTRA`].
pub fn compare(base: &Level, run: &Level, profile: &Profile, opts: &CompareOptions) -> Comparison {
    let metrics = profile
        .metrics
        .iter()
        .map(|(&m, rule)| (m, rule.statistic, true))
        .chain(
            EXTRA
                .into_iter()
                .filter(|m| !profile.metrics.contains_key(m))
                .map(|m| (m, Statistic::Mean, false)),
        );
    // Each run graded as `bench` graded it: prefill only where it was
    // measured, so a tier `bench` withheld is not made up here.
    let grade = |l: &Level| profile.grade_run(|m, st| l.summary.get(m, st), None).ok();
    let (base_grade, run_grade) = (grade(base), grade(run));
    let mut changes = Vec::new();
    for (metric, statistic, graded) in metrics {
        let (Some(b), Some(v)) = (
            base.summary.get(metric, statistic),
            run.summary.get(metric, statistic),
        ) else {
            continue;
        };
        let change_pct = (b != 0.0).then(|| (v - b) / b.abs() * 100.0);
        let worse_pct = match metric.direction() {
            Some(Direction::LowerIsBetter) => change_pct,
            Some(Direction::HigherIsBetter) => change_pct.map(|c| -c),
            None => None,
        };
        let test = mann_whitney_u(&base.values(metric), &run.values(metric));
        let repeats = repeat_change(base, run, metric, statistic);
        let p = match &repeats {
            Some(r) => Some(r.test.p_value),
            None => test.map(|t| t.p_value),
        };
        let significant = p.is_some_and(|p| p < opts.alpha)
            && change_pct.is_some_and(|c| c.abs() > opts.min_change_pct);
        let verdict = match (significant, worse_pct) {
            (true, Some(w)) if w > 0.0 => Verdict::Worse,
            (true, Some(_)) => Verdict::Better,
            _ => Verdict::Same,
        };
        let (base_tier, run_tier) = (tier_of(&base_grade, metric), tier_of(&run_grade, metric));
        changes.push(Change {
            metric,
            statistic,
            base: b,
            value: v,
            base_interval: interval_of(base, metric, statistic),
            interval: interval_of(run, metric, statistic),
            base_span: graded.then(|| unsettled(base, profile, metric)).flatten(),
            span: graded.then(|| unsettled(run, profile, metric)).flatten(),
            change_pct,
            worse_pct,
            test,
            repeats,
            significant,
            verdict,
            graded,
            base_tier: base_tier.map(|t| t.0),
            tier: run_tier.map(|t| t.0),
            pass_fail: base_tier.or(run_tier).is_some_and(|t| t.1),
        });
    }
    // Report order: the order of Metric::ALL, then the run-level metrics.
    changes.sort_by_key(|c| {
        Metric::ALL
            .iter()
            .chain(&Metric::RUN)
            .position(|m| *m == c.metric)
    });
    Comparison {
        base: base.name.clone(),
        run: run.name.clone(),
        changes,
    }
}

/// `metric`'s tier in `grade`, and whether it is graded pass or fail.
fn tier_of(grade: &Option<Grade>, metric: Metric) -> Option<(Tier, bool)> {
    let g = grade
        .as_ref()?
        .metrics
        .iter()
        .find(|g| g.metric == metric)?;
    Some((g.tier, g.pass.is_some()))
}

/// The tiers `metric`'s graded percentile spans in `level`, when its
/// interval crosses a tier boundary (as `bench` says of one run).
fn unsettled(level: &Level, profile: &Profile, metric: Metric) -> Option<PercentileSpan> {
    percentile_spans(profile, &level.summary.metrics)
        .into_iter()
        .find(|s| s.metric == metric && !s.separable())
}

/// A percentile's interval in `level`'s summary.
fn interval_of(level: &Level, metric: Metric, statistic: Statistic) -> Option<QuantileInterval> {
    level.summary.metrics.get(&metric)?.interval(statistic)
}

/// Both runs' repeats of one statistic and Welch's test, when both were
/// repeated.
fn repeat_change(base: &Level, run: &Level, metric: Metric, st: Statistic) -> Option<RepeatChange> {
    let (a, b) = (
        base.summary.repeats.as_ref()?,
        run.summary.repeats.as_ref()?,
    );
    let (va, vb) = (a.values(metric, st), b.values(metric, st));
    Some(RepeatChange {
        base: Interval::of(&va)?,
        run: Interval::of(&vb)?,
        test: welch(&va, &vb)?,
    })
}

/// The workload settings that differ between the runs ("concurrency 4 / 8"):
/// their changes are then not the server's alone.
pub fn workload_differences(runs: &[Level]) -> Vec<String> {
    type Field = (&'static str, fn(&Level) -> Option<String>);
    let fields: [Field; 4] = [
        ("concurrency", |r| {
            r.summary.settings.concurrency.map(|v| v.to_string())
        }),
        ("rate", |r| r.summary.settings.rate.map(|v| v.to_string())),
        ("prompt_tokens", |r| {
            r.summary.settings.prompt_tokens.map(|v| v.to_string())
        }),
        ("max_tokens", |r| {
            r.summary.settings.max_tokens.map(|v| v.to_string())
        }),
    ];
    fields
        .iter()
        .filter_map(|(name, get)| {
            let values: Vec<String> = runs
                .iter()
                .map(|r| get(r).unwrap_or_else(|| "-".into()))
                .collect();
            values
                .iter()
                .any(|v| *v != values[0])
                .then(|| format!("{name} {}", values.join(" / ")))
        })
        .collect()
}

/// A run's name as given, made unique among the runs so far (`a`, `a#2`).
pub fn unique_name(name: &str, runs: &[Level]) -> String {
    let base = name.trim_end_matches('/').to_string();
    if runs.iter().any(|r| r.name == base) {
        format!("{base}#{}", runs.len() + 1)
    } else {
        base
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::tests::level;

    #[test]
    fn a_slower_decode_is_a_significant_regression() {
        let base = level("base", 30, 200, 25);
        let slow = level("slow", 30, 200, 40);
        let c = compare(
            &base,
            &slow,
            &Profile::builtin(),
            &CompareOptions::default(),
        );
        let decode = c
            .changes
            .iter()
            .find(|c| c.metric == Metric::DecodeTokS)
            .unwrap();
        assert!(decode.significant && decode.verdict == Verdict::Worse);
        assert!((decode.change_pct.unwrap() - (25.0 / 40.0 - 1.0) * 100.0).abs() < 1e-6);
        assert_eq!(
            (decode.base_tier, decode.tier),
            (Some(Tier::A), Some(Tier::B))
        );
        let ttft = c
            .changes
            .iter()
            .find(|c| c.metric == Metric::TtftS)
            .unwrap();
        assert_eq!(ttft.verdict, Verdict::Same);
        assert_eq!(c.regressions(10.0).len(), 2, "decode and output speed");
        assert!(c.regressions(40.0).is_empty());
        // The other way round it is an improvement, not a regression.
        let back = compare(
            &slow,
            &base,
            &Profile::builtin(),
            &CompareOptions::default(),
        );
        assert!(back.regressions(0.0).is_empty());
    }

    #[test]
    fn identical_runs_show_no_change() {
        let a = level("a", 20, 200, 25);
        let c = compare(
            &a,
            &a.clone(),
            &Profile::builtin(),
            &CompareOptions::default(),
        );
        assert!(c.changes.iter().all(|c| !c.significant));
        assert!(c.changes.iter().any(|c| c.metric == Metric::ItlS));
    }

    #[test]
    fn a_graded_percentile_carries_each_runs_interval_and_a_mean_none() {
        let profile = Profile::from_toml(
            "name = \"p90\"\n[metrics.ttft_s]\nstatistic = \"p90\"\na = 1.5\nb = 2.5\n",
        )
        .unwrap();
        let (a, b) = (level("a", 60, 200, 25), level("b", 60, 300, 25));
        let c = compare(&a, &b, &profile, &CompareOptions::default());
        let ttft = c
            .changes
            .iter()
            .find(|c| c.metric == Metric::TtftS)
            .unwrap();
        assert_eq!(ttft.statistic, Statistic::P90);
        for (v, iv) in [(ttft.base, ttft.base_interval), (ttft.value, ttft.interval)] {
            let iv = iv.expect("a percentile has its interval");
            let (lo, hi) = (iv.low.unwrap(), iv.high.unwrap());
            assert!(lo <= v && v <= hi && lo < hi, "{lo} {v} {hi}");
        }
        // The runs' TTFTs are 0.2–0.79 s and 0.3–0.89 s: the p90s' intervals
        // are their own.
        assert!(ttft.interval.unwrap().low > ttft.base_interval.unwrap().low);
        let itl = c.changes.iter().find(|c| c.metric == Metric::ItlS).unwrap();
        assert_eq!(itl.statistic, Statistic::Mean);
        assert_eq!((itl.base_interval, itl.interval), (None, None));
    }

    /// A tier boundary inside a run's interval of its graded percentile is
    /// said for that run, and only for it.
    #[test]
    fn a_tier_boundary_inside_a_runs_interval_is_said() {
        // p90 TTFT intervals: about 0.68–0.77 s for `a`, 0.78–0.87 s for `b`.
        let profile = Profile::from_toml(
            "name = \"p90\"\n[metrics.ttft_s]\nstatistic = \"p90\"\na = 0.82\nb = 2.5\n",
        )
        .unwrap();
        let (a, b) = (level("a", 60, 200, 25), level("b", 60, 300, 25));
        let c = compare(&a, &b, &profile, &CompareOptions::default());
        let ttft = c
            .changes
            .iter()
            .find(|c| c.metric == Metric::TtftS)
            .unwrap();
        let (base, run) = (ttft.base_interval.unwrap(), ttft.interval.unwrap());
        assert!(ttft.base_span.is_none(), "{base:?}");
        let span = ttft.span.expect("b's interval holds 0.82 s");
        assert_eq!((span.best, span.worst), (Tier::A, Tier::B), "{run:?}");
        assert_eq!((span.low, span.high), (run.low.unwrap(), run.high.unwrap()));
        // A metric graded on its mean has no interval to span.
        assert!(c
            .changes
            .iter()
            .all(|c| c.metric == Metric::TtftS || c.span.is_none()));
        // The page says it under the table, as the terminal does.
        let html = crate::compare_page::comparison_table(&c, crate::lang::Lang::En);
        assert!(
            html.contains(
                "<p class=\"note\">? b: TTFT p90: B or A: not separable with 60 requests"
            ),
            "{html}"
        );
        assert!(!html.contains("? a:"), "{html}");
    }
}
