//! Capacity prediction: the largest concurrency at which every graded
//! metric stays in tier A, before measuring (`tokenpace capacity` measures
//! it).
//!
//! Two models of what concurrency does:
//! - the roofline ([`roofline_capacity`]): a decode step of c streams reads
//!   the weights once and every stream's KV cache, and computes c tokens,
//!   so per-stream decode falls once the batch turns compute-bound or the
//!   KV reads dominate; KV-cache memory caps c at the contexts that fit;
//! - a batching law ([`BatchingLaw`]), the simulator's: per-stream decode
//!   = decode ÷ (1 + k·(c − 1)), TTFT = fixed + prompt ÷ prefill while c
//!   streams fit in the batch (beyond it requests queue).
//!
//! Both assume every metric gets worse as c grows, so the boundary is found
//! by bisection between 1 and the largest c allowed.

use crate::efficiency::Efficiency;
use crate::error::{positive, PlanError};
use crate::roofline::{estimate, Deployment, Traffic};
use serde::{Deserialize, Serialize};
use tokenpace_core::grade::{Grade, Tier};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::scenario::{chars_per_s, decode_per_stream, ttft};
use tokenpace_core::setting::Setting;

/// Most concurrent streams the search considers.
pub const MAX_SEARCH: u32 = 4096;

/// What stops a larger concurrency.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Limit")]
pub enum CapacityLimit {
    /// A graded metric leaves tier A.
    Metric(Metric),
    /// No more contexts fit in memory (KV cache).
    MemoryCapacity,
    /// The batch is full: more requests queue (the law's `max_batch`).
    BatchFull,
    /// The search ended at [`MAX_SEARCH`] with every metric in tier A.
    SearchEnd,
}

/// The predicted capacity.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[schemars(rename = "Capacity")]
pub struct PredictedCapacity {
    /// The largest concurrency with every graded metric in tier A (0: not
    /// even one stream).
    pub tier_a_max_concurrency: u32,
    /// What stops the next level.
    pub limit: CapacityLimit,
    /// The four graded metrics at `tier_a_max_concurrency` (at 1 when 0).
    pub at_max: Vec<(Metric, f64)>,
}

/// The first graded metric of `grade` outside tier A.
fn failing(grade: &Grade) -> Option<Metric> {
    grade
        .metrics
        .iter()
        .find(|m| m.tier > Tier::A)
        .map(|m| m.metric)
}

/// The largest c in 1..=max for which `check(c)` finds no limit, by
/// bisection (`check` must fail for every c above the first failure), with
/// the limit of c + 1 (or `at_end` when max passes).
fn bisect<E>(
    max: u32,
    at_end: CapacityLimit,
    mut check: impl FnMut(u32) -> Result<Option<CapacityLimit>, E>,
) -> Result<(u32, CapacityLimit), E> {
    if let Some(limit) = check(1)? {
        return Ok((0, limit));
    }
    if check(max)?.is_none() {
        return Ok((max, at_end));
    }
    let (mut ok, mut bad) = (1, max);
    while bad - ok > 1 {
        let mid = ok + (bad - ok) / 2;
        if check(mid)?.is_none() {
            ok = mid;
        } else {
            bad = mid;
        }
    }
    let limit = check(bad)?.unwrap_or(at_end);
    Ok((ok, limit))
}

/// The roofline's capacity of `d` serving `w` (its concurrency is
/// ignored): every concurrency up to the contexts that fit is graded on
/// `profile`.
pub fn roofline_capacity(
    d: &Deployment,
    w: &Traffic,
    eff: &Efficiency,
    profile: &Profile,
) -> Result<PredictedCapacity, PlanError> {
    let at = |c: u32| {
        let w = Traffic {
            concurrency: f64::from(c),
            ..w.clone()
        };
        estimate(d, &w, eff, profile)
    };
    let one = at(1)?;
    let fit = one.memory.contexts_fit.min(f64::from(MAX_SEARCH)) as u32;
    let (max, at_end) = if fit < MAX_SEARCH {
        (fit.max(1), CapacityLimit::MemoryCapacity)
    } else {
        (MAX_SEARCH, CapacityLimit::SearchEnd)
    };
    let (c, limit) = bisect(max, at_end, |c| {
        Ok::<_, PlanError>(failing(&at(c)?.grade).map(CapacityLimit::Metric))
    })?;
    Ok(PredictedCapacity {
        tier_a_max_concurrency: c,
        limit,
        at_max: at(c.max(1))?.values().to_vec(),
    })
}

/// The simulator's law of batching (`tokenpace sim --batch-slowdown`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct BatchingLaw {
    /// Fixed part of TTFT, seconds.
    pub fixed_ttft_s: f64,
    /// Prefill rate, prompt tokens/s.
    pub prefill_tok_s: f64,
    /// Decode rate of a stream alone, tokens/s.
    pub decode_tok_s: f64,
    /// k in decode ÷ (1 + k·(c − 1)).
    pub slowdown: f64,
    /// Streams decoded at once; more queue.
    pub max_batch: u32,
}

