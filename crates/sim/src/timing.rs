//! The timing model: when each token of a response is due.
//!
//! - TTFT (from admission) = `ttft_ms` + uncached prompt tokens / `prefill`
//!   plus TTFT jitter, the uncached tokens being prompt_tokens − cached_tokens
//!   (see [`crate::prefix_cache`]). Time spent queued for a batch slot comes
//!   before admission, so the TTFT a client sees is queue time + this.
//! - Decode: a stream alone makes `decode` tokens/s. With `b` streams admitted
//!   the rate of each is `decode / (1 + k·(b − 1))`, `k` = `batch_slowdown`
//!   (the batching law, `tokenpace_core::scenario::decode_per_stream`).
//! - Deadlines are absolute: token `n` is due at `seg_start + (n − n0)·interval`
//!   where a segment starts whenever the batch size (so the rate) changes.
//!   Jitter is an independent offset per deadline (never accumulated, so a
//!   stream does not drift), and deadlines never go backwards.

use std::time::{Duration, Instant};

use tokenpace_core::scenario::decode_per_stream;
use tokenpace_corpus::SplitMix64;

use crate::config::{JitterDist, TimingConfig};

/// Longest single delay the model produces (a day), in ms.
const MAX_MS: f64 = 86_400_000.0;

/// The model's parameters, checked.
#[derive(Debug, Clone)]
pub struct TimingModel {
    cfg: TimingConfig,
}

impl TimingModel {
    /// A model from (validated) settings.
    pub fn new(cfg: TimingConfig) -> Self {
        TimingModel { cfg }
    }

    /// The same model decoding `factor` times as fast (another model
    /// behind the same endpoint).
    pub fn scaled(&self, factor: f64) -> TimingModel {
        let mut cfg = self.cfg.clone();
        cfg.decode *= factor;
        TimingModel { cfg }
    }

    /// Tokens per second of each stream when `batch` streams are admitted:
    /// the batching law, [`decode_per_stream`].
    pub fn decode_rate(&self, batch: usize) -> f64 {
        decode_per_stream(self.cfg.decode, self.cfg.batch_slowdown, batch as f64)
    }

    /// Time from admission to the first token, jitter included, for a
    /// prompt of which `prefilled` tokens are not in the prefix cache.
    pub fn ttft(&self, prefilled: u64, rng: &mut SplitMix64) -> Duration {
        let ms = self.cfg.ttft_ms
            + prefilled as f64 / self.cfg.prefill * 1000.0
            + sample(self.cfg.jitter_dist, self.cfg.ttft_jitter_ms, rng);
        // Clamped to a day so no configuration can overflow an Instant.
        Duration::from_secs_f64(ms.clamp(0.0, MAX_MS) / 1000.0)
    }

    /// Token deadlines for one stream whose first token is due at `first`.
    pub fn schedule(&self, first: Instant, rng: SplitMix64) -> Schedule {
        Schedule {
            model: self.clone(),
            rng,
            seg_start: first,
            seg_n0: 0,
            interval_s: 0.0,
            batch: 0,
            next_n: 0,
            last: first,
        }
    }
}

