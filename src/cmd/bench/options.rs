//! From `bench` flags to what a run does: the levels of a sweep, the target,
//! the workload and the settings recorded with the results.

use super::Level;
use crate::cli::{ArrivalArg, BenchArgs, TextArg};
use anyhow::bail;
use std::sync::Arc;
use tokenpace_client::load::{Arrival, Load};
use tokenpace_client::request::Target;
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::workload::Workload;
use tokenpace_core::profile::Profile;
use tokenpace_core::summary::RunSettings;

/// Fills prompt and answer lengths from `--scenario`, then the defaults.
pub(crate) fn apply_scenario(args: &mut BenchArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.scenario {
        let preset = tokenpace_core::scenario::preset_named(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown scenario '{name}': use one of {} (tokenpace plan scenario --list shows them)",
                tokenpace_core::scenario::preset_names()
            )
        })?;
        let spec = preset.spec();
        if args.prompt_tokens.is_empty() {
            args.prompt_tokens = spec.prompt_tokens.map(|p| p as u32).into_iter().collect();
        }
        if args.max_tokens.is_none() {
            args.max_tokens = spec.output_tokens.map(|o| o as u32);
        }
    }
    if args.dataset.is_some() && (args.prompt_tokens.len() > 1 || args.shared_prefix > 0) {
        bail!("--dataset brings its own prompts: drop --prompt-tokens lists and --shared-prefix");
    }
    if args.prompt_tokens.is_empty() {
        args.prompt_tokens = vec![256];
    }
    Ok(())
}

/// `--max-tokens`, after [`apply_scenario`].
pub(super) fn max_tokens(args: &BenchArgs) -> u32 {
    args.max_tokens.unwrap_or(128)
}

pub(super) fn levels(args: &BenchArgs) -> anyhow::Result<Vec<Level>> {
    let loads: Vec<Load> = if !args.rate.is_empty() {
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
            .map(|&c| match c {
                0 => bail!("--concurrency must be at least 1"),
                c if c > 100_000 => {
                    bail!("--concurrency {c} is implausibly large (the limit is 100000)")
                }
                c if args.shard.concurrency(c) == 0 => bail!(
                    "--concurrency {c} split over {} shards leaves shard {} no stream: give at least one stream per shard",
                    args.shard.count, args.shard
                ),
                c => Ok(Load::Closed { concurrency: c }),
            })
            .collect::<anyhow::Result<_>>()?
    };
    if args.prompt_tokens.contains(&0) {
        bail!("--prompt-tokens must be at least 1");
    }
    if loads.len() > 1 && args.prompt_tokens.len() > 1 {
        bail!("sweep either the load (--concurrency or --rate lists) or --prompt-tokens, not both in one run");
    }
    Ok(loads
        .iter()
        .flat_map(|&load| {
            args.prompt_tokens.iter().map(move |&prompt_tokens| Level {
                load,
                prompt_tokens,
            })
        })
        .collect())
}

/// This shard's part of a level's load (levels keep the whole run's load,
/// so every shard names its levels alike).
pub(super) fn shard_load(args: &BenchArgs, load: Load) -> Load {
    match load {
        Load::Closed { concurrency } => Load::Closed {
            concurrency: args.shard.concurrency(concurrency),
        },
        Load::Open { rate, arrival } => Load::Open {
            rate: args.shard.rate(rate),
            arrival,
        },
    }
}

pub(super) fn workload(
    args: &BenchArgs,
    prompt_tokens: u32,
    tokenizer: Option<Arc<ModelTokenizer>>,
) -> Workload {
    Workload {
        lang: match args.text {
            TextArg::Zh => tokenpace_corpus::Lang::Zh,
            TextArg::En => tokenpace_corpus::Lang::En,
            TextArg::Mixed => tokenpace_corpus::Lang::Mixed,
        },
        prompt_tokens,
        shared_prefix: args.shared_prefix,
        max_tokens: max_tokens(args),
        ignore_eos: !args.no_ignore_eos,
        seed: args.seed,
        tokenizer,
    }
}

pub(super) fn settings(
    args: &BenchArgs,
    profile: &Profile,
    model: &str,
    backend: &str,
    level: Level,
) -> RunSettings {
    RunSettings {
        target: args.url.as_deref().map(redact),
        backend: Some(backend.to_string()),
        model: Some(model.to_string()),
        concurrency: match shard_load(args, level.load) {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } => None,
        },
        rate: match shard_load(args, level.load) {
            Load::Open { rate, .. } => Some(rate),
            Load::Closed { .. } => None,
        },
        requests: Some(args.requests),
        prompt_tokens: Some(level.prompt_tokens),
        max_tokens: Some(max_tokens(args)),
        scenario: args.scenario.clone(),
        stall_threshold_s: profile.stall_threshold_ms / 1000.0,
        network_overhead_s: args.network_overhead,
        shard: args.shard.is_split().then_some(args.shard),
    }
}

pub(crate) fn target(args: &BenchArgs) -> anyhow::Result<Target> {
    let given = args.url.as_deref().unwrap_or_default();
    let url = given.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("'{}' is not an http:// or https:// URL; give the server's base URL, e.g. http://127.0.0.1:8000", given);
    }
    let api_key = args
        .api_key
        .clone()
        .or_else(|| std::env::var("TOKENPACE_API_KEY").ok())
        .or_else(|| std::env::var("OPENAI_API_KEY").ok())
        .filter(|k| !k.is_empty());
    let headers = args
        .headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => bail!("--header '{h}' is not NAME:VALUE"),
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Target {
        base_url: url
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .to_string(),
        model: args.model.clone().unwrap_or_default(),
        api_key,
        headers,
    })
}

/// The URL without credentials, for files and output.
pub(super) fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    format!("{scheme}://{host}{path}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_leave_the_url() {
        assert_eq!(
            redact(&format!("https://{}@example.com/v1?key=abc", "user:secret")),
            "https://example.com/v1"
        );
        assert_eq!(redact("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
    }
}
