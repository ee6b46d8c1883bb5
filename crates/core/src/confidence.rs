//! Confidence intervals of a mean over a few repeated runs.
//!
//! With `n` per-repeat values the interval is `mean ± t · s / √n`: `s` the
//! sample standard deviation (n − 1 in the denominator) and `t` the
//! 97.5th percentile of Student's t with n − 1 degrees of freedom, so a 95 %
//! two-sided interval. With 3 or 5 repeats the normal quantile (1.96) would
//! be far too narrow (t is 4.30 and 2.78): Student's t is what keeps the
//! coverage honest. The t quantile is computed, not tabulated, from the
//! regularized incomplete beta function (Numerical Recipes' continued
//! fraction), to about 1e-10.

use serde::{Deserialize, Serialize};

/// The confidence level of every interval tokenpace reports.
pub const CONFIDENCE: f64 = 0.95;

/// A mean over repeats with its 95 % confidence interval.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Interval {
    /// Values the interval is over (repeats).
    pub n: u32,
    /// Their mean.
    pub mean: f64,
    /// Their sample standard deviation.
    pub stddev: f64,
    /// Lower end of the 95 % interval of the mean.
    pub low: f64,
    /// Upper end of the 95 % interval of the mean.
    pub high: f64,
    /// Coefficient of variation across repeats, stddev ÷ |mean| (absent
    /// when the mean is 0).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cv: Option<f64>,
}

impl Interval {
    /// The interval of the mean of `values` (non-finite ones ignored);
    /// `None` with fewer than two values, where no spread is known.
    pub fn of(values: &[f64]) -> Option<Interval> {
        let v: Vec<f64> = values.iter().copied().filter(|x| x.is_finite()).collect();
        let n = v.len();
        if n < 2 {
            return None;
        }
        let mean = v.iter().sum::<f64>() / n as f64;
        let var = v.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (n - 1) as f64;
        let stddev = var.sqrt();
        let half = t_quantile(0.5 + CONFIDENCE / 2.0, (n - 1) as f64) * stddev / (n as f64).sqrt();
        Some(Interval {
            n: n as u32,
            mean,
            stddev,
            low: mean - half,
            high: mean + half,
            cv: (mean != 0.0).then(|| stddev / mean.abs()),
        })
    }

    /// Half the interval's width: the "± x" after the mean.
    pub fn half_width(&self) -> f64 {
        (self.high - self.low) / 2.0
    }

    /// Whether `x` lies in the interval (ends included).
    pub fn contains(&self, x: f64) -> bool {
        self.low <= x && x <= self.high
    }
}

/// Welch's t-test of two sets of per-repeat values (unequal variances,
/// Welch–Satterthwaite degrees of freedom): whether their means differ
/// beyond what the repeats' spread explains.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Welch {
    /// The statistic, (mean b − mean a) ÷ its standard error.
    pub t: f64,
    /// Degrees of freedom.
    pub df: f64,
    /// Two-sided p-value.
    pub p_value: f64,
}

/// Welch's test of `a` against `b`; `None` unless each has two values
/// and they are not all equal.
pub fn welch(a: &[f64], b: &[f64]) -> Option<Welch> {
    let (ia, ib) = (Interval::of(a)?, Interval::of(b)?);
    let (na, nb) = (f64::from(ia.n), f64::from(ib.n));
    let (va, vb) = (ia.stddev.powi(2) / na, ib.stddev.powi(2) / nb);
    let se2 = va + vb;
    if se2 <= 0.0 {
        return None;
    }
    let t = (ib.mean - ia.mean) / se2.sqrt();
    let df = se2.powi(2) / (va.powi(2) / (na - 1.0) + vb.powi(2) / (nb - 1.0));
    let p_value = (2.0 * (1.0 - t_cdf(t.abs(), df))).clamp(0.0, 1.0);
    Some(Welch { t, df, p_value })
}

/// The `p`-quantile (0 < p < 1) of Student's t with `df` > 0 degrees of
/// freedom, by bisection on its distribution function.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if !(p > 0.0 && p < 1.0 && df > 0.0) {
        return f64::NAN;
    }
    if p < 0.5 {
        return -t_quantile(1.0 - p, df);
    }
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while t_cdf(hi, df) < p && hi < 1e12 {
        hi *= 2.0;
    }
    for _ in 0..200 {
        let mid = (lo + hi) / 2.0;
        if t_cdf(mid, df) < p {
            lo = mid;
        } else {
            hi = mid;
        }
        if hi - lo < 1e-12 * hi.max(1.0) {
            break;
        }
    }
    (lo + hi) / 2.0
}

