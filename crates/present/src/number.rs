//! Numbers as people read them: enough digits to see a difference, no more,
//! the same rules in a terminal table and on an HTML page.

use crate::Lang;
use tokenpace_core::metric::Metric;
use tokenpace_core::quantile_interval::QuantileInterval;
use tokenpace_core::stats::{Statistic, Stats};

/// A value without its unit: seconds with two decimals (three below 0.1 s),
/// other quantities with one decimal below 100 and none above. A value that
/// rounds to zero prints without a sign (never `-0.0`).
pub fn value(metric: Metric, v: f64) -> String {
    let text = match metric.unit() {
        "s" if v.abs() < 0.1 => format!("{v:.3}"),
        "s" => format!("{v:.2}"),
        _ if v.abs() >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    };
    unsigned_zero(text)
}

/// A percentile's 95 % interval in brackets, `(398–431)`; an open end
/// reads `(≥ 398)` or `(≤ 431)`, both open `too_few` (e.g. "n too small").
pub fn interval(metric: Metric, iv: &QuantileInterval, too_few: &str) -> String {
    match (iv.low, iv.high) {
        (Some(l), Some(h)) => format!("({}–{})", value(metric, l), value(metric, h)),
        (Some(l), None) => format!("(≥ {})", value(metric, l)),
        (None, Some(h)) => format!("(≤ {})", value(metric, h)),
        (None, None) => format!("({too_few})"),
    }
}

/// A percentile followed by its interval when it has one: `0.41 (0.40–0.43)`.
pub fn with_interval(
    metric: Metric,
    v: f64,
    iv: Option<&QuantileInterval>,
    too_few: &str,
) -> String {
    match iv {
        Some(iv) => format!("{} {}", value(metric, v), interval(metric, iv, too_few)),
        None => value(metric, v),
    }
}

/// A statistic of one run's values, a percentile with its 95 % interval
/// from those values: `0.41 (0.40–0.43)`; too few for a bound reads
/// "n too small".
pub fn percentile(m: Metric, st: &Stats, statistic: Statistic, lang: Lang) -> String {
    let too_few = lang.pick("n too small", "样本太少");
    with_interval(
        m,
        st.get(statistic),
        st.interval(statistic).as_ref(),
        too_few,
    )
}

/// A value with its unit.
pub fn with_unit(metric: Metric, v: f64) -> String {
    match metric.unit() {
        "" => value(metric, v),
        unit => format!("{} {unit}", value(metric, v)),
    }
}

/// A signed change with its unit, e.g. `+8.0 tok/s` or `-0.40 s`; a change
/// that rounds to zero is `+0.0 …`, never `-0.0 …`.
pub fn signed(metric: Metric, v: f64) -> String {
    let rounds_to_zero = value(metric, v.abs()).chars().all(|c| c == '0' || c == '.');
    let sign = if v >= 0.0 || rounds_to_zero { "+" } else { "-" };
    format!("{sign}{}", with_unit(metric, v.abs()))
}

/// A percentage change with its sign and one decimal: `+20.0 %`, `-3.5 %`.
pub fn percent_change(v: f64) -> String {
    let text = unsigned_zero(format!("{v:.1}"));
    if text.starts_with('-') || text == "0.0" {
        format!("{text} %")
    } else {
        format!("+{text} %")
    }
}

/// Seconds as milliseconds with one decimal: `12.3 ms` (never `-0.0 ms`).
pub fn milliseconds(s: f64) -> String {
    format!("{} ms", unsigned_zero(format!("{:.1}", s * 1e3)))
}

/// A share (0–1) as a percentage with one decimal: `45.0 %`.
pub fn share(v: f64) -> String {
    format!("{} %", unsigned_zero(format!("{:.1}", v * 100.0)))
}

/// `-0.0` → `0.0` (a rounded negative zero means nothing to a reader).
fn unsigned_zero(text: String) -> String {
    match text.strip_prefix('-') {
        Some(rest) if rest.chars().all(|c| c == '0' || c == '.') => rest.to_string(),
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_unit_and_size() {
        assert_eq!(with_unit(Metric::TtftS, 1.8), "1.80 s");
        assert_eq!(with_unit(Metric::TtftS, 0.05), "0.050 s");
        assert_eq!(with_unit(Metric::PrefillTokS, 1200.0), "1200 tok/s");
        assert_eq!(with_unit(Metric::DecodeTokS, 35.714), "35.7 tok/s");
        assert_eq!(signed(Metric::DecodeTokS, 8.0), "+8.0 tok/s");
        assert_eq!(signed(Metric::TtftS, -0.4), "-0.40 s");
        assert_eq!(with_unit(Metric::Stalls, 2.0), "2.0");
    }

    #[test]
    fn no_negative_zero() {
        assert_eq!(value(Metric::TtftS, -0.0001), "0.000");
        assert_eq!(value(Metric::DecodeTokS, -0.04), "0.0");
        assert_eq!(signed(Metric::DecodeTokS, -0.01), "+0.0 tok/s");
        assert_eq!(percent_change(-0.04), "0.0 %");
        assert_eq!(milliseconds(-0.00001), "0.0 ms");
        assert_eq!(milliseconds(0.0123), "12.3 ms");
        assert_eq!(share(0.45), "45.0 %");
        assert_eq!(share(-0.0), "0.0 %");
        assert_eq!(percent_change(20.0), "+20.0 %");
        assert_eq!(percent_change(-20.0), "-20.0 %");
    }
}
