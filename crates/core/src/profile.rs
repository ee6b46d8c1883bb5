//! Profiles: the thresholds a run is graded against.
//!
//! The built-in profile, [`Profile::builtin`] (id `default`), is tokenpace's UX table: three tiers
//! for prefill, decode and TTFT, and pass/fail for output characters per
//! second, all on the mean over requests. A user profile is a TOML file:
//!
//! ```toml
//! name = "strict-p90"
//! description = "90 % of users see tier A"
//! stall_threshold_ms = 250
//!
//! [metrics.ttft_s]
//! statistic = "p90"   # mean (default), min, max, p10, p50, p90, p95, p99
//! a = 2.0             # tier A below 2.0 s
//! b = 3.0             # tier B below 3.0 s, else C; omit b for pass/fail
//!
//! [metrics.decode_tok_s]
//! statistic = "p10"
//! a = 30              # tier A at 30 tok/s or more
//! b = 20
//! ```
//!
//! For rates (higher is better) a boundary is reached *at* its value; for
//! latencies (lower is better) a value must be strictly *below* it, so a TTFT
//! of exactly 2.0 s is tier B, as the tier table writes it.
//!
//! Every profile also grades `answered_pct`, the share of requests that got
//! an answer: a profile without a `[metrics.answered_pct]` table gets the
//! built-in rule (A at 99 % or more, i.e. at most 1 % failed; B at 95 %), so
//! a run where requests fail cannot grade A on the speed of the rest.

use crate::metric::{Direction, Metric};
use crate::stats::Statistic;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The boundaries of one graded metric.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(from = "RawRule", into = "RawRule")]
pub struct Rule {
    /// Which statistic over requests is graded.
    pub statistic: Statistic,
    /// The tier-A boundary.
    pub a: f64,
    /// The tier-B boundary; `None` makes the metric pass (A) or fail (C).
    pub b: Option<f64>,
}

#[derive(Debug, Clone, Copy, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
struct RawRule {
    #[serde(default)]
    statistic: Statistic,
    a: f64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    b: Option<f64>,
}

/// Boundaries are checked against their metric in [`Profile::validate`],
/// where an error can name the metric, the field and the allowed range.
impl From<RawRule> for Rule {
    fn from(raw: RawRule) -> Self {
        Rule {
            statistic: raw.statistic,
            a: raw.a,
            b: raw.b,
        }
    }
}

/// The boundaries a metric's rule may have, in its unit: a percentage
/// within 0–100, a time within a day, a rate or a count within a million.
/// Beyond them no measurement can land, so a boundary there is a typo.
pub fn allowed_range(metric: Metric) -> (f64, f64) {
    match metric.unit() {
        "%" => (0.0, 100.0),
        "s" => (0.0, 86_400.0),
        _ => (0.0, 1_000_000.0),
    }
}

/// The most `stall_threshold_ms` may be: a day.
const MAX_STALL_MS: f64 = 86_400_000.0;

/// `v` as written in a profile: plain, or in exponent form when huge.
fn shown(v: f64) -> String {
    if v.is_finite() && v.abs() < 1e9 {
        format!("{v}")
    } else {
        format!("{v:e}")
    }
}

/// Why `rule`'s boundaries do not fit `metric`'s range, naming the field.
fn out_of_range(metric: Metric, rule: &Rule) -> Option<String> {
    let (lo, hi) = allowed_range(metric);
    let unit = match metric.unit() {
        "" => String::new(),
        u => format!(" {u}"),
    };
    [("a", Some(rule.a)), ("b", rule.b)]
        .into_iter()
        .find_map(|(field, v)| {
            let v = v?;
            (!(lo..=hi).contains(&v)).then(|| {
                format!(
                    "{field} = {} is outside the allowed range {lo} to {hi}{unit}",
                    shown(v)
                )
            })
        })
}

impl From<Rule> for RawRule {
    fn from(r: Rule) -> Self {
        RawRule {
            statistic: r.statistic,
            a: r.a,
            b: r.b,
        }
    }
}

/// A named set of rules.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Profile {
    /// Short name, shown with every grade.
    pub name: String,
    /// What the profile is for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// A pause between two visible chunks longer than this is a stall a
    /// reader notices, milliseconds.
    #[serde(default = "default_stall_ms")]
    pub stall_threshold_ms: f64,
    /// The graded metrics and their boundaries.
    pub metrics: BTreeMap<Metric, Rule>,
}

fn default_stall_ms() -> f64 {
    250.0
}

/// Tier A of `answered_pct` by default: at least 99 % of requests answered
/// (at most 1 % failed), for `bench` and `capacity` alike.
pub const ANSWERED_PCT_A: f64 = 99.0;
/// Tier B of `answered_pct` by default: at least 95 % answered.
pub const ANSWERED_PCT_B: f64 = 95.0;

