//! `tokenpace bench URL`: measure a server, summarise, grade. This module
//! runs the levels; `options` turns flags into them, `render` prints the
//! results, `progress` shows them arriving.

mod options;
mod progress;
mod render;

use crate::cli::{ApiArg, BenchArgs, BenchFormat};
use crate::lang::Lang;
use crate::table::{Csv, Markdown, TableFormat, Terminal};
use crate::{environment, input, Status};
use anyhow::{bail, Context};
use options::{apply_scenario, levels, max_tokens, settings, target, workload};
use progress::Progress;
use render::{all_failed, csv_table, json_text, notes, render, render_sweep, sweep_json};
use std::io::Write;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::openai::{OpenAiChat, OpenAiCompletions};
use tokenpace_client::backend::Backend;
use tokenpace_client::bench::{self, RunOptions};
use tokenpace_client::clock::RunClock;
use tokenpace_client::dataset::Dataset;
use tokenpace_client::load::{Driver, Load, LoadPlan};
use tokenpace_client::request::{http_client, Timeouts};
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::workload::{PromptSource, Workload};
use tokenpace_core::grade::Grade;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::summary::RunSummary;

/// Mixed into the seed of warm-up prompts so they differ from measured ones.
const WARMUP_SEED: u64 = 0x5741_524d_5550;

/// One load level of a run (a sweep has several).
#[derive(Debug, Clone, Copy)]
pub(super) struct Level {
    pub(super) load: Load,
    pub(super) prompt_tokens: u32,
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
pub(super) struct LevelResult {
    pub(super) label: String,
    pub(super) records: Vec<RequestRecord>,
    pub(super) summary: RunSummary,
    pub(super) grade: Grade,
}

/// Runs `tokenpace bench`.
pub fn run(mut args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.as_deref())?;
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
    let backend: Arc<dyn Backend> = match args.api {
        ApiArg::Chat => Arc::new(OpenAiChat),
        ApiArg::Completions => Arc::new(OpenAiCompletions),
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("could not create the output directory '{}'", dir.display())
        })?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let max_in_flight = levels
        .iter()
        .map(|l| match l.load {
            Load::Closed { concurrency } => concurrency as usize,
            Load::Open { .. } => 64,
        })
        .max()
        .unwrap_or(1);
    let client = http_client(Duration::from_secs_f64(args.connect_timeout), max_in_flight)?;
    let mut target = target;
    if target.model.is_empty() {
        target.model =
            runtime.block_on(tokenpace_client::discover::first_model(&client, &target))?;
    }

    let tokenizer = match &args.tokenizer {
        Some(path) => Some(Arc::new(ModelTokenizer::from_file(path)?)),
        None => None,
    };
    let dataset: Option<Arc<dyn PromptSource>> = match &args.dataset {
        Some(path) => Some(Arc::new(Dataset::load(
            path,
            max_tokens(&args),
            !args.no_ignore_eos,
        )?)),
        None => None,
    };
    let self_check = self_check(&args, &levels, &runtime)?;
    let session = Session {
        args: &args,
        profile: &profile,
        runtime: &runtime,
        client,
        target,
        backend,
        tokenizer,
        dataset,
    };
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
        write_json(&dir.join("sweep.json"), &sweep_json(&results, fit.as_ref()))?;
    }
    let all: Vec<&RequestRecord> = results.iter().flat_map(|r| &r.records).collect();
    let mut notes = notes(&all, results.iter().any(|r| r.summary.partial), &args, lang);
    if let Some(e) = &self_check {
        notes.push(render::self_check_note(e, lang));
    }
    let text = match (args.format, results.as_slice()) {
        (BenchFormat::Json, [one]) => json_text(
            &serde_json::json!({"summary": one.summary, "grade": one.grade, "self_check": self_check}),
        )?,
        (BenchFormat::Json, _) => json_text(&sweep_json(&results, fit.as_ref()))?,
        (BenchFormat::Csv, _) => Csv.render(&csv_table(&results)),
        (BenchFormat::Table, [one]) => render(
            &one.summary,
            &one.grade,
            &profile,
            &notes,
            lang,
            &Terminal,
            false,
        ),
        (BenchFormat::Markdown, [one]) => render(
            &one.summary,
            &one.grade,
            &profile,
            &notes,
            lang,
            &Markdown,
            true,
        ),
        (BenchFormat::Table, _) => render_sweep(&results, fit.as_ref(), &notes, lang, &Terminal),
        (BenchFormat::Markdown, _) => render_sweep(&results, fit.as_ref(), &notes, lang, &Markdown),
    };
    out.write_all(text.as_bytes())?;
    if let Some(path) = &args.html {
        let runs: Vec<tokenpace_report::Run> = results
            .iter()
            .map(|r| tokenpace_report::Run {
                name: r.label.clone(),
                summary: r.summary.clone(),
                records: r.records.clone(),
            })
            .collect();
        let title = args.out.as_ref().and_then(|d| d.file_name()).map_or_else(
            || target_name(&args.url),
            |n| n.to_string_lossy().into_owned(),
        );
        crate::cmd::report::write_html(path, &title, &runs, &profile, lang)?;
    }
    let below = args
        .fail_below
        .is_some_and(|t| results.iter().any(|r| r.grade.any_below(t.into())));
    Ok(if below { Status::BelowTier } else { Status::Ok })
}

