//! Remedies: what each of the design notes' suggestions (smaller weights,
//! speculative decoding, a cached prompt prefix, prefill split across
//! devices, another card) would make of the four metrics, and what it would
//! take for each to reach the target.
//!
//! Every remedy starts from a [`Situation`] (the rates reached now and the
//! targets) and states its assumption in its [`Kind`]'s parameters. Without
//! a model and a device the remedies work on the rates alone; with them
//! ([`RooflineContext`]) quantisation and other cards are recomputed by the
//! roofline.

use crate::catalog::Catalog;
use crate::efficiency::Efficiency;
use crate::error::{non_negative, positive, PlanError};
use crate::quant::Quant;
use crate::roofline::{estimate, Deployment, Traffic};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::scenario::{
    chars_per_s, decode_for, prefill_for_ttft, ttft, Scenario, ScenarioPlan,
};

/// The rates reached now and the targets to reach.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Situation {
    /// Prompt tokens per request.
    pub prompt_tokens: f64,
    /// Network round trip included in TTFT, seconds.
    pub rtt_s: f64,
    /// TTFT to stay strictly below, seconds.
    pub ttft_target_s: f64,
    /// Reading speed to reach, characters/s.
    pub chars_per_s_target: f64,
    /// Visible characters per output token.
    pub chars_per_token: f64,
    /// Prefill rate reached now, tokens/s.
    pub prefill_tok_s: f64,
    /// Decode rate of one stream reached now, tokens/s.
    pub decode_tok_s: f64,
    /// How the weights are stored now (quantisation rows only offer
    /// narrower ones).
    pub quant: Quant,
}

impl Situation {
    /// A scenario's situation at the rates `prefill` and `decode`, with the
    /// weights stored as `quant`.
    pub fn of(sc: &Scenario, prefill: f64, decode: f64, quant: Quant) -> Situation {
        Situation {
            prompt_tokens: sc.prompt_tokens,
            rtt_s: sc.rtt_s,
            ttft_target_s: sc.ttft_target_s,
            chars_per_s_target: sc.chars_per_s_target,
            chars_per_token: sc.chars_per_token,
            prefill_tok_s: prefill,
            decode_tok_s: decode,
            quant,
        }
    }

    /// The prefill rate TTFT needs: any rate above it meets the target.
    pub fn required_prefill(&self) -> f64 {
        prefill_for_ttft(self.prompt_tokens, self.ttft_target_s, self.rtt_s)
    }

    /// The decode rate the reading speed needs.
    pub fn required_decode(&self) -> f64 {
        decode_for(self.chars_per_s_target, self.chars_per_token)
    }

    /// TTFT at a prefill rate.
    pub fn ttft_at(&self, prefill_tok_s: f64) -> f64 {
        ttft(self.rtt_s, self.prompt_tokens, prefill_tok_s)
    }

    /// TTFT reached now.
    pub fn ttft_s(&self) -> f64 {
        self.ttft_at(self.prefill_tok_s)
    }

    /// Reading speed reached now, characters/s.
    pub fn output_chars_s(&self) -> f64 {
        chars_per_s(self.decode_tok_s, self.chars_per_token)
    }

    fn validate(&self) -> Result<(), PlanError> {
        positive("--prompt-tokens", self.prompt_tokens)?;
        non_negative("--rtt", self.rtt_s)?;
        positive("--ttft-target", self.ttft_target_s)?;
        positive("--chars-per-s", self.chars_per_s_target)?;
        positive("--chars-per-token", self.chars_per_token)?;
        positive("--prefill", self.prefill_tok_s)?;
        positive("--decode", self.decode_tok_s)?;
        Ok(())
    }
}

/// The assumptions of the remedies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Params {
    /// Share of prompt tokens whose KV is already cached, in [0, 1).
    pub cache_hit: f64,
    /// Devices a prompt's prefill is split across.
    pub split_devices: u32,
    /// Scaling efficiency of the split: N devices prefill N × this as fast.
    pub split_efficiency: f64,
    /// Probability that the target model accepts a drafted token, [0, 1].
    pub spec_acceptance: f64,
    /// Tokens drafted per verification step.
    pub spec_draft_tokens: u32,
    /// Cost of drafting one token relative to one target decode step.
    pub spec_draft_cost: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cache_hit: 0.75,
            split_devices: 4,
            split_efficiency: 0.9,
            spec_acceptance: 0.7,
            spec_draft_tokens: 4,
            spec_draft_cost: 0.05,
        }
    }
}