/// The built-in rule for `answered_pct`, which every profile grades.
pub fn answered_rule() -> Rule {
    Rule {
        statistic: Statistic::Mean,
        a: ANSWERED_PCT_A,
        b: Some(ANSWERED_PCT_B),
    }
}

/// A profile that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ProfileError {
    /// The TOML did not parse or did not fit the schema. The message names
    /// the line and column.
    #[error("{0}")]
    Syntax(String),
    /// A rule is inconsistent with its metric.
    #[error("metric '{metric}': {problem}")]
    Rule {
        /// The metric whose rule is wrong.
        metric: Metric,
        /// What is wrong and how to fix it.
        problem: String,
    },
    /// Other problems (no metrics, bad stall threshold).
    #[error("{0}")]
    Invalid(String),
}

/// The 1-based line of the `[metrics.<id>]` table (or a dotted
/// `metrics.<id>` key) of `metric` in `text`.
fn table_line(text: &str, metric: Metric) -> Option<usize> {
    let id = metric.id();
    text.lines()
        .position(|l| {
            let l = l.trim().replace(' ', "");
            l == format!("[metrics.{id}]") || l.starts_with(&format!("metrics.{id}"))
        })
        .map(|i| i + 1)
}

/// A TOML error on one line: where, then what.
pub(crate) fn syntax(text: &str, e: &toml::de::Error) -> ProfileError {
    let message = e.message().trim().replace('\n', "; ");
    let Some(at) = e.span().map(|s| s.start.min(text.len())) else {
        return ProfileError::Syntax(message);
    };
    let before = &text[..at];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    ProfileError::Syntax(format!("line {line}, column {column}: {message}"))
}

impl Profile {
    /// tokenpace's built-in UX profile (the four-metric tier table in the
    /// README), graded on the mean. Its id is `default`; the old id `seed`
    /// is an alias ([`Profile::builtin_named`]).
    pub fn builtin() -> Profile {
        Profile::builtin_default()
    }

    /// The built-in profile called `name`: `default`, or `seed` (its id
    /// before 0.2, kept so existing scripts keep working).
    pub fn builtin_named(name: &str) -> Option<Profile> {
        matches!(name, "default" | "seed").then(Profile::builtin_default)
    }

    fn builtin_default() -> Profile {
        let rule = |a, b| Rule {
            statistic: Statistic::Mean,
            a,
            b,
        };
        Profile {
            name: "default".into(),
            description: Some(
                "tokenpace's built-in UX tiers, graded on the mean over requests".into(),
            ),
            stall_threshold_ms: default_stall_ms(),
            metrics: BTreeMap::from([
                (Metric::PrefillTokS, rule(1000.0, Some(500.0))),
                (Metric::DecodeTokS, rule(30.0, Some(20.0))),
                (Metric::TtftS, rule(2.0, Some(3.0))),
                (Metric::OutputCharsS, rule(25.0, None)),
                (Metric::AnsweredPct, answered_rule()),
            ]),
        }
    }

    /// Parses and checks a TOML profile.
    pub fn from_toml(text: &str) -> Result<Profile, ProfileError> {
        let mut profile: Profile = toml::from_str(text).map_err(|e| syntax(text, &e))?;
        // Profiles written before failures were graded keep working, and
        // grade them on the built-in rule.
        if !profile.metrics.is_empty() {
            profile
                .metrics
                .entry(Metric::AnsweredPct)
                .or_insert_with(answered_rule);
        }
        profile.validate().map_err(|e| match e {
            // Name where the rule is, as the syntax errors do.
            ProfileError::Rule { metric, problem } => match table_line(text, metric) {
                Some(line) => ProfileError::Rule {
                    metric,
                    problem: format!("{problem} (line {line}, column 1: [metrics.{metric}])"),
                },
                None => ProfileError::Rule { metric, problem },
            },
            other => other,
        })?;
        Ok(profile)
    }

    /// This profile as TOML (what `from_toml` reads).
    pub fn to_toml(&self) -> String {
        // A Profile only holds strings, numbers and maps keyed by strings,
        // which TOML can always represent.
        toml::to_string(self).unwrap_or_default()
    }

