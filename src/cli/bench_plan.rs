//! From `bench` flags to a checked [`BenchPlan`]: the only place that reads
//! them (the first stage of two, as ripgrep's low/high args).

mod workload;

use crate::cli::{ApiArg, BenchArgs};
use std::time::Duration;
use tokenpace_client::request::{RetryThrottled, Target};
use tokenpace_runner::plan::{default_protocol, lengths, target, TimeoutPlan, DEFAULT_REQUESTS};
use tokenpace_runner::{BenchPlan, SelfCheck, StatsPlan, WorkloadPlan};
use workload::{loads, workload};

/// The protocol of `args` at `url`: `--backend`, else the hosted API's
/// own (Anthropic's), else `--api`'s.
fn protocol(args: &BenchArgs, url: &str) -> String {
    match (&args.backend, default_protocol(url), args.api) {
        (Some(id), _, _) => id.clone(),
        (None, Some(id), _) => id.into(),
        (None, None, ApiArg::Chat) => "openai-chat".into(),
        (None, None, ApiArg::Completions) => "openai-completions".into(),
    }
}

/// Where the requests of `args` go, at `url`, spoken with `protocol`.
fn target_of(args: &BenchArgs, url: &str, protocol: &str) -> anyhow::Result<Target> {
    let api_key = tokenpace_runner::plan::api_key(args.api_key.clone(), url, protocol);
    Ok(Target {
        h2c: args.transport.h2c,
        tls: args.transport.tls(),
        ..target(
            url,
            args.model.clone(),
            api_key,
            &args.headers,
            args.request_id.name(),
        )?
    })
}

/// The plan of `args` against `url`.
pub fn plan(args: &BenchArgs, url: &str) -> anyhow::Result<BenchPlan> {
    let (prompt_tokens, max_tokens) = lengths(
        args.scenario.as_deref(),
        &args.prompt_tokens,
        args.max_tokens,
    )?;
    let t = &args.trace;
    let trace = t.trace.as_ref().map(|path| t.window.spec(path));
    let loads = loads(args, trace.is_some());
    let protocol = protocol(args, url);
    let target = target_of(args, url, &protocol)?;
    let mut plan = BenchPlan::new(target, url);
    plan.protocol = protocol;
    plan.levels = BenchPlan::levels_of(&loads, &prompt_tokens, args.shard)?;
    // A trace's window, or a conversations file, sets the count unless
    // --requests caps it.
    let counted_by_file = trace.is_some() || args.sessions.conversations.is_some();
    plan.requests = match (args.requests, args.until_precise) {
        (Some(n), _) => n,
        (None, Some(_)) => args.max_requests,
        (None, None) if counted_by_file => u64::MAX,
        (None, None) => DEFAULT_REQUESTS,
    };
    plan.duration = args.duration.map(Duration::from_secs_f64);
    plan.ramp_up = Duration::from_secs_f64(args.ramp_up);
    plan.workload = WorkloadPlan {
        max_tokens,
        trace,
        ..workload(args)?
    };
    // A mix names its models: the target's (for the model list and the
    // settings) is then the first, unless --model says otherwise.
    if let (None, Some(mix)) = (&args.model, &plan.workload.model_mix) {
        plan.target.model = mix.entries()[0].model.clone();
    }
    plan.sessions = args.sessions.spec();
    plan.scenario = args.scenario.clone();
    plan.timeouts = TimeoutPlan {
        connect: Duration::from_secs_f64(args.connect_timeout),
        first_token: Duration::from_secs_f64(args.first_token_timeout),
        total: Duration::from_secs_f64(args.timeout),
        idle: Duration::from_secs_f64(args.idle_timeout),
        max_event_bytes: args.max_event_bytes,
        retry_throttled: args.retry_throttled.map(|max_retries| RetryThrottled {
            max_retries,
            max_wait: RetryThrottled::MAX_WAIT,
            until: None,
        }),
    };
    (plan.warmup, plan.seed, plan.shard) = (args.warmup, args.seed, args.shard);
    plan.start_at = args.start_at;
    plan.network_overhead_s = args.network_overhead;
    plan.server_metrics = args.server_metrics.as_ref().map(|u| match u.is_empty() {
        true => plan.target.url("/metrics"),
        false => u.clone(),
    });
    plan.out = args.out.clone();
    plan.statistics = StatsPlan {
        repeat: args.repeat,
        trim_start_s: args.trim_start_s,
        trim_end_s: args.trim_end_s,
        until_precise: args.until_precise,
        slo: args.slo.as_deref().map(crate::input::slo).transpose()?,
    };
    plan.server_kind = args.server.kind();
    plan.self_check = match (args.self_check, args.no_self_check) {
        (true, _) => SelfCheck::On,
        (false, true) => SelfCheck::Off,
        (false, false) => SelfCheck::Auto,
    };
    plan.check()?;
    // Refused before any I/O; the runner checks again once it is ready.
    if let Some(at) = plan.start_at {
        tokenpace_core::wall_clock::wait_until(at, std::time::SystemTime::now())
            .map_err(anyhow::Error::msg)?;
    }
    Ok(plan)
}
