//! The built-in scenarios at full size, predicted from rates measured on
//! this model (the prefill line of a prompt-length sweep, the per-stream
//! decode rate and the characters per token of a smaller mix), and the
//! remedies for the one that falls short: the last part of `bench`'s
//! default mix against the embedded engine.

use crate::quant::Quant;
use crate::remedies::{for_scenario, Remedy, Situation};
use tokenpace_core::profile::Profile;
use tokenpace_core::regression::PrefillFit;
use tokenpace_core::scenario::{ScenarioPlan, ScenarioSpec, PRESETS};

/// The scenario whose remedies are shown when it falls short (the worked
/// example of docs/plan.md).
pub const WORKED_EXAMPLE: &str = "long-summary";

/// What the measured rates predict for every built-in scenario.
#[derive(Debug, Clone)]
pub struct Prediction {
    /// The prefill line's slope, tokens/s.
    pub prefill_tok_s: f64,
    /// The per-stream decode rate, tokens/s.
    pub decode_tok_s: f64,
    /// Visible characters per token.
    pub chars_per_token: f64,
    /// TTFT's fixed part (the line's intercept, never negative), seconds.
    pub fixed_ttft_s: f64,
    /// Each built-in scenario at full size, by name.
    pub scenarios: Vec<(String, ScenarioPlan)>,
}

/// The remedies for the scenario that falls short.
#[derive(Debug, Clone)]
pub struct Shortfall {
    /// The scenario.
    pub scenario: String,
    /// Whether the weights' format was assumed (not read from the model).
    pub weights_assumed: bool,
    /// The rates and targets the remedies start from.
    pub situation: Situation,
    /// Each remedy's predicted effect.
    pub remedies: Vec<Remedy>,
}

/// Every built-in scenario at full size from the prefill line `fit`, the
/// measured `decode_tok_s` and `chars_per_token`, planned on `profile`.
pub fn predict(
    fit: &PrefillFit,
    decode_tok_s: f64,
    chars_per_token: f64,
    profile: &Profile,
) -> Prediction {
    let fixed = fit.overhead_s.max(0.0);
    let scenarios = PRESETS
        .iter()
        .filter_map(|p| {
            let spec = p.spec().overlay(ScenarioSpec {
                rtt_s: Some(fixed),
                prefill_tok_s: Some(fit.prefill_tok_s),
                decode_tok_s: Some(decode_tok_s),
                chars_per_token: Some((chars_per_token, "measured on this model".into())),
                ..ScenarioSpec::default()
            });
            Some((
                p.name.to_string(),
                spec.resolve(profile).ok()?.plan(profile),
            ))
        })
        .collect();
    Prediction {
        prefill_tok_s: fit.prefill_tok_s,
        decode_tok_s,
        chars_per_token,
        fixed_ttft_s: fixed,
        scenarios,
    }
}

/// Remedies for the worked example ([`WORKED_EXAMPLE`]) if it misses its
/// targets, else for the first scenario that does; `weights`: how the
/// model's weights are stored (assumed when `None`).
pub fn shortfall(
    prediction: &Prediction,
    profile: &Profile,
    weights: Option<Quant>,
) -> Option<Shortfall> {
    let missing =
        |p: &ScenarioPlan| !(p.predicted.meets_ttft_target && p.predicted.meets_chars_target);
    let predicted = &prediction.scenarios;
    let (name, plan) = predicted
        .iter()
        .find(|(name, plan)| name == WORKED_EXAMPLE && missing(plan))
        .or_else(|| predicted.iter().find(|(_, plan)| missing(plan)))?;
    let (situation, remedies) = for_scenario(plan, profile, weights)?;
    Some(Shortfall {
        scenario: name.clone(),
        weights_assumed: weights.is_none(),
        situation,
        remedies,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(prefill_tok_s: f64) -> PrefillFit {
        PrefillFit {
            overhead_s: -0.01,
            prefill_tok_s,
            r2: 1.0,
            n: 9,
            through_origin: false,
        }
    }

    #[test]
    fn every_preset_is_predicted_from_the_measured_rates() {
        let profile = Profile::builtin();
        let p = predict(&line(5000.0), 40.0, 1.2, &profile);
        assert_eq!(p.scenarios.len(), PRESETS.len());
        // TTFT's fixed part is never negative.
        assert_eq!(p.fixed_ttft_s, 0.0);
        assert_eq!((p.prefill_tok_s, p.decode_tok_s), (5000.0, 40.0));
        for (_, plan) in &p.scenarios {
            assert_eq!(plan.scenario.prefill_tok_s, Some(5000.0));
        }
    }

    #[test]
    fn remedies_go_to_the_worked_example_when_it_falls_short() {
        let profile = Profile::builtin();
        let fast = predict(&line(1e9), 1e6, 1.2, &profile);
        assert!(shortfall(&fast, &profile, None).is_none());
        let slow = predict(&line(50.0), 2.0, 1.2, &profile);
        let s = shortfall(&slow, &profile, None).expect("a scenario falls short");
        assert_eq!(s.scenario, WORKED_EXAMPLE);
        assert!(s.weights_assumed);
    }
}