impl Params {
    /// Checks every parameter, naming its flag.
    pub fn validate(&self) -> Result<(), PlanError> {
        let range = |name: &str, v: f64, ok: bool, expected: &'static str| {
            if v.is_finite() && ok {
                Ok(())
            } else {
                Err(PlanError::InvalidNumber {
                    name: name.to_string(),
                    expected,
                    value: v,
                })
            }
        };
        range(
            "--cache-hit",
            self.cache_hit,
            (0.0..1.0).contains(&self.cache_hit),
            "a fraction from 0 up to (not including) 1",
        )?;
        positive("--split-devices", f64::from(self.split_devices))?;
        range(
            "--split-efficiency",
            self.split_efficiency,
            self.split_efficiency > 0.0 && self.split_efficiency <= 1.0,
            "a fraction greater than 0 and at most 1",
        )?;
        range(
            "--spec-acceptance",
            self.spec_acceptance,
            (0.0..=1.0).contains(&self.spec_acceptance),
            "a fraction from 0 to 1",
        )?;
        positive("--spec-draft-tokens", f64::from(self.spec_draft_tokens))?;
        non_negative("--spec-draft-cost", self.spec_draft_cost)?;
        Ok(())
    }
}

/// Expected tokens produced per verification step with `k` drafted tokens
/// accepted each with probability `alpha`: (1 − α^(k+1)) / (1 − α), and
/// k + 1 at α = 1.
pub fn tokens_per_verify_step(alpha: f64, k: u32) -> f64 {
    if alpha >= 1.0 {
        return f64::from(k) + 1.0;
    }
    (1.0 - alpha.powi(k as i32 + 1)) / (1.0 - alpha)
}

/// Decode speed-up of speculative decoding: tokens per step divided by the
/// step's cost, one target step plus `k` drafts of relative cost `c`.
pub fn speculative_speedup(alpha: f64, k: u32, c: f64) -> f64 {
    tokens_per_verify_step(alpha, k) / (1.0 + f64::from(k) * c)
}

/// What a remedy's parameter must be for its target to be met.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Needed {
    /// The target is already met without the remedy.
    AlreadyMet,
    /// The prefix-cache hit ratio must exceed this.
    HitRatioAbove(f64),
    /// At least this many devices.
    DevicesAtLeast(u32),
    /// The acceptance rate must be at least this.
    AcceptanceAtLeast(f64),
    /// No value of the parameter reaches the target.
    Unreachable,
}

/// A remedy and its assumption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "remedy")]
pub enum Kind {
    /// Store the weights narrower. Without a model: decode speeds up by the
    /// ratio of bytes per weight (decode is memory-bound), prefill is
    /// unchanged (compute-bound). With one: recomputed by the roofline.
    Quantize {
        /// From this quantisation.
        from: Quant,
        /// To this one.
        to: Quant,
    },
    /// Speculative decoding with a draft model.
    Speculative {
        /// Acceptance rate of drafted tokens.
        acceptance: f64,
        /// Tokens drafted per step.
        draft_tokens: u32,
        /// Cost of one draft token relative to a target step.
        draft_cost: f64,
        /// Expected tokens per verification step.
        tokens_per_step: f64,
    },
    /// Reuse the KV cache of a prompt prefix (system prompt, shared
    /// document): only the uncached part is prefilled.
    PrefixCache {
        /// Share of prompt tokens cached.
        hit_ratio: f64,
    },
    /// Split one prompt's prefill across devices (sequence/context
    /// parallelism).
    SplitPrefill {
        /// Devices.
        devices: u32,
        /// Scaling efficiency.
        efficiency: f64,
    },
    /// Another catalog device, same model and quantisation.
    Hardware {
        /// Device id.
        id: String,
        /// Device name.
        name: String,
        /// Devices needed to hold the model (at least the current count).
        devices: u32,
    },
}

/// One remedy's predicted result.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Remedy {
    /// What is changed, with its assumption.
    #[serde(flatten)]
    pub kind: Kind,
    /// Predicted prefill rate, tokens/s.
    pub prefill_tok_s: f64,
    /// Predicted decode rate, tokens/s.
    pub decode_tok_s: f64,
    /// Predicted TTFT, seconds.
    pub ttft_s: f64,
    /// Predicted reading speed, characters/s.
    pub output_chars_s: f64,
    /// Whether TTFT is strictly below the target.
    pub meets_ttft: bool,
    /// Whether the reading speed reaches the target.
    pub meets_chars: bool,
    /// What the remedy's parameter must be to meet the target it addresses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub needed: Option<Needed>,
    /// The four graded metrics graded on the profile.
    pub grade: Grade,
}

