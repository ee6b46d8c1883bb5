//! Options of `tokenpace plan remedies`, and the remedies' assumptions.

use super::deployment::DeploymentArgs;
use super::scenario::ScenarioFlags;
use super::workload::ArrivalArgs;
use crate::cli::common::{fraction, non_negative_number, positive_number, OutputArgs, ProfileArgs};
use clap::Args;
use tokenpace_plan::remedies::Params;

/// The assumptions of the remedies, as flags.
#[derive(Debug, Clone, Args)]
pub struct RemedyArgs {
    /// Share of prompt tokens whose KV cache is reused (0 to <1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.75, value_parser = hit_ratio, allow_negative_numbers = true)]
    pub cache_hit: f64,
    /// Devices one prompt's prefill is split across.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub split_devices: u32,
    /// Scaling efficiency of split prefill (N devices are N × this as fast).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.9, value_parser = fraction, allow_negative_numbers = true)]
    pub split_efficiency: f64,
    /// Probability the target model accepts a drafted token.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.7, value_parser = acceptance, allow_negative_numbers = true)]
    pub spec_acceptance: f64,
    /// Tokens the draft model proposes per verification step.
    #[arg(long, value_name = "K", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub spec_draft_tokens: u32,
    /// Cost of one draft token relative to one target decode step.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub spec_draft_cost: f64,
}

impl RemedyArgs {
    /// The remedies' assumptions.
    pub fn params(&self) -> Params {
        Params {
            cache_hit: self.cache_hit,
            split_devices: self.split_devices,
            split_efficiency: self.split_efficiency,
            spec_acceptance: self.spec_acceptance,
            spec_draft_tokens: self.spec_draft_tokens,
            spec_draft_cost: self.spec_draft_cost,
        }
    }
}

fn hit_ratio(s: &str) -> Result<f64, String> {
    let v = non_negative_number(s)?;
    if v >= 1.0 {
        return Err("it must be below 1 (a fully cached prompt needs no prefill)".into());
    }
    Ok(v)
}

fn acceptance(s: &str) -> Result<f64, String> {
    let v = non_negative_number(s)?;
    if v > 1.0 {
        return Err("it must be a fraction from 0 to 1".into());
    }
    Ok(v)
}

/// Options of `tokenpace plan remedies`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan remedies --preset long-summary
  tokenpace plan remedies --preset long-summary --cache-hit 0.6 --spec-acceptance 0.6
  tokenpace plan remedies --prompt-tokens 3000 --output-tokens 500 --prefill 800 --decode 18
  tokenpace plan remedies --preset long-summary --model qwen2.5-32b --hardware l40s --weights int8

Without --model/--hardware the remedies work on the given rates; with them the
rates come from the roofline (plan bounds) and every catalog card is compared.")]
pub struct RemediesArgs {
    /// The scenario, and the rates reached now (--prefill, --decode; not
    /// with --model, which estimates them).
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// Concurrent requests (with --model/--hardware).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub concurrency: f64,
    /// How the concurrent prompts arrive (with --model/--hardware).
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
    /// The model, device and efficiency (optional; --weights is the current
    /// weights either way).
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// The remedies' assumptions.
    #[command(flatten)]
    pub remedy: RemedyArgs,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}
