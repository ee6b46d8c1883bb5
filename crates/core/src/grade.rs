//! Grading: which tier each metric reaches under a [`Profile`], what it was
//! judged against, and how far it is from the next tier.

use crate::metric::{Direction, Metric};
use crate::prefill::{self, PrefillBasis, PrefillNotMeasurable, PrefillSource};
use crate::profile::{Profile, Rule};
use crate::regression::PrefillFit;
use crate::stats::Statistic;
use serde::{Deserialize, Serialize};
use std::fmt;

/// A tier, best first: A < B < C in the derived order, so the overall tier
/// is the maximum.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
pub enum Tier {
    /// Feels instant.
    A,
    /// Acceptable, noticeably slower.
    B,
    /// Users leave.
    C,
}

impl fmt::Display for Tier {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Tier::A => "A",
            Tier::B => "B",
            Tier::C => "C",
        })
    }
}

/// How one metric was graded.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricGrade {
    /// The metric.
    pub metric: Metric,
    /// The graded value.
    pub value: f64,
    /// The statistic the value is (`None` when it was given directly).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub statistic: Option<Statistic>,
    /// The tier reached.
    pub tier: Tier,
    /// For a pass/fail metric (no tier B): whether it passed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pass: Option<bool>,
    /// The boundary the value was judged against: the one of the tier it
    /// reached, or for tier C the boundary it missed.
    pub threshold: f64,
    /// The next better tier, when there is one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next_tier: Option<Tier>,
    /// Change of the value needed to reach `next_tier`: positive for rates
    /// (reach at least the boundary), negative for latencies (get strictly
    /// below the boundary). For tier A, the headroom: how much the value may
    /// worsen before it drops out of A (same sign convention).
    pub margin: f64,
    /// Where the value came from, for prefill (which has several sources).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<PrefillSource>,
}

/// A graded run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Grade {
    /// The profile's name.
    pub profile: String,
    /// One entry per graded metric, in metric order.
    pub metrics: Vec<MetricGrade>,
    /// The worst tier of all metrics; `None` when nothing was graded.
    pub overall: Option<Tier>,
    /// Set when the profile grades prefill but the run could not measure
    /// it (short prompts, no sweep, no server timings): it is left out of
    /// the grade rather than graded on a lower bound.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_not_measurable: Option<PrefillNotMeasurable>,
    /// The client, not the server, limited the run ([`crate::ceiling`]):
    /// the overall tier is capped below A.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub client_limited: bool,
}

impl Grade {
    /// Whether any metric is below `tier` (for `--fail-below`).
    /// A run the client limited is below A whatever its metrics.
    pub fn any_below(&self, tier: Tier) -> bool {
        self.overall.is_some_and(|o| o > tier) || self.metrics.iter().any(|m| m.tier > tier)
    }
}

/// A value that cannot be graded.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{metric}: {value} is not a valid value (it must be a finite number ≥ 0)")]
pub struct InvalidValue {
    /// The metric.
    pub metric: Metric,
    /// The offending value.
    pub value: f64,
}

impl Rule {
    /// Grades one value of `metric` under this rule.
    pub fn grade(&self, metric: Metric, value: f64) -> Result<MetricGrade, InvalidValue> {
        if !value.is_finite() || value < 0.0 {
            return Err(InvalidValue { metric, value });
        }
        // Profiles are validated, so a graded metric has a direction; a
        // metric without one is treated as higher-is-better rather than panic.
        let higher = metric.direction() != Some(Direction::LowerIsBetter);
        let reaches = |boundary: f64| {
            if higher {
                value >= boundary
            } else {
                value < boundary
            }
        };
        // Signed change from value to boundary: what to add to reach it
        // (rates), or how far below the value it is (latencies, negative).
        let to = |boundary: f64| boundary - value;
        let (tier, threshold, next_tier, margin) = if reaches(self.a) {
            (Tier::A, self.a, None, -to(self.a))
        } else {
            match self.b {
                Some(b) if reaches(b) => (Tier::B, b, Some(Tier::A), to(self.a)),
                Some(b) => (Tier::C, b, Some(Tier::B), to(b)),
                None => (Tier::C, self.a, Some(Tier::A), to(self.a)),
            }
        };
        // For latencies, tier-A headroom is positive when below the boundary.
        let margin = if tier == Tier::A && !higher {
            -margin
        } else {
            margin
        };
        Ok(MetricGrade {
            metric,
            value,
            statistic: None,
            tier,
            pass: self.b.is_none().then_some(tier == Tier::A),
            threshold,
            next_tier,
            margin: tidy(margin),
            source: None,
        })
    }
}

