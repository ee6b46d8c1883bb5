//! Number formatting: enough digits to see a difference, no more.

use tokenpace_core::metric::Metric;

/// A value without its unit: seconds with two decimals (three below 0.1 s),
/// rates with one decimal below 100 and none above.
pub fn value(metric: Metric, v: f64) -> String {
    match metric.unit() {
        "s" if v.abs() < 0.1 => format!("{v:.3}"),
        "s" => format!("{v:.2}"),
        _ if v.abs() >= 100.0 => format!("{v:.0}"),
        _ => format!("{v:.1}"),
    }
}

/// A value with its unit.
pub fn with_unit(metric: Metric, v: f64) -> String {
    match metric.unit() {
        "" => value(metric, v),
        unit => format!("{} {unit}", value(metric, v)),
    }
}

/// A signed change with its unit, e.g. `+8.0 tok/s` or `-0.40 s`.
pub fn signed(metric: Metric, v: f64) -> String {
    let sign = if v >= 0.0 { "+" } else { "-" };
    format!("{sign}{}", with_unit(metric, v.abs()))
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
}
