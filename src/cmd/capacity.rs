//! `tokenpace capacity URL`: measure levels of concurrency chosen by the
//! pure search in `tokenpace_core::capacity`, and report the largest
//! concurrency that keeps every graded metric in tier A (and in tier B),
//! each metric's curve against load, and the knee.

use crate::cli::CapacityArgs;
use crate::output::capacity::{CapacityLevel, CapacityOutput};
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use std::time::Duration;
use tokenpace_client::load::Load;
use tokenpace_present::Lang;
use tokenpace_rundir::RunDir;
use tokenpace_runner::capacity::{search as run_search, SearchLimits};
use tokenpace_runner::plan::{redact, target, TimeoutPlan};
use tokenpace_runner::{BenchPlan, Runner, WorkloadPlan};

/// Runs `tokenpace capacity`: against the URL, or without one against the
/// embedded engine on a loopback port.
pub fn run(args: CapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    match args.url.clone() {
        Some(url) => search(args, &url, lang, out),
        None => embedded(args, lang, out),
    }
}

#[cfg(feature = "engine")]
fn embedded(mut args: CapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let engine = crate::embedded::Embedded::start(args.model.as_deref(), &args.engine, lang)?;
    args.model = Some(engine.name.clone());
    crate::embedded::announce(&engine.header(lang), args.output.format, out)?;
    let status = search(args, &engine.url.clone(), lang, out);
    engine.shutdown();
    status
}

#[cfg(not(feature = "engine"))]
fn embedded(_args: CapacityArgs, _lang: Lang, _out: &mut dyn Write) -> anyhow::Result<Status> {
    bail!("give the server's URL (this tokenpace was built without the embedded engine, --no-default-features; rebuild with the default features to search a model in-process)")
}

/// The search against `url`.
fn search(
    args: CapacityArgs,
    url: &str,
    lang: Lang,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let plan = plan(&args, url)?;
    let run_dir = args.out.as_ref().map(RunDir::new);
    if let Some(dir) = &run_dir {
        dir.create()?;
    }
    let runner = Runner::new(&plan, profile, args.max_concurrency as usize)?;
    runner.probe()?;
    let limits = SearchLimits {
        max_concurrency: args.max_concurrency,
        time_budget: Duration::from_secs_f64(args.time_budget),
        requests_per_level: args.requests_per_level,
        max_requests: args.max_requests,
    };
    let found = run_search(
        &runner,
        &plan,
        limits,
        run_dir.as_ref(),
        &crate::progress::Terminal,
    )?;
    for w in &found.warnings {
        eprintln!("warning: {}", tokenpace_present::terminal::safe(w));
    }
    if found.levels.is_empty() {
        let why = found
            .stopped
            .clone()
            .or_else(|| {
                found
                    .refused
                    .iter()
                    .next()
                    .map(|(c, e)| format!("at c{c}: {e}"))
            })
            .unwrap_or_else(|| "nothing to do".into());
        bail!("no level was measured: {why}");
    }
    let output = CapacityOutput {
        tier_a_max_concurrency: found.tier_a.last_holding,
        tier_a_first_failing: found.tier_a.first_failing,
        tier_b_max_concurrency: found.tier_b.last_holding,
        tier_b_first_failing: found.tier_b.first_failing,
        stopped: found.stopped,
        levels: found
            .levels
            .into_iter()
            .map(|l| CapacityLevel {
                concurrency: l.concurrency,
                tier: l.tier,
                goodput_a_per_s: l.goodput.0,
                goodput_b_per_s: l.goodput.1,
                summary: l.result.summary,
                grade: l.result.grade,
            })
            .collect(),
        failed_levels: found.refused,
        max_concurrency: args.max_concurrency,
        show_goodput: args.goodput,
    };
    if let Some(dir) = &run_dir {
        dir.write_capacity(&output)?;
    }
    out.write_all(tokenpace_present::export(&output, args.output.format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}

/// The plan each level runs (its load is the search's): built directly
/// from capacity's own options.
fn plan(a: &CapacityArgs, url: &str) -> anyhow::Result<BenchPlan> {
    let (prompts, max_tokens) = tokenpace_runner::plan::lengths(
        a.scenario.as_deref(),
        &a.prompt_tokens.into_iter().collect::<Vec<_>>(),
        a.max_tokens,
    )?;
    let api_key = tokenpace_runner::plan::api_key(a.api_key.clone());
    let shard = tokenpace_core::shard::Shard::default();
    let plan = BenchPlan {
        target: target(url, a.model.clone(), api_key, &[])?,
        target_label: redact(url.trim()),
        protocol: a.backend.clone().unwrap_or_else(|| "openai-chat".into()),
        levels: BenchPlan::levels_of(&[Load::Closed { concurrency: 1 }], &prompts[..1], shard)?,
        requests: 8,
        duration: None,
        ramp_up: Duration::ZERO,
        workload: WorkloadPlan {
            text: a.text,
            max_tokens,
            shared_prefix: 0,
            prefix_groups: 0,
            ignore_eos: true,
            tokenizer: None,
            dataset: None,
            trace: None,
        },
        sessions: crate::session_plan::sessions(&a.sessions),
        scenario: a.scenario.clone(),
        timeouts: TimeoutPlan {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs_f64(a.timeout.min(60.0)),
            total: Duration::from_secs_f64(a.timeout),
            max_event_bytes: tokenpace_client::sse::DEFAULT_MAX_EVENT_BYTES,
        },
        warmup: 0,
        seed: a.seed,
        shard,
        network_overhead_s: 0.0,
        server_metrics: None,
        out: a.out.clone(),
    };
    plan.check()?;
    Ok(plan)
}
