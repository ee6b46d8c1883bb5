//! `tokenpace bench URL`: turn the flags into a [`BenchPlan`] (`options`),
//! measure it level by level with [`tokenpace_runner::Runner`], and export
//! the typed result ([`crate::output::run`]). Without a URL, `local` starts
//! the embedded engine first.

mod local;
pub(crate) mod options;

use crate::cli::BenchArgs;
use crate::output::caveats;
use crate::output::run::{BenchOutput, FitOutput, LevelOutput, RunOutput, SweepOutput};
use crate::{input, Status};
use anyhow::Context;
use std::io::Write;
use std::path::Path;
use tokenpace_client::load::Load;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_present::Lang;
use tokenpace_rundir::RunDir;
use tokenpace_runner::runner::LevelRun;
use tokenpace_runner::{BenchPlan, LevelResult, Runner};

/// Everything a run measured, before it is printed.
pub(super) struct Measured {
    pub(super) results: Vec<LevelResult>,
    pub(super) fit: Option<Result<PrefillFit, FitError>>,
    pub(super) notes: Vec<String>,
    pub(super) self_check: Option<crate::self_check::TimingError>,
    pub(super) profile: Profile,
}

/// Runs `tokenpace bench`: against the URL given, or, without one, against
/// the embedded engine.
pub fn run(args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let Some(url) = args.url.clone() else {
        return local::run(args, lang, out);
    };
    let plan = options::plan(&args, &url)?;
    let profile = input::profile(args.profile.file.as_deref())?;
    let self_check =
        args.self_check || (!args.no_self_check && closed_max(&plan).is_some_and(|c| c > 100));
    let m = measure(&plan, profile, self_check, lang)?;
    let output = bench_output(
        &m.results,
        m.fit.as_ref(),
        m.notes,
        m.self_check,
        &m.profile,
    );
    let text = tokenpace_present::export(&output, args.output.format, lang)?;
    out.write_all(text.as_bytes())?;
    if let Some(path) = &args.html {
        let title = args.out.as_ref().and_then(|d| d.file_name()).map_or_else(
            || target_name(&plan.target_label),
            |n| n.to_string_lossy().into_owned(),
        );
        let levels = m.results.iter().map(|r| (r.label.clone(), r));
        write_report(path, &title, levels, &m.profile, lang)?;
    }
    let below = args
        .fail_below
        .is_some_and(|t| m.results.iter().any(|r| r.grade.any_below(t.into())));
    Ok(status(&m.results, below))
}

/// How a run ended: interrupted (Ctrl-C) before a missed `--fail-below`,
/// so a script can tell a cut-short run from a slow one.
pub(super) fn status(results: &[LevelResult], below: bool) -> Status {
    if results.iter().any(|r| r.summary.partial) {
        Status::Interrupted
    } else if below {
        Status::BelowTier
    } else {
        Status::Ok
    }
}

/// The typed result of a run: one level, or a sweep.
pub(super) fn bench_output(
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
    notes: Vec<String>,
    self_check: Option<crate::self_check::TimingError>,
    profile: &Profile,
) -> BenchOutput {
    match results {
        [one] => BenchOutput::Run(Box::new(RunOutput {
            summary: one.summary.clone(),
            grade: one.grade.clone(),
            self_check,
            server_metrics: one.server.clone(),
            tier_spans: one.tier_spans.clone(),
            notes,
            profile: profile.clone(),
        })),
        _ => BenchOutput::Sweep(SweepOutput {
            levels: results.iter().map(level_output).collect(),
            prefill_fit: fit.map(FitOutput::from),
            self_check,
            notes,
        }),
    }
}

/// A level as it is printed and serialised.
pub(crate) fn level_output(r: &LevelResult) -> LevelOutput {
    LevelOutput {
        label: r.label.clone(),
        summary: r.summary.clone(),
        grade: r.grade.clone(),
        server_metrics: r.server.clone(),
        tier_spans: r.tier_spans.clone(),
    }
}

/// Writes the HTML report of `levels`, each with its name, to `path`.
pub(super) fn write_report<'a>(
    path: &Path,
    title: &str,
    levels: impl IntoIterator<Item = (String, &'a LevelResult)>,
    profile: &Profile,
    lang: Lang,
) -> anyhow::Result<()> {
    let levels: Vec<tokenpace_report::Level> = levels
        .into_iter()
        .map(|(name, r)| tokenpace_report::Level {
            name,
            summary: r.summary.clone(),
            records: r.records.clone(),
        })
        .collect();
    let html = tokenpace_report::Html {
        lang,
        title,
        profile,
    };
    crate::output::report::write_html(path, &html, &levels)?;
    crate::progress::note(format_args!(
        "{} {}",
        lang.pick("report written to", "报告已写入"),
        path.display()
    ));
    Ok(())
}