impl BatchingLaw {
    /// The four graded metrics of one request of `prompt_tokens` at
    /// concurrency `c` (within the batch), reading `chars_per_token`;
    /// prefill as tokenpace measures it (prompt ÷ TTFT without network).
    pub fn values(&self, prompt_tokens: f64, c: u32, chars_per_token: f64) -> [(Metric, f64); 4] {
        // The planners' one TTFT formula and the simulator's batching law.
        let ttft = ttft(self.fixed_ttft_s, prompt_tokens, self.prefill_tok_s);
        let decode = decode_per_stream(self.decode_tok_s, self.slowdown, f64::from(c));
        [
            (Metric::PrefillTokS, prompt_tokens / ttft),
            (Metric::DecodeTokS, decode),
            (Metric::TtftS, ttft),
            (Metric::OutputCharsS, chars_per_s(decode, chars_per_token)),
        ]
    }

    /// The law's capacity for prompts of `prompt_tokens`, graded on
    /// `profile`.
    pub fn capacity(
        &self,
        prompt_tokens: f64,
        chars_per_token: f64,
        profile: &Profile,
    ) -> Result<PredictedCapacity, PlanError> {
        positive("prefill rate", self.prefill_tok_s)?;
        positive("decode rate", self.decode_tok_s)?;
        positive("prompt tokens", prompt_tokens)?;
        positive(Setting::CharsPerToken, chars_per_token)?;
        if !(self.slowdown.is_finite() && self.slowdown >= 0.0 && self.fixed_ttft_s >= 0.0) {
            return Err(PlanError::Syntax(
                "the batch slowdown and the fixed TTFT must be finite numbers ≥ 0".into(),
            ));
        }
        let grade = |c: u32| {
            profile
                .grade_values(&self.values(prompt_tokens, c, chars_per_token))
                .map_err(|e| PlanError::InvalidNumber {
                    name: e.metric.id().to_string(),
                    expected: "a finite number ≥ 0 (the inputs are out of range)",
                    value: e.value,
                })
        };
        let max = self.max_batch.clamp(1, MAX_SEARCH);
        let at_end = if self.max_batch <= MAX_SEARCH {
            CapacityLimit::BatchFull
        } else {
            CapacityLimit::SearchEnd
        };
        let (c, limit) = bisect(max, at_end, |c| {
            Ok::<_, PlanError>(failing(&grade(c)?).map(CapacityLimit::Metric))
        })?;
        Ok(PredictedCapacity {
            tier_a_max_concurrency: c,
            limit,
            at_max: self
                .values(prompt_tokens, c.max(1), chars_per_token)
                .to_vec(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::quant::Quant;

    #[test]
    fn bisection_finds_the_last_passing_level() {
        for boundary in [0u32, 1, 2, 7, 63, 64] {
            let (c, limit) = bisect(64, CapacityLimit::SearchEnd, |c| {
                Ok::<_, ()>((c > boundary).then_some(CapacityLimit::Metric(Metric::DecodeTokS)))
            })
            .unwrap();
            assert_eq!(c, boundary);
            let expected = if boundary == 64 {
                CapacityLimit::SearchEnd
            } else {
                CapacityLimit::Metric(Metric::DecodeTokS)
            };
            assert_eq!(limit, expected);
        }
    }

    #[test]
    fn the_roofline_capacity_is_the_last_tier_a_level() {
        let c = Catalog::builtin();
        let d = Deployment {
            model: c.model("qwen2.5-7b").unwrap(),
            hardware: c.hardware("rtx-4090").unwrap(),
            quant: Quant::Int4,
            kv_cache: crate::kv_cache::KvCache::Fp16,
            devices: 1,
        };
        let (w, eff, p) = (Traffic::default(), Efficiency::DEFAULT, Profile::builtin());
        let cap = roofline_capacity(&d, &w, &eff, &p).unwrap();
        let n = cap.tier_a_max_concurrency;
        assert!(n > 1, "{cap:?}");
        let grade_at = |c: u32| {
            let w = Traffic {
                concurrency: f64::from(c),
                ..w.clone()
            };
            estimate(&d, &w, &eff, &p).unwrap()
        };
        assert!(!grade_at(n).grade.any_below(Tier::A));
        match cap.limit {
            CapacityLimit::Metric(m) => {
                let next = grade_at(n + 1);
                assert!(next.grade.any_below(Tier::A));
                assert!(next
                    .grade
                    .metrics
                    .iter()
                    .any(|g| g.metric == m && g.tier > Tier::A));
            }
            CapacityLimit::MemoryCapacity => {
                assert_eq!(f64::from(n), grade_at(1).memory.contexts_fit)
            }
            other => panic!("{other:?}"),
        }
    }
}
