//! `bench`'s default mix against the embedded engine: (1) the prefill line
//! from a prompt-length sweep, (2) the built-in scenarios scaled down to
//! finish in a few minutes, measured and graded, (3) the full-size
//! scenarios predicted from the measured rates, and remedies for the one
//! that falls shortest ([`tokenpace_plan::predict`]). Each part is a plan
//! derived from the user's.

use crate::level::LevelResult;
use crate::measure::{measure, Measurement};
use crate::plan::{BenchPlan, LevelPlan, SelfCheck, WorkloadPlan};
use crate::progress::{Progress, Stage};
use tokenpace_client::load::Load;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::scenario::{preset_named, ScenarioSpec};
use tokenpace_core::stats::{Statistic, Stats};
use tokenpace_plan::predict::{predict, shortfall, Prediction, Shortfall};
use tokenpace_plan::quant::Quant;

/// Scenarios measured, scaled by [`SCALE`]: one per kind of product.
pub const MEASURED: [&str; 5] = [
    "customer-service",
    "code-paste",
    "writing-assistant",
    "smart-speaker",
    "long-summary",
];
/// Prompt and answer lengths are scaled by this to fit the time budget.
pub const SCALE: f64 = 0.25;
/// Requests per measured scenario and per sweep point.
pub const REQUESTS: u64 = 3;
/// The sweep's prompt lengths (those that fit the context).
const SWEEP_PROMPTS: [u32; 3] = [64, 256, 512];
/// The sweep's answer length.
const SWEEP_ANSWER: u32 = 16;
/// Tokens of the context left for the answer.
const ANSWER_ROOM: u32 = 64;

/// A built-in scenario measured at reduced size.
#[derive(Debug, Clone)]
pub struct ScenarioRun {
    /// The scenario's name.
    pub name: String,
    /// Prompt tokens sent.
    pub prompt_tokens: u32,
    /// Answer tokens asked for.
    pub answer_tokens: u32,
    /// What was measured.
    pub result: LevelResult,
}

/// The whole mix.
#[derive(Debug, Clone)]
pub struct Mix {
    /// The prompt-length sweep (the prefill line).
    pub sweep: Measurement,
    /// The scenarios measured at reduced size ([`SCALE`]).
    pub scenarios: Vec<ScenarioRun>,
    /// The full-size prediction, when the sweep gave a line and requests
    /// decoded.
    pub prediction: Option<Prediction>,
    /// The remedies for the scenario that falls short, if one does.
    pub remedies: Option<Shortfall>,
}

impl Mix {
    /// Whether Ctrl-C (or SIGTERM) cut a part short.
    pub fn partial(&self) -> bool {
        self.sweep.partial() || self.scenarios.iter().any(|s| s.result.summary.partial)
    }
}

/// Runs the mix against `base`'s target (a model with a context of
/// `ctx_size` tokens whose weights are stored as `weights`), each part's
/// files in its own directory of `base.out`.
pub fn run(
    base: &BenchPlan,
    ctx_size: u32,
    profile: Profile,
    weights: Option<Quant>,
    progress: &dyn Progress,
) -> anyhow::Result<Mix> {
    // The longest prompt must leave room for the answer in the context.
    let room = ctx_size.saturating_sub(ANSWER_ROOM);
    progress.stage(Stage::MixSweep);
    let prompts = SWEEP_PROMPTS.into_iter().filter(|&p| p <= room);
    let sweep_plan = part(base, prompts.map(one).collect(), SWEEP_ANSWER, "sweep");
    let sweep = measure(&sweep_plan, profile.clone(), progress)?;
    let mut scenarios = Vec::new();
    for (i, name) in MEASURED.iter().enumerate() {
        let Some(preset) = preset_named(name) else {
            continue;
        };
        let (prompt, answer) = scaled(&preset.spec(), room);
        progress.stage(Stage::MixScenario {
            index: i + 1,
            of: MEASURED.len(),
            name,
            prompt_tokens: prompt,
            answer_tokens: answer,
        });
        let plan = part(base, vec![one(prompt)], answer, name);
        let mut m = measure(&plan, profile.clone(), progress)?;
        scenarios.push(ScenarioRun {
            name: name.to_string(),
            prompt_tokens: prompt,
            answer_tokens: answer,
            result: m.results.remove(0),
        });
    }
    let prediction = full_size(&sweep, &scenarios, &profile);
    let remedies = prediction
        .as_ref()
        .and_then(|p| shortfall(p, &profile, weights));
    Ok(Mix {
        sweep,
        scenarios,
        prediction,
        remedies,
    })
}

/// One stream of `prompt_tokens`-token prompts.
fn one(prompt_tokens: u32) -> LevelPlan {
    LevelPlan {
        load: Load::Closed { concurrency: 1 },
        prompt_tokens,
    }
}

/// A part of the mix: `base` with these levels, [`REQUESTS`] requests of
/// `max_tokens`-token answers, its files in `base.out`'s `dir`, and no
/// self-check.
fn part(base: &BenchPlan, levels: Vec<LevelPlan>, max_tokens: u32, dir: &str) -> BenchPlan {
    BenchPlan {
        levels,
        requests: REQUESTS,
        workload: WorkloadPlan {
            max_tokens,
            ..base.workload.clone()
        },
        out: base.out.as_ref().map(|d| d.join(dir)),
        self_check: SelfCheck::Off,
        ..base.clone()
    }
}

/// A scenario's prompt and answer lengths scaled by [`SCALE`]: the prompt
/// at most half the `room` the context leaves, both at least 8 tokens.
pub fn scaled(spec: &ScenarioSpec, room: u32) -> (u32, u32) {
    let prompt = ((spec.prompt_tokens.unwrap_or(256.0) * SCALE).round() as u32).clamp(8, room / 2);
    let answer = ((spec.output_tokens.unwrap_or(128.0) * SCALE).round() as u32).max(8);
    (prompt, answer)
}

/// The full-size prediction from the sweep's line and the scenarios'
/// median decode rate and characters per token.
fn full_size(
    sweep: &Measurement,
    scenarios: &[ScenarioRun],
    profile: &Profile,
) -> Option<Prediction> {
    let fit = sweep.fit.as_ref()?.as_ref().ok()?;
    let p50 = |m: Metric| {
        let mut v: Vec<f64> = scenarios
            .iter()
            .filter_map(|s| s.result.summary.get(m, Statistic::P50))
            .collect();
        Stats::from_values(&mut v).map(|s| s.p50)
    };
    let (decode, cpt) = (p50(Metric::DecodeTokS)?, p50(Metric::CharsPerToken)?);
    Some(predict(fit, decode, cpt, profile))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_are_scaled_to_fit_the_context() {
        let spec = ScenarioSpec {
            prompt_tokens: Some(4000.0),
            output_tokens: Some(300.0),
            ..ScenarioSpec::default()
        };
        assert_eq!(scaled(&spec, 8192 - ANSWER_ROOM), (1000, 75));
        // The prompt takes at most half the room; both at least 8 tokens.
        assert_eq!(scaled(&spec, 1000), (500, 75));
        let tiny = ScenarioSpec {
            prompt_tokens: Some(4.0),
            output_tokens: Some(4.0),
            ..ScenarioSpec::default()
        };
        assert_eq!(scaled(&tiny, 1000), (8, 8));
        // Unknown lengths: the defaults' quarter.
        assert_eq!(scaled(&ScenarioSpec::default(), 1000), (64, 32));
    }

    #[test]
    fn every_measured_scenario_is_a_preset() {
        for name in MEASURED {
            assert!(preset_named(name).is_some(), "{name}");
        }
    }
}