    /// Checks that every boundary is within its metric's range
    /// ([`allowed_range`]) and every rule fits its metric's direction.
    pub fn validate(&self) -> Result<(), ProfileError> {
        if self.metrics.is_empty() {
            return Err(ProfileError::Invalid(
                "the profile grades no metric; add at least one [metrics.<id>] table".into(),
            ));
        }
        let stall = self.stall_threshold_ms;
        if !(stall > 0.0 && stall <= MAX_STALL_MS) {
            return Err(ProfileError::Invalid(format!(
                "stall_threshold_ms = {} must be above 0 and at most {MAX_STALL_MS} ms (the default is 250)",
                shown(stall)
            )));
        }
        for (&metric, rule) in &self.metrics {
            let problem = |p: String| ProfileError::Rule { metric, problem: p };
            let Some(direction) = metric.direction() else {
                return Err(problem(
                    "has no better direction, so it cannot be graded; remove it".into(),
                ));
            };
            if let Some(p) = out_of_range(metric, rule) {
                return Err(problem(p));
            }
            let Some(b) = rule.b else { continue };
            match direction {
                Direction::HigherIsBetter if b >= rule.a => {
                    return Err(problem(format!(
                        "higher is better, so b ({b}) must be below a ({})",
                        rule.a
                    )))
                }
                Direction::LowerIsBetter if b <= rule.a => {
                    return Err(problem(format!(
                        "lower is better, so b ({b}) must be above a ({})",
                        rule.a
                    )))
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seed_profile_survives_toml() {
        let seed = Profile::builtin();
        let back = Profile::from_toml(&seed.to_toml()).unwrap();
        assert_eq!(back, seed);
    }

    #[test]
    fn reads_a_p90_profile() {
        let p = Profile::from_toml(
            "name = \"strict\"\n[metrics.ttft_s]\nstatistic = \"p90\"\na = 1.5\nb = 2.5\n",
        )
        .unwrap();
        let rule = p.metrics[&Metric::TtftS];
        assert_eq!(
            (rule.statistic, rule.a, rule.b),
            (Statistic::P90, 1.5, Some(2.5))
        );
        assert_eq!(p.stall_threshold_ms, 250.0);
        // Without its own rule, failures are graded on the built-in one.
        assert_eq!(p.metrics[&Metric::AnsweredPct], answered_rule());
        let p = Profile::from_toml(
            "name = \"lenient\"\n[metrics.ttft_s]\na = 2\n[metrics.answered_pct]\na = 90\n",
        )
        .unwrap();
        assert_eq!(p.metrics[&Metric::AnsweredPct].b, None);
    }

    #[test]
    fn malformed_toml_names_line_and_column() {
        let err = Profile::from_toml("name = \"x\"\n[metrics.ttft_s]\na = = 2\n").unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("line 3"), "{msg}");
        assert!(msg.contains("column"), "{msg}");
    }

    #[test]
    fn unknown_metric_and_field_are_errors_with_positions() {
        let msg = Profile::from_toml("name = \"x\"\n[metrics.ttft]\na = 2\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("line 2") && msg.contains("ttft_s"), "{msg}");
        let msg = Profile::from_toml("name = \"x\"\n[metrics.ttft_s]\na = 2\nbb = 3\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("bb") && msg.contains("line"), "{msg}");
    }

    #[test]
    fn rules_must_fit_the_direction() {
        let msg = Profile::from_toml("name = \"x\"\n[metrics.decode_tok_s]\na = 20\nb = 30\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("b (30) must be below a (20)"), "{msg}");
        let msg = Profile::from_toml("name = \"x\"\n[metrics.ttft_s]\na = 3\nb = 2\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("must be above"), "{msg}");
        assert!(msg.contains("line 2, column 1"), "{msg}");
        let msg = Profile::from_toml("name = \"x\"\n[metrics.output_tokens]\na = 3\n")
            .unwrap_err()
            .to_string();
        assert!(msg.contains("cannot be graded"), "{msg}");
        assert!(Profile::from_toml("name = \"x\"\nmetrics = {}\n").is_err());
    }

    #[test]
    fn boundaries_out_of_their_metrics_range_name_metric_field_and_range() {
        let cases = [
            (
                "answered_pct",
                "a = 150",
                "a = 150 is outside the allowed range 0 to 100 %",
            ),
            (
                "ttft_s",
                "a = 1e308",
                "a = 1e308 is outside the allowed range 0 to 86400 s",
            ),
            ("ttft_s", "a = nan", "a = NaN is outside"),
            ("ttft_s", "a = -3", "a = -3 is outside"),
            (
                "decode_tok_s",
                "a = 30\nb = -inf",
                "b = -inf is outside the allowed range 0 to 1000000 tok/s",
            ),
            (
                "stalls",
                "a = 2e6",
                "a = 2000000 is outside the allowed range 0 to 1000000 (",
            ),
        ];
        for (metric, rule, want) in cases {
            let text = format!("name = \"x\"\n[metrics.{metric}]\n{rule}\n");
            let msg = Profile::from_toml(&text).unwrap_err().to_string();
            assert!(msg.starts_with(&format!("metric '{metric}': ")), "{msg}");
            assert!(msg.contains(want) && msg.contains("line 2"), "{msg}");
        }
        let msg = Profile::from_toml(
            "name = \"x\"\nstall_threshold_ms = 1e308\n[metrics.ttft_s]\na = 2\n",
        )
        .unwrap_err()
        .to_string();
        assert!(msg.contains("stall_threshold_ms = 1e308"), "{msg}");
        // The edges are allowed.
        let p =
            Profile::from_toml("name = \"x\"\n[metrics.answered_pct]\na = 100\nb = 0\n").unwrap();
        assert_eq!(p.metrics[&Metric::AnsweredPct].a, 100.0);
    }
}
