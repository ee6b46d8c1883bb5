//! Options of `tokenpace import`: another tool's result file read into a
//! tokenpace run.

use super::common::*;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_core::imported::ImportFormat;

/// Options of `tokenpace import`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  vllm bench serve ... --save-result --save-detailed --result-filename vllm.json
  tokenpace import vllm.json --out vllm-run
  tokenpace import benchmarks.json --out guidellm-run          (GuideLLM)
  tokenpace import artifacts/profile_export.jsonl --out aiperf-run   (AIPerf)
  tokenpace import per_request_lifecycle_metrics.json --from inference-perf
      (inference-perf, its config's report.request_lifecycle.per_request: true)
  tokenpace report vllm-run
  tokenpace compare my-run vllm-run

The run is graded and stored as `bench --out` stores one (run.json and
requests.jsonl), so report, compare and history read it. What the file does
not record (per-chunk times, the answer's text, the send schedule) is named
under the table and in the report, and left out: never made up. Files
holding only percentiles (inference-perf's summary_ and stage_N_ files,
inference-benchmarker's results JSON) are refused, the latter with its
figures in seconds: a run is built from requests, never from percentiles.")]
pub struct ImportArgs {
    /// The tool's result file.
    #[arg(value_name = "FILE")]
    pub result: PathBuf,
    /// Where to write the run [default: FILE's name without extension, beside it].
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// The file's format: auto tells vllm, guidellm, aiperf, inference-perf
    /// and inference-benchmarker apart by content.
    #[arg(long, value_enum, default_value_t = FormatArg::Auto)]
    pub from: FormatArg,
    /// Which benchmark of a file holding several (a GuideLLM sweep), from 0.
    #[arg(long, value_name = "N")]
    pub benchmark: Option<usize>,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `--from`: a format, or `auto` to tell it from the content.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum FormatArg {
    /// Tell the format from the file's content.
    Auto,
    /// `vllm bench serve --save-result --save-detailed`.
    Vllm,
    /// GuideLLM's benchmarks JSON.
    Guidellm,
    /// AIPerf's profile_export.jsonl.
    Aiperf,
    /// inference-perf's per_request_lifecycle_metrics.json.
    InferencePerf,
    /// inference-benchmarker's results JSON (aggregates only: refused, its figures shown).
    InferenceBenchmarker,
}

impl FormatArg {
    /// The format, `None` for `auto`.
    pub fn format(self) -> Option<ImportFormat> {
        match self {
            FormatArg::Auto => None,
            FormatArg::Vllm => Some(ImportFormat::Vllm),
            FormatArg::Guidellm => Some(ImportFormat::Guidellm),
            FormatArg::Aiperf => Some(ImportFormat::Aiperf),
            FormatArg::InferencePerf => Some(ImportFormat::InferencePerf),
            FormatArg::InferenceBenchmarker => Some(ImportFormat::InferenceBenchmarker),
        }
    }
}
