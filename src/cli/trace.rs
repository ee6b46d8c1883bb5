//! Options of `bench --trace` and `capacity --trace`: replaying a
//! production request trace.

use super::common::{non_negative_number, positive_number};
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use std::time::Duration;
use tokenpace_client::trace::{LogType, TraceFormat, TraceSpec};

/// Trace replay options of `tokenpace bench`.
#[derive(Debug, Clone, Args)]
pub struct TraceArgs {
    /// Replay a request trace: each request sent at the trace's time, with
    /// its prompt and answer lengths; Mooncake JSONL (requests sharing
    /// hash_ids share prompt prefixes), Azure LLM inference CSV or BurstGPT
    /// CSV (detected from the first line). Read as it is replayed, never
    /// whole; checked line by line before the first request.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "rate", "concurrency", "dataset", "prompt_tokens", "max_tokens",
        "scenario", "shared_prefix", "prefix_groups", "ramp_up", "turns",
        "conversations", "agent_steps"])]
    pub trace: Option<PathBuf>,
    /// Replay this many times faster than the trace (0.5: half as fast); a
    /// list (1,5,10) sweeps, one result row per speed.
    #[arg(long, value_name = "X[,X…]", value_delimiter = ',', requires = "trace",
          value_parser = positive_number, allow_negative_numbers = true)]
    pub trace_speed: Vec<f64>,
    /// Which part of the trace, and how to read it.
    #[command(flatten)]
    pub window: TraceWindowArgs,
}

/// How a trace is read and which part of it is replayed: the same for
/// `bench --trace` and `capacity --trace`.
#[derive(Debug, Clone, Args)]
pub struct TraceWindowArgs {
    /// The trace's format [default: detected from its first line].
    #[arg(long, value_enum, value_name = "FORMAT", requires = "trace")]
    pub trace_format: Option<TraceFormatArg>,
    /// Skip the requests of the trace's first SECONDS (trace time, from its
    /// first request).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, requires = "trace",
          value_parser = non_negative_number, allow_negative_numbers = true)]
    pub trace_start: f64,
    /// Replay only SECONDS of trace time from --trace-start.
    #[arg(long, value_name = "SECONDS", requires = "trace",
          value_parser = positive_number, allow_negative_numbers = true)]
    pub trace_duration: Option<f64>,
    /// Tokens of prompt text per entry of a Mooncake request's hash_ids
    /// (Mooncake's traces use 512-token blocks).
    #[arg(long, value_name = "N", default_value_t = 512, requires = "trace")]
    pub trace_block_tokens: u32,
    /// BurstGPT: replay only conversation or only API requests (its
    /// `Log Type`) [default: both].
    #[arg(long, value_enum, value_name = "KIND", requires = "trace")]
    pub trace_log_type: Option<LogTypeArg>,
}

impl TraceWindowArgs {
    /// The trace file `path` read as these options say.
    pub fn spec(&self, path: &std::path::Path) -> TraceSpec {
        TraceSpec {
            path: path.to_path_buf(),
            format: self.trace_format.map(|f| match f {
                TraceFormatArg::Mooncake => TraceFormat::Mooncake,
                TraceFormatArg::Azure => TraceFormat::Azure,
                TraceFormatArg::Burstgpt => TraceFormat::BurstGpt,
            }),
            log_type: self.trace_log_type.map(|t| match t {
                LogTypeArg::Conversation => LogType::Conversation,
                LogTypeArg::Api => LogType::Api,
            }),
            start: Duration::from_secs_f64(self.trace_start),
            duration: self.trace_duration.map(Duration::from_secs_f64),
            block_tokens: self.trace_block_tokens,
        }
    }
}

/// A trace file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TraceFormatArg {
    /// JSONL: timestamp (ms), input_length, output_length, hash_ids.
    Mooncake,
    /// CSV: TIMESTAMP (date and time), ContextTokens, GeneratedTokens.
    Azure,
    /// CSV: Timestamp (s), Model, Request tokens, Response tokens, Total
    /// tokens, Log Type.
    Burstgpt,
}

/// BurstGPT's kinds of request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum LogTypeArg {
    /// `Conversation log`.
    Conversation,
    /// `API log`.
    Api,
}
