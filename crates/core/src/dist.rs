//! A value drawn per session or per turn: fixed, uniform over a range, or
//! exponential about a mean. `--turns 3..8` and `--think-time exp:2s` are
//! written in this one syntax, so every option that takes "a number or a
//! distribution" reads alike.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A distribution of non-negative values (a count, or seconds).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Dist {
    /// Always this value.
    Fixed {
        /// The value.
        value: f64,
    },
    /// Uniform between `low` and `high` (inclusive for counts).
    Uniform {
        /// Smallest value.
        low: f64,
        /// Largest value.
        high: f64,
    },
    /// Exponential with this mean (independent users' pauses).
    Exponential {
        /// The mean.
        mean: f64,
    },
}

/// What the values measure, for parsing units and for messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Whole numbers (turns, steps).
    Count,
    /// Seconds; `ms` and `s` suffixes are read.
    Seconds,
}

impl Dist {
    /// A fixed value.
    pub const fn fixed(value: f64) -> Dist {
        Dist::Fixed { value }
    }

    /// Parses `5`, `3..8`, `exp:2` (and with [`Unit::Seconds`] `1.5s`,
    /// `500ms`, `1s..4s`, `exp:2s`). `what` names the option in errors.
    pub fn parse(text: &str, unit: Unit, what: &str) -> Result<Dist, String> {
        let t = text.trim();
        let example = match unit {
            Unit::Count => "e.g. 5, 3..8 or exp:4",
            Unit::Seconds => "e.g. 2s, 500ms, 1s..5s or exp:2s",
        };
        let bad = || format!("{what} '{text}' is not a value or a distribution ({example})");
        let value = |s: &str| -> Result<f64, String> {
            let v = parse_value(s, unit).ok_or_else(bad)?;
            if unit == Unit::Count && v.fract() != 0.0 {
                return Err(format!(
                    "{what} '{text}': counts are whole numbers ({example})"
                ));
            }
            Ok(v)
        };
        let d = if let Some(mean) = t.strip_prefix("exp:") {
            Dist::Exponential { mean: value(mean)? }
        } else if let Some((a, b)) = t.split_once("..") {
            let (low, high) = (value(a)?, value(b)?);
            if low > high {
                return Err(format!(
                    "{what} '{text}': the range is backwards ({example})"
                ));
            }
            Dist::Uniform { low, high }
        } else {
            Dist::fixed(value(t)?)
        };
        Ok(d)
    }

    /// The mean.
    pub fn mean(&self) -> f64 {
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { low, high } => (low + high) / 2.0,
            Dist::Exponential { mean } => mean,
        }
    }

    /// The largest value it can take (`None`: unbounded).
    pub fn max(&self) -> Option<f64> {
        match *self {
            Dist::Fixed { value } => Some(value),
            Dist::Uniform { high, .. } => Some(high),
            Dist::Exponential { .. } => None,
        }
    }

    /// The value for a uniform draw `u` in [0, 1).
    pub fn sample(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0 - f64::EPSILON);
        match *self {
            Dist::Fixed { value } => value,
            Dist::Uniform { low, high } => low + (high - low) * u,
            // 1 − u is in (0, 1], so the logarithm is finite.
            Dist::Exponential { mean } => -(1.0 - u).ln() * mean,
        }
    }

    /// A whole count for a uniform draw `u`: uniform ranges include both
    /// ends, exponential counts round to the nearest whole number.
    pub fn sample_count(&self, u: f64) -> u32 {
        let u = u.clamp(0.0, 1.0 - f64::EPSILON);
        let v = match *self {
            Dist::Uniform { low, high } => (low + ((high - low + 1.0) * u).floor()).min(high),
            other => other.sample(u).round(),
        };
        v.clamp(0.0, f64::from(u32::MAX)) as u32
    }
}

fn parse_value(s: &str, unit: Unit) -> Option<f64> {
    let s = s.trim();
    let (number, scale) = match unit {
        Unit::Count => (s, 1.0),
        Unit::Seconds => {
            if let Some(n) = s.strip_suffix("ms") {
                (n, 1e-3)
            } else if let Some(n) = s.strip_suffix('s') {
                (n, 1.0)
            } else {
                (s, 1.0)
            }
        }
    };
    let v: f64 = number.trim().parse().ok()?;
    (v.is_finite() && v >= 0.0).then_some(v * scale)
}

impl fmt::Display for Dist {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            Dist::Fixed { value } => write!(f, "{value}"),
            Dist::Uniform { low, high } => write!(f, "{low}..{high}"),
            Dist::Exponential { mean } => write!(f, "exp:{mean}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_every_form() {
        let c = |s| Dist::parse(s, Unit::Count, "--turns");
        let s = |s| Dist::parse(s, Unit::Seconds, "--think-time");
        assert_eq!(c("5"), Ok(Dist::fixed(5.0)));
        assert_eq!(
            c("3..8"),
            Ok(Dist::Uniform {
                low: 3.0,
                high: 8.0
            })
        );
        assert_eq!(c("exp:4"), Ok(Dist::Exponential { mean: 4.0 }));
        assert_eq!(s("500ms"), Ok(Dist::fixed(0.5)));
        assert_eq!(
            s("1s..5s"),
            Ok(Dist::Uniform {
                low: 1.0,
                high: 5.0
            })
        );
        assert_eq!(s("exp:2s"), Ok(Dist::Exponential { mean: 2.0 }));
        assert_eq!(s("0"), Ok(Dist::fixed(0.0)));
    }

    #[test]
    fn bad_input_says_what_is_expected() {
        for bad in ["", "x", "-1", "8..3", "2.5", "exp:", "1..", "NaN", "inf"] {
            let e = Dist::parse(bad, Unit::Count, "--turns").unwrap_err();
            assert!(e.starts_with("--turns"), "{bad}: {e}");
            assert!(e.contains("e.g."), "{bad}: {e}");
        }
        assert!(Dist::parse("2h", Unit::Seconds, "--think-time").is_err());
    }

    #[test]
    fn counts_cover_the_whole_range() {
        let d = Dist::Uniform {
            low: 3.0,
            high: 5.0,
        };
        let seen: Vec<u32> = (0..30).map(|i| d.sample_count(i as f64 / 30.0)).collect();
        for n in 3..=5 {
            assert!(seen.contains(&n), "{n} never drawn: {seen:?}");
        }
        assert!(seen.iter().all(|n| (3..=5).contains(n)));
        assert_eq!(d.sample_count(0.999_999), 5);
    }

    #[test]
    fn exponential_draws_have_the_mean() {
        let d = Dist::Exponential { mean: 2.0 };
        let n = 10_000;
        let mean: f64 = (0..n)
            .map(|i| d.sample((i as f64 + 0.5) / n as f64))
            .sum::<f64>()
            / n as f64;
        assert!((mean - 2.0).abs() < 0.05, "{mean}");
        assert_eq!(d.max(), None);
    }
}
