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
use tokenpace_client::request::Target;
use tokenpace_present::Lang;
use tokenpace_rundir::RunDir;
use tokenpace_runner::capacity::{search as run_search, SearchAxis, SearchLimits};
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
    crate::progress::prompts(runner.prompts(), runner.synthetic(&plan), lang);
    runner.probe()?;
    let axis = match &args.trace {
        Some(_) => SearchAxis::TraceSpeed {
            step: args.trace_speed_step,
        },
        None => SearchAxis::Concurrency,
    };
    let max_level = match axis {
        SearchAxis::Concurrency => args.max_concurrency,
        SearchAxis::TraceSpeed { step } => speed_steps(args.max_trace_speed, step)?,
    };
    let limits = SearchLimits {
        axis,
        max_concurrency: max_level,
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
        eprintln!("warning: {}", tokenpace_present::terminal::line(w));
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
    let interrupted = found.levels.iter().any(|l| l.result.summary.partial);
    let levels = found
        .levels
        .into_iter()
        .map(|l| CapacityLevel {
            concurrency: l.trace_speed.is_none().then_some(l.concurrency),
            trace_speed: l.trace_speed,
            tier: l.tier,
            goodput_a_per_s: l.goodput.0,
            goodput_b_per_s: l.goodput.1,
            summary: l.result.summary,
            grade: l.result.grade,
            step: l.concurrency,
        })
        .collect();
    let failed = found
        .refused
        .into_iter()
        .map(|(n, why)| (axis.label(n), why))
        .collect();
    let mut output = CapacityOutput::new(
        axis,
        (found.tier_a, found.tier_b),
        levels,
        failed,
        found.stopped,
    );
    output.max_level = max_level;
    output.show_goodput = args.goodput;
    if let Some(dir) = &run_dir {
        dir.write_capacity(&output)?;
    }
    out.write_all(tokenpace_present::export(&output, args.output.format, lang)?.as_bytes())?;
    Ok(if interrupted {
        Status::Interrupted
    } else {
        Status::Ok
    })
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
    let trace = a.trace.as_ref().map(|path| a.trace_window.spec(path));
    // The search replaces the load; a trace's must still be a trace.
    let load = match trace {
        Some(_) => Load::Trace { speed: 1.0 },
        None => Load::Closed { concurrency: 1 },
    };
    let plan = BenchPlan {
        target: Target {
            h2c: a.transport.h2c,
            ..target(url, a.model.clone(), api_key, &[], a.request_id.name())?
        },
        target_label: redact(url.trim()),
        protocol: a.backend.clone().unwrap_or_else(|| "openai-chat".into()),
        levels: BenchPlan::levels_of(&[load], &prompts[..1], shard)?,
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
            trace,
            cancel: None,
            salt: a.server.salt(),
        },
        sessions: crate::session_plan::sessions(&a.sessions),
        scenario: a.scenario.clone(),
        timeouts: TimeoutPlan {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs_f64(a.timeout.min(60.0)),
            total: Duration::from_secs_f64(a.timeout),
            idle: Duration::from_secs_f64(a.idle_timeout),
            max_event_bytes: tokenpace_client::sse::DEFAULT_MAX_EVENT_BYTES,
        },
        warmup: 0,
        seed: a.seed,
        shard,
        start_at: None,
        network_overhead_s: 0.0,
        server_metrics: None,
        out: a.out.clone(),
        statistics: tokenpace_runner::StatsPlan::default(),
        server_kind: a.server.kind(),
    };
    plan.check()?;
    Ok(plan)
}

/// Speed steps up to `max` (at least one): the search's highest level.
fn speed_steps(max: f64, step: f64) -> anyhow::Result<u32> {
    let steps = (max / step + 1e-9).floor();
    if steps < 1.0 {
        bail!("--max-trace-speed {max} is below --trace-speed-step {step}: raise it, or lower the step");
    }
    if steps > 100_000.0 {
        bail!("--max-trace-speed {max} is {steps} steps of {step}: at most 100000 (raise --trace-speed-step)");
    }
    Ok(steps as u32)
}
