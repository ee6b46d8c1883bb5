//! Options of `tokenpace grade`.

use super::common::*;
use clap::Args;
use std::path::PathBuf;

/// Options of `tokenpace grade`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace grade --ttft 1.8 --prefill 1200 --decode 28 --chars-per-s 24
  tokenpace grade --decode 22 --format json
  tokenpace grade --summary run1/run.json --profile strict.toml --fail-below B

Exit status: 0 graded, 1 a metric is below --fail-below, 2 bad input.")]
pub struct GradeArgs {
    /// Time to first token, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = positive_number, allow_negative_numbers = true)]
    pub ttft: Option<f64>,
    /// Prefill speed, prompt tokens per second.
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub prefill: Option<f64>,
    /// Decode speed of one stream, output tokens per second.
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub decode: Option<f64>,
    /// Output speed a reader sees, characters per second.
    #[arg(long, value_name = "CHARS_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub chars_per_s: Option<f64>,
    /// Grade a run summary (`run.json`, or a run directory holding one)
    /// instead of numbers given as flags.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["ttft", "prefill", "decode", "chars_per_s"])]
    pub summary: Option<PathBuf>,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Exit with status 1 when any graded metric is below this tier.
    #[arg(long, value_enum, value_name = "TIER", ignore_case = true)]
    pub fail_below: Option<TierArg>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}
