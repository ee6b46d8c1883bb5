//! The default mix against the embedded engine: (1) the prefill line from a
//! prompt-length sweep, (2) the built-in scenarios at a quarter of their
//! size, measured and graded, (3) the full-size scenarios predicted from the
//! measured rates, and remedies for the one that falls shortest. Each part
//! is a [`BenchPlan`] derived from the user's; the result is one
//! [`MixOutput`], in any `--format`.

use crate::cli::BenchArgs;
use crate::output::mix::{MixOutput, MixPrediction, MixRemedies, MixScenario, PredictedScenario};
use crate::output::run::{FitOutput, SweepOutput};
use crate::{input, Status};
use std::io::Write;
use tokenpace_client::load::Load;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::regression::PrefillFit;
use tokenpace_core::scenario::{preset_named, ScenarioPlan, ScenarioSpec, PRESETS};
use tokenpace_core::stats::Statistic;
use tokenpace_plan::quant::Quant;
use tokenpace_present::Lang;
use tokenpace_runner::{BenchPlan, Level};

/// Scenarios measured, scaled by [`SCALE`]: one per kind of product.
const MEASURED: [&str; 5] = [
    "customer-service",
    "code-paste",
    "writing-assistant",
    "smart-speaker",
    "long-summary",
];
/// Prompt and answer lengths are scaled by this to fit the time budget.
const SCALE: f64 = 0.25;
/// Requests per measured scenario and per sweep point.
const REQUESTS: u64 = 3;

/// Runs the mix; `args.url` points at the engine's server.
/// `weights`: how the model's weights are stored, for the remedies.
pub(super) fn run(
    args: BenchArgs,
    lang: Lang,
    out: &mut dyn Write,
    weights: Option<Quant>,
) -> anyhow::Result<Status> {
    let url = args.url.clone().unwrap_or_default();
    let base = super::super::options::plan(&args, &url)?;
    let profile = input::profile(args.profile.file.as_deref())?;
    // The longest prompt must leave room for the answer in the context.
    let room = args.engine.ctx_size.saturating_sub(64);
    let one = |prompt_tokens| Level {
        load: Load::Closed { concurrency: 1 },
        prompt_tokens,
    };
    let part = |levels: Vec<Level>, max_tokens: u32, dir: &str| BenchPlan {
        levels,
        requests: REQUESTS,
        workload: tokenpace_runner::WorkloadPlan {
            max_tokens,
            ..base.workload.clone()
        },
        out: args.out.as_ref().map(|d| d.join(dir)),
        ..base.clone()
    };

    crate::progress::note(format_args!(
        "[1/3] {}",
        lang.pick(
            "prefill line: prompt-length sweep",
            "prefill 直线：提示长度扫描"
        )
    ));
    let prompts = [64, 256, 512].into_iter().filter(|&p| p <= room);
    let sweep_plan = part(prompts.map(one).collect(), 16, "sweep");
    let swept = super::super::measure(&sweep_plan, profile.clone(), false, lang)?;

    let mut scenarios = Vec::new();
    let mut measured_levels = Vec::new();
    for (i, name) in MEASURED.iter().enumerate() {
        let Some(preset) = preset_named(name) else {
            continue;
        };
        let spec = preset.spec();
        let prompt =
            ((spec.prompt_tokens.unwrap_or(256.0) * SCALE).round() as u32).clamp(8, room / 2);
        let answer = ((spec.output_tokens.unwrap_or(128.0) * SCALE).round() as u32).max(8);
        crate::progress::note(format_args!(
            "[2/3] {} {}/{}: {name} ({prompt} → {answer} tokens)",
            lang.pick("scenario", "场景"),
            i + 1,
            MEASURED.len()
        ));
        let mut m = super::super::measure(
            &part(vec![one(prompt)], answer, name),
            profile.clone(),
            false,
            lang,
        )?;
        let result = m.results.remove(0);
        scenarios.push(MixScenario {
            name: name.to_string(),
            prompt_tokens: prompt,
            answer_tokens: answer,
            summary: result.summary.clone(),
            grade: result.grade.clone(),
        });
        measured_levels.push((name.to_string(), result));
    }
    if let Some(path) = &args.html {
        // One page: the sweep's levels (the prefill line) and each scenario.
        let levels = swept
            .results
            .iter()
            .map(|r| (r.label.clone(), r))
            .chain(measured_levels.iter().map(|(n, r)| (n.clone(), r)));
        let title = lang.pick("embedded engine, default mix", "内置引擎，默认测试组合");
        super::super::write_report(path, title, levels, &profile, lang)?;
    }
    let fit = swept.fit.as_ref().and_then(|f| f.as_ref().ok()).copied();
    let prediction = fit.and_then(|f| predict(&f, &scenarios, &profile));
    let remedies = prediction
        .as_ref()
        .and_then(|p| remedies(&p.scenarios, &profile, weights));
    let output = MixOutput {
        sweep: SweepOutput {
            levels: swept
                .results
                .iter()
                .map(super::super::level_output)
                .collect(),
            prefill_fit: swept.fit.as_ref().map(FitOutput::from),
            self_check: None,
            notes: swept.notes,
        },
        scenarios,
        scale: SCALE,
        prediction,
        remedies,
    };
    out.write_all(tokenpace_present::export(&output, args.output.format, lang)?.as_bytes())?;
    let below = args
        .fail_below
        .is_some_and(|t| output.scenarios.iter().any(|m| m.grade.any_below(t.into())));
    let interrupted = swept
        .results
        .iter()
        .chain(measured_levels.iter().map(|(_, r)| r))
        .any(|r| r.summary.partial);
    Ok(if interrupted {
        Status::Interrupted
    } else if below {
        Status::BelowTier
    } else {
        Status::Ok
    })
}

