//! Options of `tokenpace plan capacity`.

use super::deployment::DeploymentArgs;
use super::ratio::RatioArgs;
use super::workload::WorkloadArgs;
use crate::cli::common::{non_negative_number, positive_number, OutputArgs, ProfileArgs};
use clap::Args;

/// Options of `tokenpace plan capacity`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan capacity --model qwen2.5-7b --hardware rtx-4090 --weights int4
  tokenpace plan capacity --model llama-3.1-8b --hardware l4 --text en
  tokenpace plan capacity --model qwen2.5-7b --hardware rtx-4090 --weights int4 --arrivals apart
  tokenpace plan capacity --decode 300 --batch-slowdown 0.95 --prefill 20000 --ttft-ms 20

With --model and --hardware the roofline grades each concurrency up to the
KV-cache contexts that fit; with --decode the simulator's law: per-stream
decode = decode / (1 + k(c - 1)), TTFT = fixed + prompt / prefill. The method
is in docs/plan.md.")]
pub struct PlanCapacityArgs {
    /// The model, device and efficiency (the roofline).
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// The workload (its --concurrency is what is searched, and ignored).
    #[command(flatten)]
    pub workload: WorkloadArgs,
    /// Characters per token and the language of the answers.
    #[command(flatten)]
    pub ratio: RatioArgs,
    /// Decode rate of a stream alone, tokens/s (the batching law instead of
    /// the roofline).
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true,
          conflicts_with_all = ["model", "model_file", "hardware"])]
    pub decode: Option<f64>,
    /// k in: per-stream decode = decode / (1 + k·(c − 1)).
    #[arg(long, value_name = "K", default_value_t = 0.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub batch_slowdown: f64,
    /// Prefill rate, prompt tokens/s (with --decode).
    #[arg(long, value_name = "TOK_PER_S", default_value_t = 5000.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub prefill: f64,
    /// Fixed part of TTFT, ms (with --decode).
    #[arg(long, value_name = "MS", default_value_t = 200.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub ttft_ms: f64,
    /// Streams decoded at once; more queue (with --decode).
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub max_batch: u32,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}
