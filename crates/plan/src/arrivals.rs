//! How the prompts of concurrent requests arrive, and so how many prefills
//! a prompt waits for before its first token.
//!
//! A device prefills one prompt at a time at full speed (a batch of prompts
//! takes as long as the prompts one after another: prefill is bound by
//! compute). A prompt that arrives while others are being prefilled waits
//! for them; the roofline's TTFT is that wait plus its own prefill.

use serde::{Deserialize, Serialize};

/// How the prompts of the concurrent requests arrive.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Arrivals {
    /// All at once: a closed loop's streams start together and, with equal
    /// answers, stay in step, so every wave of `c` prompts arrives at once
    /// and is prefilled in the engine's prompt batches: a wave that fits one
    /// batch gets its first tokens after all c prefills; a longer one
    /// batch by batch. What `tokenpace bench --concurrency c` and `tokenpace
    /// capacity` measure.
    #[default]
    Together,
    /// Independently (users at random times): a prompt waits only for the
    /// prefills in progress when it arrives, a queue loaded by the share of
    /// each stream's cycle the others spend in prefill (M/D/1).
    Apart,
}

impl Arrivals {
    /// The id used on the command line and in JSON.
    pub fn id(self) -> &'static str {
        match self {
            Arrivals::Together => "together",
            Arrivals::Apart => "apart",
        }
    }

    /// The mean number of prefills a prompt waits for, its own included
    /// (≥ 1), among `c` concurrent streams whose prompt of `prompt_tokens`
    /// takes `prefill_s` alone and whose answer takes `answer_s`, on an
    /// engine that prefills up to `batch_tokens` prompt tokens per step.
    pub fn prefill_wait(
        self,
        c: f64,
        prompt_tokens: f64,
        batch_tokens: f64,
        prefill_s: f64,
        answer_s: f64,
    ) -> f64 {
        let wave = wave_wait(c, prompt_tokens, batch_tokens);
        match self {
            Arrivals::Together => wave,
            Arrivals::Apart => {
                let others = (c - 1.0).max(0.0);
                if others == 0.0 || prefill_s.is_nan() || prefill_s <= 0.0 {
                    return 1.0;
                }
                // Each stream cycles through its wait, its prefill and its
                // answer; the others keep the prefill queue busy for their
                // share of it. The wait is a fixed point (a longer wait
                // lengthens the cycle, which lightens the load); the M/D/1
                // wait falls as the wait grows, so bisection finds it.
                let queue = |wait: f64| {
                    let load = others * prefill_s / (wait * prefill_s + answer_s.max(0.0));
                    if load < 1.0 {
                        (1.0 + load / (2.0 * (1.0 - load))).min(wave)
                    } else {
                        wave
                    }
                };
                let (mut lo, mut hi) = (1.0, wave);
                if queue(hi) >= hi {
                    return wave;
                }
                for _ in 0..100 {
                    let mid = (lo + hi) / 2.0;
                    if queue(mid) >= mid {
                        lo = mid;
                    } else {
                        hi = mid;
                    }
                }
                (lo + hi) / 2.0
            }
        }
    }
}

/// The mean wait, in prefills, of a wave of `c` prompts arriving at once
/// on an engine that takes up to `batch_tokens` prompt tokens per step, in
/// arrival order: a prompt's first token comes when the step holding its
/// last token ends, so prompts that share a step all wait for the whole
/// step (c prefills when the wave fits one step; about (c + 1) ÷ 2 when
/// each prompt fills a step of its own).
fn wave_wait(c: f64, prompt_tokens: f64, batch_tokens: f64) -> f64 {
    let n = c.round().max(1.0);
    if n <= 1.0 {
        return 1.0;
    }
    // Prompts per step (fractional when a prompt spans steps).
    let per_step = (batch_tokens / prompt_tokens).max(f64::MIN_POSITIVE);
    let count = n.min(1e6) as u64;
    let total: f64 = (1..=count)
        .map(|i| ((i as f64 / per_step).ceil() * per_step).min(n))
        .sum();
    total / count as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    const BIG: f64 = 1e9;

    #[test]
    fn one_stream_never_waits_for_another() {
        for a in [Arrivals::Together, Arrivals::Apart] {
            assert_eq!(a.prefill_wait(1.0, 100.0, 512.0, 0.5, 4.0), 1.0);
        }
    }

    #[test]
    fn a_wave_in_one_batch_waits_for_all_of_it_and_one_prompt_per_batch_half_of_it() {
        // (streams, prompt tokens, wait): 4 × 123 tokens fit a 512-token
        // batch, so every prompt waits for 4; one prompt per batch, the
        // i-th waits for i, 2.5 on average; two per batch: 2, 2, 4, 4; a
        // prompt spanning two batches ends with the second.
        let wave = |c, prompt| Arrivals::Together.prefill_wait(c, prompt, 512.0, 0.5, 4.0);
        for (c, prompt, wait) in [
            (4.0, 123.0, 4.0),
            (4.0, 512.0, 2.5),
            (4.0, 256.0, 3.0),
            (2.0, 1024.0, 1.5),
        ] {
            assert_eq!(wave(c, prompt), wait, "{c} × {prompt} tokens");
        }
    }

    #[test]
    fn users_apart_wait_less_than_a_wave_and_more_as_prefill_loads_the_device() {
        let apart = |p| Arrivals::Apart.prefill_wait(4.0, 100.0, BIG, p, 4.0);
        let (short, long) = (apart(0.1), apart(1.0));
        assert!(short > 1.0 && short < 1.1, "{short}");
        assert!(long > short && long < 4.0, "{long}");
        // Prefill alone, no answer: the queue nears the wave.
        let busy = Arrivals::Apart.prefill_wait(4.0, 100.0, BIG, 1.0, 0.0);
        assert!(busy > 3.0 && busy <= 4.0, "{busy}");
    }

    #[test]
    fn the_apart_wait_is_the_m_d_1_wait_at_its_own_load() {
        let (c, p, a) = (8.0, 0.3, 3.0);
        let w = Arrivals::Apart.prefill_wait(c, 100.0, BIG, p, a);
        let load = (c - 1.0) * p / (w * p + a);
        assert!(
            (w - (1.0 + load / (2.0 * (1.0 - load)))).abs() < 1e-6,
            "{w} {load}"
        );
    }
}