/// What every level of a run shares.
struct Session<'a> {
    args: &'a BenchArgs,
    profile: &'a tokenpace_core::profile::Profile,
    runtime: &'a tokio::runtime::Runtime,
    client: tokenpace_client::request::HttpClient,
    target: tokenpace_client::request::Target,
    backend: Arc<dyn Backend>,
    tokenizer: Option<Arc<ModelTokenizer>>,
    dataset: Option<Arc<dyn PromptSource>>,
}

impl Session<'_> {
    /// A driver for `level`, its prompts drawn with `seed`.
    fn driver(&self, level: Level, seed: u64) -> Arc<Driver> {
        let args = self.args;
        Arc::new(Driver {
            client: self.client.clone(),
            target: self.target.clone(),
            backend: self.backend.clone(),
            workload: match &self.dataset {
                Some(d) => d.clone(),
                None => Arc::new(Workload {
                    seed,
                    ..workload(args, level.prompt_tokens, self.tokenizer.clone())
                }),
            },
            timeouts: Timeouts {
                first_token: Duration::from_secs_f64(args.first_token_timeout),
                total: Duration::from_secs_f64(args.timeout),
            },
            clock: RunClock::start(),
        })
    }

    /// Runs one level (after its warm-up), writes its files into `dir`, and
    /// returns it with the number of failed warm-up requests.
    fn run_level(
        &self,
        level: Level,
        label: String,
        position: Option<String>,
        dir: Option<&Path>,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<(LevelResult, usize)> {
        let args = self.args;
        if let Some(d) = dir {
            std::fs::create_dir_all(d)
                .with_context(|| format!("could not create '{}'", d.display()))?;
        }
        let plan = LoadPlan {
            load: level.load,
            requests: args.requests,
            duration: args.duration.map(Duration::from_secs_f64),
            seed: args.seed,
            ramp_up: Duration::from_secs_f64(args.ramp_up),
        };
        let mut warmup_failed = 0;
        if args.warmup > 0 {
            // Other prompts than the measured ones, so no prefix cache is primed.
            let warm = LoadPlan {
                requests: args.warmup,
                duration: None,
                ..plan
            };
            let options = RunOptions {
                records_file: dir.map(|d| d.join("warmup.jsonl")),
                grace: Duration::from_secs(5),
            };
            let progress = Progress::new(args.warmup, Some(format!("{label} warm-up")));
            let outcome = self.runtime.block_on(bench::run(
                self.driver(level, args.seed ^ WARMUP_SEED),
                warm,
                options,
                |r| progress.record(r),
            ));
            progress.finish();
            let outcome = outcome?;
            warmup_failed = outcome.records.iter().filter(|r| !r.is_ok()).count();
            if outcome.partial {
                bail!("interrupted during the warm-up; nothing was measured");
            }
        }
        let options = RunOptions {
            records_file: dir.map(|d| d.join("requests.jsonl")),
            grace: Duration::from_secs(5),
        };
        let environment = environment::current();
        let progress = Progress::new(args.requests, position);
        let outcome = self.runtime.block_on(bench::run(
            self.driver(level, args.seed),
            plan,
            options,
            |r| progress.record(r),
        ));
        progress.finish();
        let outcome = outcome?;
        warnings.extend(outcome.warnings.iter().cloned());
        let mut summary = RunSummary::from_records(
            &outcome.records,
            settings(
                args,
                self.profile,
                &self.target.model,
                self.backend.id(),
                level,
            ),
            environment,
        );
        summary.partial = outcome.partial;
        if let Some(d) = dir {
            write_json(&d.join("run.json"), &summary)?;
        }
        if summary.counts.ok == 0 {
            bail!("{}", all_failed(&outcome.records, &args.url));
        }
        let grade = self.profile.grade(|m, st| summary.get(m, st), false)?;
        let result = LevelResult {
            label,
            records: outcome.records,
            summary,
            grade,
        };
        Ok((result, warmup_failed))
    }
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

/// A page title for a run without `--out`: the host and port.
fn target_name(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string()
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("could not write '{}'", path.display()))
}
