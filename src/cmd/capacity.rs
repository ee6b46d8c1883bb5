//! `tokenpace capacity URL`: build the plan each level runs from the
//! options (`options`), let [`tokenpace_runner::capacity::run`] search the levels of
//! concurrency (or a trace's replay speed), and report the largest that
//! keeps every graded metric in tier A (and in tier B), each metric's
//! curve against load, and the knee.

use crate::cli::CapacityArgs;
use crate::output::capacity::CapacityOutput;
use crate::progress::TerminalProgress;
use crate::{input, Status};
use std::io::Write;
use std::time::Duration;
use tokenpace_present::Lang;
use tokenpace_rundir::RunDir;
use tokenpace_runner::capacity::{SearchAsk, SloTarget};

/// Runs `tokenpace capacity`: against the URL, or without one against the
/// embedded engine on a loopback port.
pub fn run(args: CapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    match args.url.as_deref() {
        Some(url) => search(&args, url, None, lang, out),
        None => embedded(&args, lang, out),
    }
}

#[cfg(feature = "engine")]
fn embedded(args: &CapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let engine = crate::embedded::Embedded::start(args.model.as_deref(), &args.engine, lang)?;
    crate::embedded::announce(&engine.header(lang), args.output.format, out)?;
    let status = search(args, &engine.url, Some(engine.name.clone()), lang, out);
    engine.shutdown();
    status
}

#[cfg(not(feature = "engine"))]
fn embedded(_args: &CapacityArgs, _lang: Lang, _out: &mut dyn Write) -> anyhow::Result<Status> {
    anyhow::bail!("give the server's URL (this tokenpace was built without the embedded engine, --no-default-features; rebuild with the default features to search a model in-process)")
}

/// The search against `url` (serving `model`, when known), exported.
fn search(
    a: &CapacityArgs,
    url: &str,
    model: Option<String>,
    lang: Lang,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let profile = input::profile(a.profile.file.as_deref())?;
    let plan = crate::cli::capacity_plan::plan(a, url, model)?;
    let ask = SearchAsk {
        max_concurrency: a.max_concurrency,
        max_trace_speed: a.max_trace_speed,
        trace_speed_step: a.trace_speed_step,
        time_budget: Duration::from_secs_f64(a.time_budget),
        requests_per_level: a.requests_per_level,
        max_requests: a.max_requests,
        slo: match &a.slo {
            Some(spec) => Some(SloTarget {
                slo: input::slo(spec)?,
                attainment_pct: a.attainment,
            }),
            None => None,
        },
    };
    let found = tokenpace_runner::capacity::run(&plan, profile, &ask, &TerminalProgress(lang))?;
    let interrupted = found.partial();
    let output = CapacityOutput::from_search(found, a.goodput);
    if let Some(dir) = &plan.out {
        RunDir::new(dir).write_capacity(&output.found)?;
    }
    out.write_all(tokenpace_present::export(&output, a.output.format, lang)?.as_bytes())?;
    Ok(if interrupted {
        Status::Interrupted
    } else {
        Status::Ok
    })
}