impl Remedy {
    /// Targets met (0, 1 or 2).
    pub fn targets_met(&self) -> usize {
        usize::from(self.meets_ttft) + usize::from(self.meets_chars)
    }
}

/// A model on a device, for remedies the roofline recomputes.
#[derive(Debug, Clone)]
pub struct RooflineContext<'a> {
    /// The catalog whose cards are compared.
    pub catalog: &'a Catalog,
    /// The current deployment.
    pub deployment: Deployment<'a>,
    /// The workload.
    pub workload: Traffic,
    /// Efficiency factors.
    pub efficiency: &'a Efficiency,
}

/// Most devices tried to hold a model on another card.
pub const MAX_DEVICES: u32 = 8;

/// Every remedy for `s`, ranked: those meeting both targets first, then
/// one, then none; within a group by overall tier, then by how close the
/// worse of the two metrics comes to its target.
pub fn remedies(
    s: &Situation,
    params: &Params,
    profile: &Profile,
    roofline: Option<&RooflineContext>,
) -> Result<Vec<Remedy>, PlanError> {
    s.validate()?;
    params.validate()?;
    let mut out = Vec::new();
    let row = |kind: Kind, prefill: f64, decode: f64, needed: Option<Needed>| {
        predict(s, profile, kind, prefill, decode, needed)
    };

    // Narrower weights.
    for to in Quant::ALL {
        if to.bytes_per_weight() >= s.quant.bytes_per_weight() {
            continue;
        }
        let kind = Kind::Quantize { from: s.quant, to };
        let (prefill, decode) = match roofline {
            Some(r) => {
                let d = Deployment {
                    quant: to,
                    ..r.deployment
                };
                let e = estimate(&d, &r.workload, r.efficiency, profile)?;
                (e.prefill_tok_s, e.decode_tok_s)
            }
            None => (
                s.prefill_tok_s,
                s.decode_tok_s * s.quant.bytes_per_weight() / to.bytes_per_weight(),
            ),
        };
        out.push(row(kind, prefill, decode, None)?);
    }

    // Speculative decoding.
    let (a, k, c) = (
        params.spec_acceptance,
        params.spec_draft_tokens,
        params.spec_draft_cost,
    );
    out.push(row(
        Kind::Speculative {
            acceptance: a,
            draft_tokens: k,
            draft_cost: c,
            tokens_per_step: tokens_per_verify_step(a, k),
        },
        s.prefill_tok_s,
        s.decode_tok_s * speculative_speedup(a, k, c),
        Some(acceptance_needed(s, k, c)),
    )?);

    // Prefix KV cache.
    let h = params.cache_hit;
    out.push(row(
        Kind::PrefixCache { hit_ratio: h },
        s.prefill_tok_s / (1.0 - h),
        s.decode_tok_s,
        Some(hit_ratio_needed(s)),
    )?);

    // Split prefill.
    let (n, eff) = (params.split_devices, params.split_efficiency);
    out.push(row(
        Kind::SplitPrefill {
            devices: n,
            efficiency: eff,
        },
        s.prefill_tok_s * split_factor(n, eff),
        s.decode_tok_s,
        Some(devices_needed(s, eff)),
    )?);

    // Other cards.
    if let Some(r) = roofline {
        for hw in &r.catalog.hardware {
            if hw.id == r.deployment.hardware.id {
                continue;
            }
            let found =
                (r.deployment.devices..=MAX_DEVICES.max(r.deployment.devices)).find_map(|n| {
                    let d = Deployment {
                        hardware: hw,
                        devices: n,
                        ..r.deployment
                    };
                    estimate(&d, &r.workload, r.efficiency, profile)
                        .ok()
                        .map(|e| (n, e))
                });
            if let Some((n, e)) = found {
                out.push(row(
                    Kind::Hardware {
                        id: hw.id.clone(),
                        name: hw.name.clone(),
                        devices: n,
                    },
                    e.prefill_tok_s,
                    e.decode_tok_s,
                    None,
                )?);
            }
        }
    }

    rank(s, &mut out);
    Ok(out)
}

