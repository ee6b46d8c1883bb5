//! The default mix against the embedded engine, measured by
//! [`tokenpace_runner::mix::run`] and handed on as one [`MixOutput`], in
//! any `--format` (and as one HTML page with `--html`).

use crate::cli::BenchArgs;
use crate::output::mix::{MixOutput, MixPrediction, MixRemedies, MixScenario, PredictedScenario};
use crate::progress::TerminalProgress;
use crate::{input, Status};
use std::io::Write;
use tokenpace_plan::predict::{Prediction, Shortfall};
use tokenpace_plan::quant::Quant;
use tokenpace_present::Lang;
use tokenpace_runner::mix::{Mix, SCALE};
use tokenpace_runner::BenchPlan;

/// Runs the mix against `base`'s target, as `args` ask;
/// `weights`: how the model's weights are stored, for the remedies.
pub(super) fn run(
    base: &BenchPlan,
    args: &BenchArgs,
    lang: Lang,
    out: &mut dyn Write,
    weights: Option<Quant>,
) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let ctx = args.engine.ctx_size;
    let mix = tokenpace_runner::mix::run(base, ctx, profile, weights, &TerminalProgress(lang))?;
    if let Some(path) = &args.html {
        // One page: the sweep's levels (the prefill line) and each scenario.
        let levels = (mix.sweep.results.iter().map(|r| (r.label.clone(), r)))
            .chain(mix.scenarios.iter().map(|s| (s.name.clone(), &s.result)));
        let title = lang.pick("embedded engine, default mix", "内置引擎，默认测试组合");
        super::super::export::write_report(path, title, levels, &mix.sweep.profile, lang)?;
    }
    let output = output(&mix, lang);
    out.write_all(tokenpace_present::export(&output, args.output.format, lang)?.as_bytes())?;
    let below = args
        .fail_below
        .is_some_and(|t| output.scenarios.iter().any(|m| m.grade.any_below(t.into())));
    Ok(super::super::export::status(mix.partial(), below))
}

/// The mix as it is printed and serialised.
fn output(mix: &Mix, lang: Lang) -> MixOutput {
    let notes = crate::output::bench::notes(&mix.sweep, lang);
    MixOutput {
        sweep: crate::output::bench::sweep_output(&mix.sweep.results, &mix.sweep, notes),
        scenarios: mix
            .scenarios
            .iter()
            .map(|s| MixScenario {
                name: s.name.clone(),
                prompt_tokens: s.prompt_tokens,
                answer_tokens: s.answer_tokens,
                summary: s.result.summary.clone(),
                grade: s.result.grade.clone(),
            })
            .collect(),
        scale: SCALE,
        prediction: mix.prediction.as_ref().map(prediction),
        remedies: mix.remedies.as_ref().map(remedies),
    }
}

fn prediction(p: &Prediction) -> MixPrediction {
    MixPrediction {
        prefill_tok_s: p.prefill_tok_s,
        decode_tok_s: p.decode_tok_s,
        chars_per_token: p.chars_per_token,
        fixed_ttft_s: p.fixed_ttft_s,
        scenarios: (p.scenarios.iter())
            .map(|(name, plan)| PredictedScenario {
                name: name.clone(),
                plan: plan.clone(),
            })
            .collect(),
    }
}

fn remedies(s: &Shortfall) -> MixRemedies {
    MixRemedies {
        scenario: s.scenario.clone(),
        weights_assumed: s.weights_assumed,
        situation: s.situation,
        remedies: s.remedies.clone(),
    }
}