/// Rounds away the last-digit noise of a subtraction (1.8 − 2.0 is
/// −0.19999999999999996) and the sign of a zero, so margins read as typed.
fn tidy(x: f64) -> f64 {
    let r = (x * 1e9).round() / 1e9;
    if r == 0.0 {
        0.0
    } else {
        r
    }
}

impl Profile {
    /// Grades the metrics `lookup` can provide. `lookup(metric, statistic)`
    /// returns the statistic of that metric, or `None` when it was not
    /// measured (such metrics are left out). `given` marks values that were
    /// supplied directly rather than computed as the rule's statistic.
    pub fn grade(
        &self,
        mut lookup: impl FnMut(Metric, Statistic) -> Option<f64>,
        given: bool,
    ) -> Result<Grade, InvalidValue> {
        let mut metrics = Vec::new();
        for (&metric, rule) in &self.metrics {
            let Some(value) = lookup(metric, rule.statistic) else {
                continue;
            };
            let mut g = rule.grade(metric, value)?;
            g.statistic = (!given && !metric.is_run_level()).then_some(rule.statistic);
            metrics.push(g);
        }
        let overall = metrics.iter().map(|m| m.tier).max();
        Ok(Grade {
            profile: self.name.clone(),
            metrics,
            overall,
            prefill_not_measurable: None,
            client_limited: false,
        })
    }

    /// Grades a measured run whose statistics `get(metric, statistic)`
    /// reads (`RunSummary::get`): every metric as measured, except prefill,
    /// which is graded only where it was measured ([`prefill::basis`]): from
    /// the prefill `line` of a prompt-length sweep when given, the server's
    /// timings, long prompts, or a lower bound already in tier A.
    pub fn grade_run(
        &self,
        get: impl Fn(Metric, Statistic) -> Option<f64>,
        line: Option<&PrefillFit>,
    ) -> Result<Grade, InvalidValue> {
        let basis = self
            .metrics
            .get(&Metric::PrefillTokS)
            .and_then(|rule| prefill::basis(&get, rule.statistic, line, rule.a));
        let mut grade = self.grade(
            |m, st| match (m, basis) {
                (Metric::PrefillTokS, Some(PrefillBasis::Graded { value, .. })) => Some(value),
                (Metric::PrefillTokS, _) => None,
                _ => get(m, st),
            },
            false,
        )?;
        match basis {
            Some(PrefillBasis::Graded { source, .. }) => {
                for m in &mut grade.metrics {
                    if m.metric == Metric::PrefillTokS {
                        m.source = Some(source);
                    }
                }
            }
            Some(PrefillBasis::NotMeasurable(why)) => grade.prefill_not_measurable = Some(why),
            None => {}
        }
        Ok(grade)
    }

