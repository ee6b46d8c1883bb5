//! Options of `tokenpace plan calibrate`.

use super::deployment::DeploymentArgs;
use super::workload::ArrivalArgs;
use crate::cli::common::OutputArgs;
use clap::Args;
use std::path::PathBuf;

/// Options of `tokenpace plan calibrate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan calibrate run1 --model qwen2.5-7b --hardware rtx-4090 --weights int4
  tokenpace plan calibrate run1 --model qwen2.5-7b --hardware l4 --weights int4 --save fit.toml
  tokenpace plan bounds --model qwen2.5-14b --hardware l4 --weights int4 --efficiency fit.toml
  tokenpace plan calibrate run1 run2 --model qwen2.5-7b --hardware rtx-4090 --weights int4
  tokenpace plan calibrate --published

The workload (prompt and output tokens, concurrency, characters per token)
is read from the run, and so is how its prompts arrived: a closed loop's
together, an open loop's apart (--arrivals only when the run does not say).
Give --prefill-batch when the engine's differs from 2048 (tokenpace's
engine: 512).")]
pub struct CalibrateArgs {
    /// Run directories holding run.json, or the run.json files themselves:
    /// one, or several of the same deployment (at two or more concurrencies
    /// they also fit decode's compute fraction, which binds on CPUs).
    #[arg(value_name = "RUN_DIR", required_unless_present = "published", num_args = 1..)]
    pub run: Vec<PathBuf>,
    /// Instead of a run, check the estimate against the published
    /// measurements shipped with tokenpace.
    #[arg(long, conflicts_with = "run")]
    pub published: bool,
    /// The model, device and efficiency the run used.
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// How the run's prompts arrived, when its settings do not say (a
    /// closed loop's arrive together, an open loop's apart).
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
    /// Write the fitted efficiency to this TOML file (read it back with
    /// `plan bounds --efficiency FILE`).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}
