//! `tokenpace bench URL`: measure a server, summarise, grade. This module
//! runs the levels; `options` turns flags into them, `render` prints the
//! results, `progress` shows them arriving.

mod local;
pub(crate) mod options;
mod progress;
mod render;
mod session;

use crate::cli::BenchArgs;
use crate::output::run::{BenchOutput, FitOutput, LevelOutput, RunOutput, SweepOutput};
use crate::{input, Status};
use anyhow::{bail, Context};
use options::{apply_scenario, levels, max_tokens, target};
use render::notes;
pub(crate) use render::render as render_run;
pub(crate) use session::Setup;
use std::io::Write;
use std::path::Path;
use std::time::Duration;
use tokenpace_client::load::Load;
use tokenpace_core::grade::Grade;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::server_metrics::Decomposition;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::Lang;

/// Mixed into the seed of warm-up prompts so they differ from measured ones.
pub(super) const WARMUP_SEED: u64 = 0x5741_524d_5550;

/// One load level of a run (a sweep has several).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Level {
    pub(crate) load: Load,
    pub(crate) prompt_tokens: u32,
}

impl Level {
    /// A short name, used for sub-directories and table rows.
    fn label(&self, sweep_prompts: bool) -> String {
        match (sweep_prompts, self.load) {
            (true, _) => format!("p{}", self.prompt_tokens),
            (false, Load::Closed { concurrency }) => format!("c{concurrency}"),
            (false, Load::Open { rate, .. }) => format!("r{rate}"),
        }
    }
}

/// A finished level.
pub(crate) struct LevelResult {
    pub(crate) label: String,
    pub(crate) records: Vec<RequestRecord>,
    pub(crate) summary: RunSummary,
    pub(crate) grade: Grade,
    /// The server's histograms against the client's TTFT
    /// (`--server-metrics`).
    pub(crate) server: Option<Decomposition>,
}

impl LevelResult {
    /// The level as it is printed and serialised.
    pub(crate) fn output(&self) -> LevelOutput {
        LevelOutput {
            label: self.label.clone(),
            summary: self.summary.clone(),
            grade: self.grade.clone(),
            server_metrics: self.server.clone(),
        }
    }
}

/// Everything a run measured, before it is printed.
pub(super) struct Measured {
    pub(super) results: Vec<LevelResult>,
    pub(super) fit: Option<Result<PrefillFit, FitError>>,
    pub(super) notes: Vec<String>,
    pub(super) self_check: Option<crate::self_check::TimingError>,
    pub(super) profile: tokenpace_core::profile::Profile,
}

/// Runs `tokenpace bench`: against the URL given, or, without one, against
/// the embedded engine.
pub fn run(args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    if args.url.is_none() {
        return local::run(args, lang, out);
    }
    let format = args.output.format;
    let fail_below = args.fail_below;
    let html = args.html.clone().map(|path| {
        let title = args.out.as_ref().and_then(|d| d.file_name()).map_or_else(
            || target_name(args.url.as_deref().unwrap_or_default()),
            |n| n.to_string_lossy().into_owned(),
        );
        (path, title)
    });
    let Measured {
        results,
        fit,
        notes,
        self_check,
        profile,
    } = measure(args, lang)?;
    let output = bench_output(&results, fit.as_ref(), notes, self_check, &profile);
    let text = tokenpace_present::export(&output, format, lang)?;
    out.write_all(text.as_bytes())?;
    if let Some((path, title)) = &html {
        let levels = results.iter().map(|r| (r.label.clone(), r));
        write_report(path, title, levels, &profile, lang)?;
    }
    let below = fail_below.is_some_and(|t| results.iter().any(|r| r.grade.any_below(t.into())));
    Ok(if below { Status::BelowTier } else { Status::Ok })
}

/// The typed result of a run: one level, or a sweep.
pub(super) fn bench_output(
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
    notes: Vec<String>,
    self_check: Option<crate::self_check::TimingError>,
    profile: &tokenpace_core::profile::Profile,
) -> BenchOutput {
    match results {
        [one] => BenchOutput::Run(Box::new(RunOutput {
            summary: one.summary.clone(),
            grade: one.grade.clone(),
            self_check,
            server_metrics: one.server.clone(),
            notes,
            profile: profile.clone(),
        })),
        _ => BenchOutput::Sweep(SweepOutput {
            levels: results.iter().map(LevelResult::output).collect(),
            prefill_fit: fit.map(FitOutput::from),
            self_check,
            notes,
        }),
    }
}

/// Writes the HTML report of `levels`, each with its name, to `path`.
pub(super) fn write_report<'a>(
    path: &Path,
    title: &str,
    levels: impl IntoIterator<Item = (String, &'a LevelResult)>,
    profile: &tokenpace_core::profile::Profile,
    lang: Lang,
) -> anyhow::Result<()> {
    let runs: Vec<tokenpace_report::Run> = levels
        .into_iter()
        .map(|(name, r)| tokenpace_report::Run {
            name,
            summary: r.summary.clone(),
            records: r.records.clone(),
        })
        .collect();
    crate::cmd::report::write_html(path, title, &runs, profile, lang)?;
    eprintln!(
        "{} {}",
        lang.pick("report written to", "报告已写入"),
        path.display()
    );
    Ok(())
}