/// Every built-in scenario at full size, from the prefill line and the
/// scenarios' median decode rate and characters per token.
fn predict(fit: &PrefillFit, measured: &[MixScenario], profile: &Profile) -> Option<MixPrediction> {
    let p50 = |m: Metric| {
        median(
            measured
                .iter()
                .filter_map(|s| s.summary.get(m, Statistic::P50)),
        )
    };
    let (decode, cpt) = (p50(Metric::DecodeTokS)?, p50(Metric::CharsPerToken)?);
    let fixed = fit.overhead_s.max(0.0);
    let scenarios = PRESETS
        .iter()
        .filter_map(|p| {
            let spec = p.spec().overlay(ScenarioSpec {
                rtt_s: Some(fixed),
                prefill_tok_s: Some(fit.prefill_tok_s),
                decode_tok_s: Some(decode),
                chars_per_token: Some((cpt, "measured on this model".into())),
                ..ScenarioSpec::default()
            });
            Some(PredictedScenario {
                name: p.name.to_string(),
                plan: spec.resolve(profile).ok()?.plan(profile),
            })
        })
        .collect();
    Some(MixPrediction {
        prefill_tok_s: fit.prefill_tok_s,
        decode_tok_s: decode,
        chars_per_token: cpt,
        fixed_ttft_s: fixed,
        scenarios,
    })
}

/// Remedies for the worked example (long-summary) if it misses its
/// targets, else for the first scenario that does.
fn remedies(
    predicted: &[PredictedScenario],
    profile: &Profile,
    weights: Option<Quant>,
) -> Option<MixRemedies> {
    let missing =
        |p: &ScenarioPlan| !(p.predicted.meets_ttft_target && p.predicted.meets_chars_target);
    let pick = predicted
        .iter()
        .find(|s| s.name == "long-summary" && missing(&s.plan))
        .or_else(|| predicted.iter().find(|s| missing(&s.plan)))?;
    let (situation, remedies) =
        tokenpace_plan::remedies::for_scenario(&pick.plan, profile, weights)?;
    Some(MixRemedies {
        scenario: pick.name.clone(),
        weights_assumed: weights.is_none(),
        situation,
        remedies,
    })
}

fn median(values: impl Iterator<Item = f64>) -> Option<f64> {
    let mut v: Vec<f64> = values.filter(|x| x.is_finite()).collect();
    v.sort_by(f64::total_cmp);
    match v.len() {
        0 => None,
        n if n % 2 == 1 => Some(v[n / 2]),
        n => Some((v[n / 2 - 1] + v[n / 2]) / 2.0),
    }
}