/// The largest closed-loop concurrency of the plan.
fn closed_max(plan: &BenchPlan) -> Option<u32> {
    plan.levels
        .iter()
        .filter_map(|l| match l.load {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } | Load::Trace { .. } => None,
        })
        .max()
}

/// Measures every level of `plan`; with `self_check`, first the client's
/// own timing error at the plan's largest concurrency.
pub(super) fn measure(
    plan: &BenchPlan,
    profile: Profile,
    self_check: bool,
    lang: Lang,
) -> anyhow::Result<Measured> {
    if let Some(dir) = &plan.out {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("could not create the output directory '{}'", dir.display())
        })?;
    }
    let runner = Runner::new(plan, profile, plan.max_in_flight())?;
    crate::progress::prompts(runner.prompts(), runner.synthetic(plan), lang);
    let self_check = if self_check {
        let streams = closed_max(plan).unwrap_or(100);
        crate::progress::note(format_args!("self-check: measuring this client's timing error at {streams} streams against the built-in simulator…"));
        let tokens = plan.workload.max_tokens.clamp(2, 64);
        Some(
            crate::self_check::run(&runner.runtime, streams, 50.0, tokens, plan.ramp_up)
                .context("the self-check failed (skip it with --no-self-check)")?,
        )
    } else {
        None
    };
    let sweep_prompts = plan.sweeps_prompts();
    let (mut results, mut warnings) = (Vec::<LevelResult>::new(), Vec::new());
    let n = plan.levels.len();
    for (i, level) in plan.levels.iter().enumerate() {
        let label = level.label(sweep_prompts);
        let position = (n > 1).then(|| format!("{label} ({}/{n})", i + 1));
        let dir = plan.out.as_ref().map(|d| {
            let run = RunDir::new(d);
            if n > 1 {
                run.level(&label)
            } else {
                run
            }
        });

        let run = LevelRun {
            level: *level,
            label,
            position,
            dir: dir.as_ref(),
        };
        let result = runner.run_level(plan, run, &crate::progress::Terminal, &mut warnings)?;
        let partial = result.summary.partial;
        results.push(result);
        if partial {
            break;
        }
    }
    let warmup_failed: usize = results.iter().map(|r| r.warmup_failed).sum();
    if warmup_failed > 0 {
        warnings.push(format!(
            "{warmup_failed} warm-up requests failed (see warmup.jsonl with --out)"
        ));
    }
    for w in &warnings {
        eprintln!("warning: {}", tokenpace_present::terminal::line(w));
    }
    let fit = sweep_prompts.then(|| prefill_fit(&results));
    // A sweep measures prefill by its line: grade every level on it.
    if let Some(Ok(line)) = &fit {
        for r in &mut results {
            r.grade = runner
                .profile
                .grade_run(|m, st| r.summary.get(m, st), Some(line))?;
        }
    }
    if let (Some(dir), true) = (&plan.out, results.len() > 1) {
        let sweep = SweepOutput {
            levels: results.iter().map(level_output).collect(),
            prefill_fit: fit.as_ref().map(FitOutput::from),
            self_check: None,
            notes: Vec::new(),
        };
        RunDir::new(dir).write_sweep(&sweep)?;
    }
    let all: Vec<&RequestRecord> = results.iter().flat_map(|r| &r.records).collect();
    let partial = results.iter().any(|r| r.summary.partial);
    let mut notes: Vec<String> = tokenpace_runner::caveats::caveats(&all, partial, plan)
        .into_iter()
        .map(|c| caveats::text(c, lang))
        .collect();
    if let Some(e) = &self_check {
        notes.push(caveats::self_check(e, lang));
    }
    Ok(Measured {
        results,
        fit,
        notes,
        self_check,
        profile: runner.profile,
    })
}

/// TTFT against prompt tokens over every successful request of a sweep.
fn prefill_fit(results: &[LevelResult]) -> Result<PrefillFit, FitError> {
    PrefillFit::from_records(results.iter().flat_map(|r| &r.records))
}

/// A run's title from its URL: host and path, without the scheme.
fn target_name(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string()
}
