//! Options of `tokenpace plan bounds`.

use super::deployment::DeploymentArgs;
use super::ratio::RatioArgs;
use super::workload::WorkloadArgs;
use crate::cli::common::{OutputArgs, ProfileArgs};
use clap::Args;

/// Options of `tokenpace plan bounds`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan bounds --list
  tokenpace plan bounds --model qwen2.5-7b --hardware rtx-4090 --weights int4
  tokenpace plan bounds --model qwen2.5-7b --hardware rtx-4090 --weights int4 --text en
  tokenpace plan bounds --model llama-3.1-70b --hardware h100-sxm --gpus 2 --concurrency 32
  tokenpace plan bounds --model llama-3.1-8b --hardware l40s --concurrency 16 --arrivals apart
  tokenpace plan bounds --model-file ./config.json --hardware l40s --efficiency fit.toml

Prefill is bound by compute, decode by memory bandwidth (by compute at large
batches), concurrency by memory capacity. Characters per token come from
--chars-per-token, --from-run, --tokenizer, --tokenizer-family, the model's
tokenizer family, or a stated default, for --text zh or en; the output names
the source. The method is in docs/plan.md.")]
pub struct BoundsArgs {
    /// List the catalog's models and devices and exit.
    #[arg(long)]
    pub list: bool,
    /// The model, device and efficiency.
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// The workload.
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Characters per token and the language of the answers.
    #[command(flatten)]
    pub ratio: RatioArgs,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}
