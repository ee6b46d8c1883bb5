//! The p99's 95 % interval from one run covers the true p99 as often as it
//! claims: 2 000 runs drawn from distributions whose p99 is known.

use tokenpace_core::stats::{Statistic, Stats};

/// SplitMix64: a fixed seed, so the test is the same every time.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// Uniform on (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }
}

/// The share of `trials` runs of `n` values whose p99 interval holds
/// `true_p99`, and the mean relative width of the intervals.
fn coverage(
    n: usize,
    trials: usize,
    seed: u64,
    draw: impl Fn(&mut Rng) -> f64,
    true_p99: f64,
) -> (f64, f64) {
    let mut rng = Rng(seed);
    let (mut hits, mut width) = (0usize, 0.0);
    for _ in 0..trials {
        let mut v: Vec<f64> = (0..n).map(|_| draw(&mut rng)).collect();
        let s = Stats::from_values(&mut v).unwrap();
        let iv = s.interval(Statistic::P99).unwrap();
        let (low, high) = (iv.low.unwrap(), iv.high.unwrap());
        hits += usize::from(low <= true_p99 && true_p99 <= high);
        width += (high - low) / true_p99;
    }
    (hits as f64 / trials as f64, width / trials as f64)
}

#[test]
fn p99_interval_covers_the_true_p99_of_an_exponential() {
    // Exponential with mean 0.4 s: p99 = 0.4 · ln 100.
    let mean = 0.4;
    let truth = mean * 100f64.ln();
    let (cover, width) = coverage(1000, 2000, 7, |r| -mean * r.uniform().ln(), truth);
    assert!(cover >= 0.93, "coverage {cover} below 93 %");
    // Exact ranks put at most 2.5 % in each tail; an interval far wider
    // than needed would cover nearly always.
    assert!(cover <= 0.995, "coverage {cover}: the interval is too wide");
    assert!(width < 0.45, "mean relative width {width}");
}

#[test]
fn p99_interval_covers_the_true_p99_of_a_lognormal() {
    // Log-normal(μ = 0, σ = 0.5) by Box–Muller: p99 = exp(0.5 · z₀.₉₉).
    let z99: f64 = 2.326_347_874;
    let truth = (0.5 * z99).exp();
    let draw = |r: &mut Rng| {
        let (a, b) = (r.uniform(), r.uniform());
        let z = (-2.0 * a.ln()).sqrt() * (std::f64::consts::TAU * b).cos();
        (0.5 * z).exp()
    };
    let (cover, _) = coverage(500, 2000, 11, draw, truth);
    assert!((0.93..=0.995).contains(&cover), "coverage {cover}");
}