/// Draws a jitter in milliseconds with scale `scale_ms`.
pub fn sample(dist: JitterDist, scale_ms: f64, rng: &mut SplitMix64) -> f64 {
    if scale_ms <= 0.0 {
        return 0.0;
    }
    match dist {
        JitterDist::Uniform => (rng.next_f64() * 2.0 - 1.0) * scale_ms,
        JitterDist::Normal => {
            // Box–Muller; 1 − u keeps the logarithm finite.
            let u1 = 1.0 - rng.next_f64();
            let u2 = rng.next_f64();
            (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos() * scale_ms
        }
        JitterDist::Exponential => -(1.0 - rng.next_f64()).ln() * scale_ms,
    }
}

/// The deadlines of one stream's tokens, computed one at a time because the
/// rate depends on the batch size at that moment.
#[derive(Debug, Clone)]
pub struct Schedule {
    model: TimingModel,
    rng: SplitMix64,
    seg_start: Instant,
    seg_n0: u64,
    interval_s: f64,
    batch: usize,
    next_n: u64,
    last: Instant,
}

impl Schedule {
    /// The deadline of the next token, with `batch` streams admitted now.
    pub fn next(&mut self, batch: usize) -> Instant {
        let n = self.next_n;
        self.next_n += 1;
        if n == 0 {
            self.batch = batch;
            self.interval_s = 1.0 / self.model.decode_rate(batch);
            return self.first_deadline();
        }
        if batch != self.batch {
            // New segment from the previous token's unjittered deadline.
            self.seg_start = self.base(n - 1);
            self.seg_n0 = n - 1;
            self.batch = batch;
            self.interval_s = 1.0 / self.model.decode_rate(batch);
        }
        let jitter = sample(
            self.model.cfg.jitter_dist,
            self.model.cfg.jitter_ms,
            &mut self.rng,
        );
        let at = offset(self.base(n), jitter);
        self.last = at.max(self.last);
        self.last
    }

    /// Delays every later deadline by `d` (a stall).
    pub fn delay(&mut self, d: Duration) {
        self.seg_start += d;
        self.last += d;
    }

    /// Tokens scheduled so far.
    pub fn tokens(&self) -> u64 {
        self.next_n
    }

    fn first_deadline(&self) -> Instant {
        self.seg_start
    }

    fn base(&self, n: u64) -> Instant {
        let steps = (n - self.seg_n0) as f64;
        // Capped (~31 years) so Instant arithmetic cannot overflow.
        let secs = (steps * self.interval_s).min(1e9);
        self.seg_start + Duration::from_secs_f64(secs)
    }
}

fn offset(at: Instant, ms: f64) -> Instant {
    let d = Duration::from_secs_f64(ms.abs().min(MAX_MS) / 1000.0);
    if ms >= 0.0 {
        at + d
    } else {
        at.checked_sub(d).unwrap_or(at)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn model(decode: f64, k: f64) -> TimingModel {
        TimingModel::new(TimingConfig {
            decode,
            batch_slowdown: k,
            ttft_ms: 100.0,
            prefill: 1000.0,
            ..TimingConfig::default()
        })
    }

    #[test]
    fn ttft_is_overhead_plus_prefill() {
        let m = model(50.0, 0.0);
        let t = m.ttft(500, &mut SplitMix64::new(0));
        assert_eq!(t, Duration::from_millis(600));
    }

    #[test]
    fn slowdown_law() {
        let m = model(100.0, 0.5);
        assert_eq!(m.decode_rate(1), 100.0);
        assert_eq!(m.decode_rate(3), 50.0);
        assert_eq!(m.decode_rate(0), 100.0);
    }

    #[test]
    fn deadlines_are_a_lattice_without_drift() {
        let m = model(50.0, 1.0);
        let t0 = Instant::now();
        let mut s = m.schedule(t0, SplitMix64::new(0));
        assert_eq!(s.next(1), t0);
        for n in 1..=1000u64 {
            let d = s.next(1);
            let want = t0 + Duration::from_secs_f64(n as f64 * 0.02);
            assert!(d.max(want) - d.min(want) < Duration::from_micros(1));
        }
        // Batch of 2 halves the rate from here on.
        let before = s.next(1);
        let after = s.next(2);
        assert_eq!(after - before, Duration::from_millis(40));
        s.delay(Duration::from_millis(5));
        assert_eq!(s.next(2) - after, Duration::from_millis(45));
    }

    #[test]
    fn jitter_has_its_distribution_and_deadlines_stay_ordered() {
        let mut rng = SplitMix64::new(3);
        let n = 20_000;
        let normal: Vec<f64> = (0..n)
            .map(|_| sample(JitterDist::Normal, 2.0, &mut rng))
            .collect();
        let mean = normal.iter().sum::<f64>() / n as f64;
        let sd = (normal.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / n as f64).sqrt();
        assert!(mean.abs() < 0.1 && (sd - 2.0).abs() < 0.1, "{mean} {sd}");
        let exp: Vec<f64> = (0..n)
            .map(|_| sample(JitterDist::Exponential, 2.0, &mut rng))
            .collect();
        assert!(exp.iter().all(|&x| x >= 0.0));
        assert!((exp.iter().sum::<f64>() / n as f64 - 2.0).abs() < 0.1);
        assert!((0..n).all(|_| sample(JitterDist::Uniform, 1.0, &mut rng).abs() <= 1.0));

        let m = TimingModel::new(TimingConfig {
            decode: 1000.0,
            jitter_ms: 5.0,
            ..TimingConfig::default()
        });
        let mut s = m.schedule(Instant::now(), SplitMix64::new(1));
        let mut prev = s.next(1);
        for _ in 0..1000 {
            let d = s.next(1);
            assert!(d >= prev);
            prev = d;
        }
    }
}