/// The remedies of a scenario whose given rates miss a target, with the
/// default assumptions ([`Params::default`]) and the weights stored as
/// `weights` (FP16, [`Quant::default`], when not known); `None` when both
/// targets are met or a rate was not given (the plan then assumed the
/// required one).
pub fn for_scenario(
    plan: &ScenarioPlan,
    profile: &Profile,
    weights: Option<Quant>,
) -> Option<(Situation, Vec<Remedy>)> {
    let (sc, p) = (&plan.scenario, &plan.predicted);
    if (p.meets_ttft_target && p.meets_chars_target)
        || sc.prefill_tok_s.is_none()
        || sc.decode_tok_s.is_none()
    {
        return None;
    }
    let s = Situation::of(
        sc,
        p.prefill_tok_s,
        p.decode_tok_s,
        weights.unwrap_or_default(),
    );
    remedies(&s, &Params::default(), profile, None)
        .ok()
        .map(|list| (s, list))
}

/// The speed-up of splitting prefill across `n` devices: 1 for one device,
/// n × efficiency for more.
pub fn split_factor(n: u32, efficiency: f64) -> f64 {
    if n <= 1 {
        1.0
    } else {
        f64::from(n) * efficiency
    }
}

fn predict(
    s: &Situation,
    profile: &Profile,
    kind: Kind,
    prefill: f64,
    decode: f64,
    needed: Option<Needed>,
) -> Result<Remedy, PlanError> {
    let ttft_s = s.ttft_at(prefill);
    let output_chars_s = chars_per_s(decode, s.chars_per_token);
    let grade = profile
        .grade_values(&[
            (Metric::PrefillTokS, prefill),
            (Metric::DecodeTokS, decode),
            (Metric::TtftS, ttft_s),
            (Metric::OutputCharsS, output_chars_s),
        ])
        .map_err(|e| PlanError::InvalidNumber {
            name: e.metric.id().to_string(),
            expected: "a finite number ≥ 0 (the inputs are out of range)",
            value: e.value,
        })?;
    Ok(Remedy {
        kind,
        prefill_tok_s: prefill,
        decode_tok_s: decode,
        ttft_s,
        output_chars_s,
        meets_ttft: ttft_s < s.ttft_target_s,
        meets_chars: output_chars_s >= s.chars_per_s_target,
        needed,
        grade,
    })
}

/// The hit ratio the prefix cache needs: TTFT = rtt + P(1 − h)/prefill must
/// stay below the target, i.e. prefill / (1 − h) above the required rate,
/// so h > 1 − prefill / required.
pub fn hit_ratio_needed(s: &Situation) -> Needed {
    if s.ttft_target_s - s.rtt_s <= 0.0 {
        return Needed::Unreachable;
    }
    let h = 1.0 - s.prefill_tok_s / s.required_prefill();
    if h < 0.0 {
        Needed::AlreadyMet
    } else {
        Needed::HitRatioAbove(h)
    }
}

/// The fewest devices whose split prefill brings TTFT strictly below the
/// target.
pub fn devices_needed(s: &Situation, efficiency: f64) -> Needed {
    let budget = s.ttft_target_s - s.rtt_s;
    if budget <= 0.0 {
        return Needed::Unreachable;
    }
    let required = s.required_prefill();
    if s.prefill_tok_s > required {
        return Needed::AlreadyMet;
    }
    (2..=1024)
        .find(|&n| s.prefill_tok_s * split_factor(n, efficiency) > required)
        .map_or(Needed::Unreachable, Needed::DevicesAtLeast)
}

/// The lowest acceptance rate with which speculative decoding reaches the
/// reading-speed target (bisection to 10⁻⁴).
pub fn acceptance_needed(s: &Situation, k: u32, c: f64) -> Needed {
    let need = s.required_decode() / s.decode_tok_s;
    if need <= 1.0 {
        return Needed::AlreadyMet;
    }
    if speculative_speedup(1.0, k, c) < need {
        return Needed::Unreachable;
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while hi - lo > 1e-4 {
        let mid = (lo + hi) / 2.0;
        if speculative_speedup(mid, k, c) >= need {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Needed::AcceptanceAtLeast(hi)
}

/// How close the worse of the two targeted metrics comes: min of
/// target-TTFT ÷ TTFT and reading speed ÷ target (≥ 1 meets both).
fn closeness(s: &Situation, r: &Remedy) -> f64 {
    let ttft = (s.ttft_target_s - s.rtt_s) / (r.ttft_s - s.rtt_s);
    let chars = r.output_chars_s / s.chars_per_s_target;
    ttft.min(chars)
}

fn rank(s: &Situation, out: &mut [Remedy]) {
    out.sort_by(|a, b| {
        b.targets_met()
            .cmp(&a.targets_met())
            .then(a.grade.overall.cmp(&b.grade.overall))
            .then(
                closeness(s, b)
                    .partial_cmp(&closeness(s, a))
                    .unwrap_or(Ordering::Equal),
            )
    });
}

#[cfg(test)]
mod tests;
