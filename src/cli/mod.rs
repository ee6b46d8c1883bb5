//! Command-line options: declared (clap structs), and turned into the
//! checked, typed plans of the library crates before any I/O (`bench_plan`,
//! `capacity_plan`, `plan/`, `sim`: the first of two stages, as ripgrep's
//! low-level args); each command in `cmd/` runs its plan. `flags` names the
//! settings library errors refer to. Nothing here imports `cmd`.

mod bench;
pub mod bench_plan;
mod capacity;
pub mod capacity_plan;
mod common;
mod engine;
pub mod flags;
mod grade;
mod import;
mod plan;
mod runs;
mod session;
mod shell;
mod sim;
mod trace;

pub use bench::*;
pub use capacity::*;
pub use common::*;
pub use engine::*;
pub use grade::*;
pub use import::*;
pub use plan::*;
pub use runs::*;
pub use session::*;
pub use shell::*;
pub use sim::*;
pub use trace::*;

use clap::{Parser, Subcommand};
use tokenpace_present::Lang;

/// How fast an LLM deployment feels to its users, and what it takes to make
/// it feel instant.
#[derive(Debug, Parser)]
#[command(name = "tokenpace", version, about, long_about = None)]
#[command(after_help = "Examples:
  tokenpace grade --ttft 1.8 --prefill 1200 --decode 28 --chars-per-s 24
  tokenpace plan scenario --preset long-summary
  tokenpace plan scenario --list
  tokenpace bench                    (the embedded engine on the default model)
  tokenpace serve --port 8080
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --requests 100
  tokenpace capacity http://127.0.0.1:8000 --scenario writing-assistant
  tokenpace merge shard-0 shard-1 --out merged
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --requests 100 --out run1
  tokenpace report run1 --html run1.html
  tokenpace compare run0 run1
  tokenpace import vllm-bench.json --out vllm-run")]
pub struct Cli {
    /// Language of labels [default: from LC_ALL / LC_MESSAGES / LANG].
    #[arg(long, value_enum, global = true)]
    pub lang: Option<Lang>,
    /// Print only the result, warnings and errors: no progress bars, no
    /// lines about what is being done.
    #[arg(long, short, global = true)]
    pub quiet: bool,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade measured numbers (or a run summary) on tokenpace's built-in UX tiers.
    Grade(GradeArgs),
    /// Plan a deployment: the rates a product needs, what a model can do on
    /// given hardware, and what each remedy would change.
    Plan(PlanArgs),
    /// Measure an OpenAI-compatible streaming server and grade it.
    Bench(Box<BenchArgs>),
    /// Find the largest concurrency at which every graded metric stays in
    /// tier A (and in tier B): doubling, then bisecting the boundary.
    Capacity(CapacityArgs),
    /// Join the result directories of a run split with `bench --shard I/N`
    /// into one run (exact percentiles over the union of requests).
    Merge(MergeArgs),
    /// List the cached GGUF models, or fetch one (for the embedded engine).
    Models(ModelsArgs),
    /// Serve a GGUF model from the embedded CPU engine (llama.cpp) over the
    /// OpenAI API, with continuous batching.
    Serve(ServeArgs),
    /// Run an OpenAI-compatible simulator with a chosen timing model, fault
    /// injection and a ground-truth record of every byte it sends.
    #[command(after_help = "Examples:
  tokenpace sim --port 0 --ttft-ms 200 --decode 50 --truth t.jsonl
  tokenpace sim --port 8000 --max-batch 32 --batch-slowdown 0.05
  curl -N http://127.0.0.1:8000/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"hi\"}],\"stream\":true}'")]
    Sim(SimArgs),
    /// Read another tool's result file (vllm bench serve, GuideLLM, AIPerf)
    /// into a graded tokenpace run that report and compare read.
    Import(ImportArgs),
    /// Write a run as one self-contained HTML page: verdict, what a reader
    /// sees, distributions, sweeps, errors, settings.
    Report(ReportArgs),
    /// Compare runs side by side: each metric's change, whether it is beyond
    /// noise, tier changes; gate on regressions.
    Compare(CompareArgs),
    /// List the runs found under a directory.
    History(HistoryArgs),
    /// Print the shell completion script for bash, zsh or fish.
    Completions(CompletionsArgs),
    /// Print the manual page (roff): `tokenpace man | man -l -`.
    Man(ManArgs),
}
