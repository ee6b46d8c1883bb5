//! What the levels of `bench` flags load, and what each request asks for.

use crate::cli::{ArrivalArg, BenchArgs};
use tokenpace_client::load::{Arrival, Load};
use tokenpace_runner::WorkloadPlan;

/// The levels' loads `args` ask for: a trace's speeds (`trace`), else
/// rates, else concurrencies (1 by default).
pub(super) fn loads(args: &BenchArgs, trace: bool) -> Vec<Load> {
    if trace {
        match args.trace.trace_speed.as_slice() {
            [] => vec![Load::Trace { speed: 1.0 }],
            speeds => speeds.iter().map(|&speed| Load::Trace { speed }).collect(),
        }
    } else if !args.rate.is_empty() {
        let arrival = match args.arrival {
            ArrivalArg::Poisson => Arrival::Poisson,
            ArrivalArg::Constant => Arrival::Constant,
        };
        args.rate
            .iter()
            .map(|&rate| Load::Open { rate, arrival })
            .collect()
    } else if args.concurrency.is_empty() {
        vec![Load::Closed { concurrency: 1 }]
    } else {
        args.concurrency
            .iter()
            .map(|&c| Load::Closed { concurrency: c })
            .collect()
    }
}

/// The `--model-mix` of `spec`: a TOML file when it names one (ends in
/// `.toml`), else the compact `NAME=WEIGHT[:PROMPT[:MAX]],…`.
fn model_mix(spec: &str) -> anyhow::Result<tokenpace_core::model_mix::ModelMix> {
    let mix = if spec.ends_with(".toml") {
        let text = std::fs::read_to_string(spec).map_err(|e| {
            anyhow::anyhow!("cannot read the --model-mix file '{spec}': {e}; give a TOML file with [[model]] tables, or the compact NAME=WEIGHT,… form")
        })?;
        tokenpace_core::model_mix::ModelMix::from_toml(&text)
            .map_err(|e| anyhow::anyhow!("{spec}: {e}"))?
    } else {
        tokenpace_core::model_mix::ModelMix::parse(spec)
            .map_err(|e| anyhow::anyhow!("--model-mix: {e}"))?
    };
    Ok(mix)
}

/// What each request of `args` asks for (its length and trace aside).
pub(super) fn workload(args: &BenchArgs) -> anyhow::Result<WorkloadPlan> {
    Ok(WorkloadPlan {
        text: args.text,
        max_tokens: 0,
        shared_prefix: args.shared_prefix,
        prefix_groups: args.prefix_groups,
        ignore_eos: !args.no_ignore_eos,
        tokenizer: args.tokenizer.clone(),
        dataset: args.dataset.clone(),
        trace: None,
        cancel: match &args.cancel_after {
            Some(after) => Some(
                tokenpace_core::cancel::CancelPlan::parse(after, args.cancel_share)
                    .map_err(anyhow::Error::msg)?,
            ),
            None => None,
        },
        salt: args.server.salt(),
        model_mix: match &args.model_mix {
            Some(spec) => Some(std::sync::Arc::new(model_mix(spec)?)),
            None => None,
        },
    })
}
