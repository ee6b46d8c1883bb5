//! The Mann-Whitney U test: are two samples drawn from the same
//! distribution, or does one tend to be larger?
//!
//! Two-sided, with the normal approximation, the tie correction of the
//! variance and a continuity correction of 0.5 — the same computation as
//! `scipy.stats.mannwhitneyu(x, y, alternative="two-sided",
//! method="asymptotic")`, so its results can be checked against SciPy.
//! Per-request latencies are rarely normal and often tied (timer
//! resolution, one-token chunks), which is why a rank test fits them
//! better than a t-test.

use serde::{Deserialize, Serialize};

/// The result of one test.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MannWhitney {
    /// U of the first sample: how many (x, y) pairs have x > y, ties
    /// counting one half (SciPy's `statistic`).
    pub u: f64,
    /// The standard score of the larger U, continuity corrected.
    pub z: f64,
    /// Two-sided p-value: the chance of a difference at least this large
    /// when both samples come from one distribution.
    pub p_value: f64,
    /// Size of the first sample.
    pub n1: usize,
    /// Size of the second sample.
    pub n2: usize,
}

/// Tests `x` against `y`, ignoring values that are not finite. `None` when
/// either sample is empty after that, or every value is the same (no
/// ranking is possible).
pub fn mann_whitney_u(x: &[f64], y: &[f64]) -> Option<MannWhitney> {
    let x: Vec<f64> = x.iter().copied().filter(|v| v.is_finite()).collect();
    let y: Vec<f64> = y.iter().copied().filter(|v| v.is_finite()).collect();
    let (n1, n2) = (x.len(), y.len());
    if n1 == 0 || n2 == 0 {
        return None;
    }
    // Pool, sort, and give tied values their average rank.
    let mut pooled: Vec<(f64, bool)> = x
        .iter()
        .map(|&v| (v, true))
        .chain(y.iter().map(|&v| (v, false)))
        .collect();
    pooled.sort_by(|a, b| a.0.total_cmp(&b.0));
    let n = pooled.len();
    let (mut rank_sum_x, mut tie_term) = (0.0f64, 0.0f64);
    let mut i = 0;
    while i < n {
        let mut j = i;
        while j + 1 < n && pooled[j + 1].0 == pooled[i].0 {
            j += 1;
        }
        let t = (j - i + 1) as f64;
        // Ranks i+1 ..= j+1 share their mean.
        let rank = (i + j) as f64 / 2.0 + 1.0;
        rank_sum_x += rank * pooled[i..=j].iter().filter(|p| p.1).count() as f64;
        tie_term += t * t * t - t;
        i = j + 1;
    }
    let (f1, f2, nf) = (n1 as f64, n2 as f64, n as f64);
    let u1 = rank_sum_x - f1 * (f1 + 1.0) / 2.0;
    let u2 = f1 * f2 - u1;
    let mu = f1 * f2 / 2.0;
    let variance = f1 * f2 / 12.0 * ((nf + 1.0) - tie_term / (nf * (nf - 1.0)));
    if variance <= 0.0 || !variance.is_finite() {
        return None;
    }
    let z = (u1.max(u2) - mu - 0.5) / variance.sqrt();
    let p_value = (2.0 * normal_sf(z)).min(1.0);
    Some(MannWhitney {
        u: u1,
        z,
        p_value,
        n1,
        n2,
    })
}

/// The upper tail of the standard normal distribution, P(Z > z).
pub fn normal_sf(z: f64) -> f64 {
    0.5 * erfc(z / std::f64::consts::SQRT_2)
}

/// The complementary error function, with a relative error below 1.2 × 10⁻⁷
/// everywhere (the Chebyshev fit of Numerical Recipes, `erfcc`), which keeps
/// very small p-values accurate in relative terms.
pub fn erfc(x: f64) -> f64 {
    let z = x.abs();
    let t = 1.0 / (1.0 + 0.5 * z);
    let poly = -z * z - 1.265_512_23
        + t * (1.000_023_68
            + t * (0.374_091_96
                + t * (0.096_784_18
                    + t * (-0.186_288_06
                        + t * (0.278_868_07
                            + t * (-1.135_203_98
                                + t * (1.488_515_87 + t * (-0.822_152_23 + t * 0.170_872_77))))))));
    let r = t * poly.exp();
    if x >= 0.0 {
        r
    } else {
        2.0 - r
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(a: f64, b: f64, rel: f64) -> bool {
        (a - b).abs() <= rel * b.abs().max(1e-300)
    }

    /// Expected values from SciPy 1.17.1:
    /// `scipy.stats.mannwhitneyu(x, y, alternative="two-sided", method="asymptotic")`.
    #[test]
    fn matches_scipy() {
        type Case = (&'static str, Vec<f64>, Vec<f64>, f64, f64);
        let cases: [Case; 4] = [
            (
                "simple",
                (1..=10).map(f64::from).collect(),
                (6..=15).map(f64::from).collect(),
                12.5,
                0.005_075_392_315_273_923,
            ),
            (
                "ties",
                vec![1., 2., 2., 3., 3., 3., 4., 5., 5., 6., 7., 7.],
                vec![2., 3., 3., 4., 4., 5., 6., 6., 6., 7., 8., 9., 9.],
                48.5,
                0.111_419_423_548_118_98,
            ),
            (
                "same",
                vec![0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8],
                vec![0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75, 0.85],
                28.0,
                0.713_191_261_016_072,
            ),
            (
                "unequal",
                vec![
                    0.031, 0.029, 0.033, 0.030, 0.032, 0.034, 0.028, 0.035, 0.030,
                ],
                vec![
                    0.040, 0.038, 0.036, 0.041, 0.039, 0.037, 0.042, 0.029, 0.043, 0.040, 0.044,
                    0.038, 0.033, 0.045,
                ],
                10.0,
                0.000_928_696_714_777_036_4,
            ),
        ];
        for (name, x, y, u, p) in cases {
            let r = mann_whitney_u(&x, &y).unwrap();
            assert_eq!(r.u, u, "{name}");
            assert!(close(r.p_value, p, 1e-6), "{name}: {} vs {p}", r.p_value);
            // Swapping the samples keeps the p-value and mirrors U.
            let s = mann_whitney_u(&y, &x).unwrap();
            assert!(close(s.p_value, r.p_value, 1e-12), "{name}");
            assert_eq!(s.u, (x.len() * y.len()) as f64 - u, "{name}");
        }
    }

    #[test]
    fn degenerate_samples_give_no_test() {
        assert!(mann_whitney_u(&[], &[1.0]).is_none());
        assert!(mann_whitney_u(&[2.0, 2.0], &[2.0, 2.0, 2.0]).is_none());
        assert!(mann_whitney_u(&[f64::NAN], &[1.0]).is_none());
    }

    #[test]
    fn erfc_matches_known_values() {
        // math.erfc in Python.
        assert!(close(erfc(0.0), 1.0, 2e-7));
        assert!(close(erfc(0.5), 0.479_500_122_186_953_5, 2e-7));
        assert!(close(erfc(2.0), 0.004_677_734_981_047_266, 2e-7));
        assert!(close(erfc(-1.0), 1.842_700_792_949_715, 2e-7));
        assert!(close(erfc(5.0), 1.537_459_794_428_034_8e-12, 2e-7));
    }
}