    /// Grades values given directly, e.g. from command-line flags.
    pub fn grade_values(&self, values: &[(Metric, f64)]) -> Result<Grade, InvalidValue> {
        self.grade(
            |m, _| values.iter().find(|(vm, _)| *vm == m).map(|(_, v)| *v),
            true,
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn tier(metric: Metric, value: f64) -> Tier {
        Profile::builtin().metrics[&metric]
            .grade(metric, value)
            .unwrap()
            .tier
    }

    #[test]
    fn seed_boundaries_are_half_open_as_written() {
        use Metric::*;
        assert_eq!(tier(TtftS, 1.999), Tier::A);
        assert_eq!(tier(TtftS, 2.0), Tier::B);
        assert_eq!(tier(TtftS, 2.999), Tier::B);
        assert_eq!(tier(TtftS, 3.0), Tier::C);
        assert_eq!(tier(DecodeTokS, 30.0), Tier::A);
        assert_eq!(tier(DecodeTokS, 29.99), Tier::B);
        assert_eq!(tier(DecodeTokS, 20.0), Tier::B);
        assert_eq!(tier(DecodeTokS, 19.99), Tier::C);
        assert_eq!(tier(PrefillTokS, 1000.0), Tier::A);
        assert_eq!(tier(PrefillTokS, 999.0), Tier::B);
        assert_eq!(tier(PrefillTokS, 500.0), Tier::B);
        assert_eq!(tier(PrefillTokS, 499.9), Tier::C);
        assert_eq!(tier(OutputCharsS, 25.0), Tier::A);
        assert_eq!(tier(OutputCharsS, 24.9), Tier::C);
    }

    #[test]
    fn margins_say_how_far_to_the_next_tier() {
        let p = Profile::builtin();
        let g = p.metrics[&Metric::DecodeTokS]
            .grade(Metric::DecodeTokS, 22.0)
            .unwrap();
        assert_eq!(
            (g.tier, g.threshold, g.next_tier),
            (Tier::B, 20.0, Some(Tier::A))
        );
        assert!((g.margin - 8.0).abs() < 1e-12);
        let g = p.metrics[&Metric::TtftS].grade(Metric::TtftS, 2.4).unwrap();
        assert_eq!((g.tier, g.threshold), (Tier::B, 3.0));
        assert_eq!(g.margin, -0.4);
        let g = p.metrics[&Metric::TtftS].grade(Metric::TtftS, 1.5).unwrap();
        assert_eq!((g.tier, g.next_tier), (Tier::A, None));
        assert_eq!(g.margin, 0.5, "headroom");
        let g = p.metrics[&Metric::PrefillTokS]
            .grade(Metric::PrefillTokS, 1000.0)
            .unwrap();
        assert!(g.margin == 0.0 && g.margin.is_sign_positive());
        let g = p.metrics[&Metric::OutputCharsS]
            .grade(Metric::OutputCharsS, 21.0)
            .unwrap();
        assert_eq!((g.tier, g.pass, g.threshold), (Tier::C, Some(false), 25.0));
        assert!((g.margin - 4.0).abs() < 1e-12);
        let g = p.metrics[&Metric::PrefillTokS]
            .grade(Metric::PrefillTokS, 300.0)
            .unwrap();
        assert_eq!(
            (g.tier, g.threshold, g.next_tier),
            (Tier::C, 500.0, Some(Tier::B))
        );
        assert_eq!(g.margin, 200.0);
    }

    #[test]
    fn the_issue_example_grades_a_a_b_and_fails_output() {
        let g = Profile::builtin()
            .grade_values(&[
                (Metric::TtftS, 1.8),
                (Metric::PrefillTokS, 1200.0),
                (Metric::DecodeTokS, 28.0),
                (Metric::OutputCharsS, 24.0),
            ])
            .unwrap();
        let tiers: Vec<_> = g.metrics.iter().map(|m| (m.metric, m.tier)).collect();
        assert_eq!(
            tiers,
            vec![
                (Metric::TtftS, Tier::A),
                (Metric::PrefillTokS, Tier::A),
                (Metric::DecodeTokS, Tier::B),
                (Metric::OutputCharsS, Tier::C),
            ]
        );
        assert_eq!(g.overall, Some(Tier::C));
        assert!(g.any_below(Tier::B));
        assert!(g.any_below(Tier::A));
    }

    #[test]
    fn subsets_and_invalid_values() {
        let p = Profile::builtin();
        let g = p.grade_values(&[(Metric::DecodeTokS, 31.0)]).unwrap();
        assert_eq!((g.metrics.len(), g.overall), (1, Some(Tier::A)));
        assert!(!g.any_below(Tier::A));
        assert_eq!(p.grade_values(&[]).unwrap().overall, None);
        for bad in [f64::NAN, -1.0, f64::INFINITY] {
            assert!(p.grade_values(&[(Metric::TtftS, bad)]).is_err());
        }
    }

    #[test]
    fn grade_json_shape() {
        let g = Profile::builtin()
            .grade_values(&[(Metric::TtftS, 1.8)])
            .unwrap();
        let v: serde_json::Value = serde_json::to_value(&g).unwrap();
        assert_eq!(v["metrics"][0]["metric"], "ttft_s");
        assert_eq!(v["metrics"][0]["value"], 1.8);
        assert_eq!(v["metrics"][0]["tier"], "A");
        assert_eq!(v["overall"], "A");
    }
}