/// P(T ≤ t) for Student's t with `df` degrees of freedom.
pub fn t_cdf(t: f64, df: f64) -> f64 {
    let tail = 0.5 * incomplete_beta(df / 2.0, 0.5, df / (df + t * t));
    if t >= 0.0 {
        1.0 - tail
    } else {
        tail
    }
}

/// The regularized incomplete beta function I_x(a, b).
fn incomplete_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (1.0 - x).ln();
    let front = ln_front.exp();
    // The continued fraction converges fast on this side; use symmetry
    // on the other.
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_fraction(a, b, x) / a
    } else {
        1.0 - front * beta_fraction(b, a, 1.0 - x) / b
    }
}

/// Lentz's evaluation of the incomplete beta continued fraction.
fn beta_fraction(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..300 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        d = if d.abs() < TINY { TINY } else { d };
        c = 1.0 + aa / c;
        c = if c.abs() < TINY { TINY } else { c };
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// ln Γ(x) for x > 0 (Lanczos, g = 7, n = 9).
fn ln_gamma(x: f64) -> f64 {
    const G: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = G[0];
    let t = x + 7.5;
    for (i, g) in G.iter().enumerate().skip(1) {
        a += g / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn t_quantiles_match_the_tables() {
        // Student's t table, 97.5th percentile (to the table's 6 places).
        for (df, want) in [
            (1.0, 12.706_205),
            (2.0, 4.302_653),
            (4.0, 2.776_445),
            (9.0, 2.262_157),
            (30.0, 2.042_272),
            (1000.0, 1.962_339),
        ] {
            let got = t_quantile(0.975, df);
            assert!((got - want).abs() < 2e-6, "df {df}: {got} vs {want}");
        }
        // One degree of freedom is Cauchy: the quantile is tan(π(p − ½)).
        let cauchy = (std::f64::consts::PI * 0.45).tan();
        assert!((t_quantile(0.95, 1.0) - cauchy).abs() < 1e-8);
        assert!((t_quantile(0.025, 4.0) + 2.776_445).abs() < 2e-6);
        assert!(t_quantile(1.0, 4.0).is_nan() && t_quantile(0.5, 0.0).is_nan());
    }

    #[test]
    fn interval_of_known_values() {
        // mean 3, s = sqrt(2.5), t(0.975, 4) = 2.7764…
        let i = Interval::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        let half = 2.776_445 * 2.5f64.sqrt() / 5f64.sqrt();
        assert_eq!((i.n, i.mean), (5, 3.0));
        assert!((i.half_width() - half).abs() < 1e-5);
        assert!((i.cv.unwrap() - 2.5f64.sqrt() / 3.0).abs() < 1e-12);
        assert!(i.contains(3.0) && !i.contains(5.0));
        assert!(Interval::of(&[1.0]).is_none());
        assert!(Interval::of(&[1.0, f64::NAN]).is_none());
        let zero = Interval::of(&[-1.0, 1.0]).unwrap();
        assert_eq!(zero.cv, None);
    }

    #[test]
    fn welch_by_hand() {
        // a: mean 3, variance 2.5; b: mean 5.2, variance 3.7; n = 5 each.
        // se² = 0.5 + 0.74, t = 2.2 / √1.24, df = 1.24² / ((0.5² + 0.74²) / 4).
        let w = welch(&[1.0, 2.0, 3.0, 4.0, 5.0], &[3.0, 4.0, 5.0, 6.0, 8.0]).unwrap();
        assert!((w.t - 2.2 / 1.24f64.sqrt()).abs() < 1e-12, "{w:?}");
        let df = 1.24f64.powi(2) / ((0.25 + 0.74f64.powi(2)) / 4.0);
        assert!((w.df - df).abs() < 1e-9, "{w:?}");
        // The p-value is the two tails beyond t.
        assert!((t_quantile(1.0 - w.p_value / 2.0, w.df) - w.t).abs() < 1e-6);
        assert!(w.p_value > 0.05 && w.p_value < 0.1, "{w:?}");
        assert!(welch(&[1.0, 1.0], &[1.0, 1.0]).is_none());
        assert!(welch(&[1.0], &[1.0, 2.0]).is_none());
    }
}