/// Measures every level of `args` (whose URL is set).
pub(super) fn measure(mut args: BenchArgs, lang: Lang) -> anyhow::Result<Measured> {
    let profile = input::profile(args.profile.file.as_deref())?;
    apply_scenario(&mut args)?;
    let target = target(&args)?;
    let levels = levels(&args)?;
    let sweep_prompts = args.prompt_tokens.len() > 1;
    for (flag, v) in [
        ("--requests", args.requests),
        ("--max-tokens", u64::from(max_tokens(&args))),
    ] {
        if v == 0 {
            bail!("{flag} must be at least 1");
        }
    }
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("could not create the output directory '{}'", dir.display())
        })?;
    }
    let max_in_flight = levels
        .iter()
        .map(|l| match l.load {
            Load::Closed { concurrency } => concurrency as usize,
            Load::Open { .. } => 64,
        })
        .max()
        .unwrap_or(1);
    let setup = Setup::new(&args, target, profile, max_in_flight)?;
    let profile = &setup.profile;
    let self_check = self_check(&args, &levels, &setup.runtime)?;
    let session = setup.session(&args);
    let mut results: Vec<LevelResult> = Vec::new();
    let mut warnings = Vec::new();
    let mut warmup_failed = 0;
    for (i, level) in levels.iter().enumerate() {
        let label = level.label(sweep_prompts);
        let position = (levels.len() > 1).then(|| format!("{label} ({}/{})", i + 1, levels.len()));
        let dir = args.out.as_ref().map(|d| {
            if levels.len() > 1 {
                d.join(&label)
            } else {
                d.clone()
            }
        });
        let (result, warmup) =
            session.run_level(*level, label, position, dir.as_deref(), &mut warnings)?;
        warmup_failed += warmup;
        let partial = result.summary.partial;
        results.push(result);
        if partial {
            break;
        }
    }
    if warmup_failed > 0 {
        warnings.push(format!(
            "{warmup_failed} warm-up requests failed (see warmup.jsonl with --out)"
        ));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let fit = sweep_prompts.then(|| prefill_fit(&results));
    if let (Some(dir), true) = (&args.out, results.len() > 1) {
        let sweep = SweepOutput {
            levels: results.iter().map(LevelResult::output).collect(),
            prefill_fit: fit.as_ref().map(FitOutput::from),
            self_check: None,
            notes: Vec::new(),
        };
        write_json(&dir.join("sweep.json"), &sweep)?;
    }
    let all: Vec<&RequestRecord> = results.iter().flat_map(|r| &r.records).collect();
    let mut notes = notes(&all, results.iter().any(|r| r.summary.partial), &args, lang);
    if let Some(e) = &self_check {
        notes.push(render::self_check_note(e, lang));
    }
    Ok(Measured {
        results,
        fit,
        notes,
        self_check,
        profile: profile.clone(),
    })
}

/// The client's own timing error at the run's largest closed-loop
/// concurrency, when asked for or above 100 streams.
fn self_check(
    args: &BenchArgs,
    levels: &[Level],
    runtime: &tokio::runtime::Runtime,
) -> anyhow::Result<Option<crate::self_check::TimingError>> {
    let closed_max = levels
        .iter()
        .filter_map(|l| match l.load {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } => None,
        })
        .max();
    Ok(
        if args.self_check || (!args.no_self_check && closed_max.is_some_and(|c| c > 100)) {
            let streams = closed_max.unwrap_or(100);
            eprintln!("self-check: measuring this client's timing error at {streams} streams against the built-in simulator…");
            let tokens = max_tokens(args).clamp(2, 64);
            Some(
                crate::self_check::run(
                    runtime,
                    streams,
                    50.0,
                    tokens,
                    Duration::from_secs_f64(args.ramp_up),
                )
                .context("the self-check failed (skip it with --no-self-check)")?,
            )
        } else {
            None
        },
    )
}

/// TTFT against prompt tokens over every successful request of a sweep.
fn prefill_fit(results: &[LevelResult]) -> Result<PrefillFit, FitError> {
    let points: Vec<(f64, f64)> = results
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.is_ok())
        .filter_map(|r| {
            let prompt = r.prompt_tokens?.count;
            let ttft = r.first_token_ns()?.saturating_sub(r.sent_ns);
            Some((f64::from(prompt), ttft as f64 / 1e9))
        })
        .collect();
    PrefillFit::fit(&points)
}

/// A run's title from its URL: host and path, without the scheme.
fn target_name(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string()
}

pub(crate) fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("could not write '{}'", path.display()))
}
