//! Remedies: what each of the design notes' suggestions (smaller weights,
//! speculative decoding, a cached prompt prefix, prefill split across
//! devices, another card) would make of the four metrics, and what it would
//! take for each to reach the target.
//!
//! Every remedy starts from a [`Situation`] (the rates reached now and the
//! targets) and states its assumption in its [`RemedyKind`]'s parameters. Without
//! a model and a device the remedies work on the rates alone; with them
//! ([`RooflineContext`]) quantisation and other cards are recomputed by the
//! roofline.

mod gains;
mod needed;
mod params;
mod situation;

use crate::catalog::Catalog;
use crate::efficiency::Efficiency;
use crate::error::PlanError;
use crate::quant::{Quant, Support};
use crate::roofline::{estimate, Deployment, Traffic};
use serde::{Deserialize, Serialize};
use std::cmp::Ordering;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::scenario::{chars_per_s, ScenarioPlan};

pub use gains::{speculative_speedup, split_factor, tokens_per_verify_step};
pub use needed::{acceptance_needed, devices_needed, hit_ratio_needed, Needed};
pub use params::Params;
pub use situation::Situation;

/// A remedy and its assumption.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "remedy")]
#[schemars(rename = "Kind")]
pub enum RemedyKind {
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
    pub kind: RemedyKind,
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
    let mut out = narrower_weights(s, profile, roofline)?;
    out.push(speculative_decoding(s, params, profile)?);
    out.push(prefix_cache(s, params, profile)?);
    out.push(split_prefill(s, params, profile)?);
    if let Some(r) = roofline {
        out.extend(other_cards(s, r, profile)?);
    }
    rank(s, &mut out);
    Ok(out)
}

/// Whether narrower weights in `to` are offered: INT8 and INT4 run on
/// any device (natively or weight-only); FP8 and the FP4 formats only on a
/// device known to run them natively, where an engine would choose them.
fn offered(to: Quant, roofline: Option<&RooflineContext>) -> bool {
    matches!(to, Quant::Int8 | Quant::Int4)
        || roofline.is_some_and(|r| r.deployment.hardware.support(to) == Support::Native)
}

/// One remedy per offered format narrower than the current one (none when
/// the weights are already the narrowest): decode scaled by the bytes per
/// weight, or both rates from the roofline.
fn narrower_weights(
    s: &Situation,
    profile: &Profile,
    roofline: Option<&RooflineContext>,
) -> Result<Vec<Remedy>, PlanError> {
    let mut out = Vec::new();
    for to in Quant::ALL {
        if to.bytes_per_weight() >= s.quant.bytes_per_weight() || !offered(to, roofline) {
            continue;
        }
        let kind = RemedyKind::Quantize { from: s.quant, to };
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
        out.push(predict(s, profile, kind, prefill, decode, None)?);
    }
    Ok(out)
}

/// Speculative decoding with the assumed draft model.
fn speculative_decoding(
    s: &Situation,
    params: &Params,
    profile: &Profile,
) -> Result<Remedy, PlanError> {
    let (a, k, c) = (
        params.spec_acceptance,
        params.spec_draft_tokens,
        params.spec_draft_cost,
    );
    predict(
        s,
        profile,
        RemedyKind::Speculative {
            acceptance: a,
            draft_tokens: k,
            draft_cost: c,
            tokens_per_step: tokens_per_verify_step(a, k),
        },
        s.prefill_tok_s,
        s.decode_tok_s * speculative_speedup(a, k, c),
        Some(acceptance_needed(s, k, c)),
    )
}

/// A prefix KV cache hit at the assumed ratio.
fn prefix_cache(s: &Situation, params: &Params, profile: &Profile) -> Result<Remedy, PlanError> {
    let h = params.cache_hit;
    predict(
        s,
        profile,
        RemedyKind::PrefixCache { hit_ratio: h },
        s.prefill_tok_s / (1.0 - h),
        s.decode_tok_s,
        Some(hit_ratio_needed(s)),
    )
}

/// Prefill split across the assumed devices.
fn split_prefill(s: &Situation, params: &Params, profile: &Profile) -> Result<Remedy, PlanError> {
    let (n, eff) = (params.split_devices, params.split_efficiency);
    predict(
        s,
        profile,
        RemedyKind::SplitPrefill {
            devices: n,
            efficiency: eff,
        },
        s.prefill_tok_s * split_factor(n, eff),
        s.decode_tok_s,
        Some(devices_needed(s, eff)),
    )
}

/// Every other card of the catalog that holds the model on at most
/// [`MAX_DEVICES`] (and no fewer than now), recomputed by the roofline.
fn other_cards(
    s: &Situation,
    r: &RooflineContext,
    profile: &Profile,
) -> Result<Vec<Remedy>, PlanError> {
    let mut out = Vec::new();
    for hw in &r.catalog.hardware {
        if hw.id == r.deployment.hardware.id {
            continue;
        }
        let found = (r.deployment.devices..=MAX_DEVICES.max(r.deployment.devices)).find_map(|n| {
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
            out.push(predict(
                s,
                profile,
                RemedyKind::Hardware {
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

/// A remedy's predicted result: TTFT and reading speed at `prefill` and
/// `decode`, whether they meet the targets, and the grade.
fn predict(
    s: &Situation,
    profile: &Profile,
    kind: RemedyKind,
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

/// How close the worse of the two targeted metrics comes: min of
/// target-TTFT ÷ TTFT and reading speed ÷ target (≥ 1 meets both).
fn closeness(s: &Situation, r: &Remedy) -> f64 {
    let ttft = (s.ttft_target_s - s.rtt_s) / (r.ttft_s - s.rtt_s);
    let chars = r.output_chars_s / s.chars_per_s_target;
    ttft.min(chars)
}

/// Orders remedies as [`remedies`] lists them.
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
