//! From `capacity` flags to the [`BenchPlan`] each level of the search
//! runs.

use crate::cli::CapacityArgs;
use std::time::Duration;
use tokenpace_client::load::Load;
use tokenpace_client::request::Target;
use tokenpace_runner::plan::{default_protocol, lengths, target, TimeoutPlan};
use tokenpace_runner::BenchPlan;

/// The plan each level runs (its load is the search's): `bench`'s defaults
/// ([`BenchPlan::new`]) with capacity's own options.
pub fn plan(a: &CapacityArgs, url: &str, model: Option<String>) -> anyhow::Result<BenchPlan> {
    let prompts: Vec<u32> = a.prompt_tokens.into_iter().collect();
    let (prompts, max_tokens) = lengths(a.scenario.as_deref(), &prompts, a.max_tokens)?;
    let protocol = a
        .backend
        .clone()
        .or_else(|| default_protocol(url).map(String::from));
    let key_protocol = protocol.as_deref().unwrap_or("openai-chat");
    let api_key = tokenpace_runner::plan::api_key(a.api_key.clone(), url, key_protocol);
    let model = model.or_else(|| a.model.clone());
    let target = target(url, model, api_key, &[], a.request_id.name())?;
    let mut plan = BenchPlan::new(
        Target {
            h2c: a.transport.h2c,
            tls: a.transport.tls(),
            ..target
        },
        url,
    );
    let trace = a.trace.as_ref().map(|path| a.trace_window.spec(path));
    // The search replaces the load; a trace's must still be a trace.
    let load = match trace {
        Some(_) => Load::Trace { speed: 1.0 },
        None => Load::Closed { concurrency: 1 },
    };
    plan.levels = BenchPlan::levels_of(&[load], &prompts[..1], plan.shard)?;
    plan.protocol = protocol.unwrap_or(plan.protocol);
    plan.workload.text = a.text;
    plan.workload.max_tokens = max_tokens;
    plan.workload.trace = trace;
    plan.workload.salt = a.server.salt();
    plan.sessions = a.sessions.spec();
    plan.scenario = a.scenario.clone();
    plan.timeouts = TimeoutPlan {
        first_token: Duration::from_secs_f64(a.timeout.min(60.0)),
        total: Duration::from_secs_f64(a.timeout),
        idle: Duration::from_secs_f64(a.idle_timeout),
        ..TimeoutPlan::default()
    };
    (plan.seed, plan.out, plan.server_kind) = (a.seed, a.out.clone(), a.server.kind());
    plan.check()?;
    Ok(plan)
}
