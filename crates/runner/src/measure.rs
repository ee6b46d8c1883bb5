//! A whole measurement of a plan: the runner set up once, the client's own
//! timing error checked first when asked ([`crate::self_check`]), every
//! level run in order (a sweep's levels each in their own directory) until
//! one is interrupted, a prompt-length sweep's levels graded on its
//! prefill line, `sweep.json` written, and the caveats found.

use crate::caveats::{caveats, Caveat};
use crate::level::{LevelResult, LevelRun};
use crate::plan::BenchPlan;
use crate::progress::{Progress, Stage};
use crate::runner::Runner;
use crate::self_check::TimingError;
use anyhow::Context;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::setting::Setting;
use tokenpace_rundir::RunDir;

/// Decode rate of the simulator the self-check runs against, tokens/s.
const SELF_CHECK_DECODE: f64 = 50.0;

/// Everything a measurement found.
#[derive(Debug, Clone)]
pub struct Measurement {
    /// The levels measured, in order (the last one cut short when the run
    /// was interrupted).
    pub results: Vec<LevelResult>,
    /// The prefill line, when prompt lengths were swept (every level is
    /// then graded on it).
    pub fit: Option<Result<PrefillFit, FitError>>,
    /// What qualifies the numbers.
    pub caveats: Vec<Caveat>,
    /// The client's own timing error, when it was checked.
    pub self_check: Option<TimingError>,
    /// The profile the levels were graded on.
    pub profile: Profile,
}

impl Measurement {
    /// Whether Ctrl-C (or SIGTERM) cut the measurement short.
    pub fn partial(&self) -> bool {
        self.results.iter().any(|r| r.summary.partial)
    }
}

/// Measures every level of `plan`, graded on `profile`; with a self-check
/// ([`BenchPlan::self_check_streams`]), first the client's own timing
/// error at the plan's largest concurrency. Results go to `plan.out` when
/// it is set.
pub fn measure(
    plan: &BenchPlan,
    profile: Profile,
    progress: &dyn Progress,
) -> anyhow::Result<Measurement> {
    if let Some(dir) = &plan.out {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("could not create the output directory '{}'", dir.display())
        })?;
    }
    let runner = Runner::new(plan, profile, plan.max_in_flight())?;
    progress.stage(Stage::Ready {
        prompts: runner.prompts(),
        synthetic: runner.synthetic(plan),
        http: runner.http_version(),
    });
    let self_check = self_check(&runner, plan, progress)?;
    let mut results = runner.run_levels(plan, progress)?;
    let fit = plan
        .sweeps_prompts()
        .then(|| PrefillFit::from_records(results.iter().flat_map(|r| &r.records)));
    // A sweep measures prefill by its line: grade every level on it.
    if let Some(Ok(line)) = &fit {
        for r in &mut results {
            r.grade = runner
                .profile
                .grade_run(|m, st| r.summary.get(m, st), Some(line))?;
            tokenpace_core::ceiling::cap(&mut r.grade, r.summary.client.as_ref());
        }
    }
    if let (Some(dir), true) = (&plan.out, results.len() > 1) {
        crate::sweep::write(&RunDir::new(dir), &results, fit.as_ref())?;
    }
    let all: Vec<&RequestRecord> = results.iter().flat_map(|r| &r.records).collect();
    let partial = results.iter().any(|r| r.summary.partial);
    Ok(Measurement {
        caveats: caveats(&all, partial, plan),
        results,
        fit,
        self_check,
        profile: runner.profile,
    })
}

/// The client's timing error against the built-in simulator, when the
/// plan asks for it.
fn self_check(
    runner: &Runner,
    plan: &BenchPlan,
    progress: &dyn Progress,
) -> anyhow::Result<Option<TimingError>> {
    let Some(streams) = plan.self_check_streams() else {
        return Ok(None);
    };
    progress.stage(Stage::SelfCheck { streams });
    let tokens = plan.workload.max_tokens.clamp(2, 64);
    crate::self_check::run(
        &runner.runtime,
        streams,
        SELF_CHECK_DECODE,
        tokens,
        plan.ramp_up,
    )
    .with_context(|| {
        format!(
            "the self-check failed (skip it with {})",
            Setting::NoSelfCheck
        )
    })
    .map(Some)
}

impl Runner {
    /// Runs the levels of `plan` in order, until one is interrupted; each
    /// level's files go to its own directory of `plan.out` in a sweep, to
    /// `plan.out` itself for a single level. The warnings of the levels
    /// go to `progress` once they are all done.
    pub fn run_levels(
        &self,
        plan: &BenchPlan,
        progress: &dyn Progress,
    ) -> anyhow::Result<Vec<LevelResult>> {
        let sweep_prompts = plan.sweeps_prompts();
        let (mut results, mut warnings) = (Vec::<LevelResult>::new(), Vec::new());
        let n = plan.levels.len();
        for (i, level) in plan.levels.iter().enumerate() {
            let label = level.label(sweep_prompts);
            let position = (n > 1).then(|| format!("{label} ({}/{n})", i + 1));
            let dir = plan.out.as_ref().map(|d| match n > 1 {
                true => RunDir::new(d).level(&label),
                false => RunDir::new(d),
            });
            let run = LevelRun {
                level: *level,
                label,
                position,
                dir: dir.as_ref(),
            };
            let result = self.run_level(plan, run, progress, &mut warnings)?;
            let partial = result.summary.partial;
            results.push(result);
            if partial {
                break;
            }
        }
        let warmup_failed: usize = results.iter().map(|r| r.warmup_failed).sum();
        if warmup_failed > 0 {
            warnings.push(format!(
                "{warmup_failed} warm-up requests failed (see warmup.jsonl with {})",
                Setting::Out
            ));
        }
        for w in &warnings {
            progress.warning(w);
        }
        Ok(results)
    }
}
