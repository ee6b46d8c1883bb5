//! The workload of `plan bounds` and `plan capacity`, and how concurrent
//! prompts arrive (shared with `plan remedies` and `plan calibrate`).

use crate::cli::common::{non_negative_number, positive_number};
use clap::{Args, ValueEnum};
use tokenpace_plan::arrivals::Arrivals;
use tokenpace_plan::chars_per_token::CharsPerToken;
use tokenpace_plan::roofline::{Traffic, DEFAULT_PREFILL_BATCH};

/// How concurrent prompts arrive, and how many an engine prefills at once.
#[derive(Debug, Clone, Copy, Args)]
pub struct ArrivalArgs {
    /// How the concurrent prompts arrive: together (as a benchmark's streams
    /// start: each waits for its wave's prefill steps) or apart (users at
    /// random times: each waits for the prefills in progress).
    #[arg(long, value_enum, default_value = "together", ignore_case = true)]
    pub arrivals: ArrivalsArg,
    /// Prompt tokens the engine prefills per step (vLLM's
    /// max_num_batched_tokens, llama.cpp's n_batch, 512 in tokenpace's
    /// engine): prompts arriving together that share a step get their first
    /// tokens together.
    #[arg(long, value_name = "TOKENS", default_value_t = DEFAULT_PREFILL_BATCH, value_parser = positive_number, allow_negative_numbers = true)]
    pub prefill_batch: f64,
}

impl ArrivalArgs {
    /// The default traffic with these arrivals.
    pub fn traffic(&self) -> Traffic {
        Traffic {
            arrivals: self.arrivals.into(),
            prefill_batch_tokens: self.prefill_batch,
            ..Traffic::default()
        }
    }
}

/// How concurrent prompts arrive, as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArrivalsArg {
    /// All at once, as a benchmark's streams start and stay in step: each
    /// prompt waits for its wave's prefill steps.
    Together,
    /// Users at random times: a prompt waits for the prefills in progress.
    Apart,
}

impl From<ArrivalsArg> for Arrivals {
    fn from(a: ArrivalsArg) -> Arrivals {
        match a {
            ArrivalsArg::Together => Arrivals::Together,
            ArrivalsArg::Apart => Arrivals::Apart,
        }
    }
}

/// The workload flags of `plan bounds`.
#[derive(Debug, Clone, Args)]
pub struct WorkloadArgs {
    /// Prompt tokens per request.
    #[arg(long, value_name = "N", default_value_t = 1000.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub prompt_tokens: f64,
    /// Output tokens per request.
    #[arg(long, value_name = "N", default_value_t = 256.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub output_tokens: f64,
    /// Requests served at once (the decode batch).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub concurrency: f64,
    /// Network round trip included in TTFT, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub rtt: f64,
    /// How the concurrent prompts arrive.
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
}

impl WorkloadArgs {
    /// The workload the flags describe, reading at `ratio`.
    pub fn workload(&self, ratio: &CharsPerToken) -> Traffic {
        Traffic {
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
            concurrency: self.concurrency,
            rtt_s: self.rtt,
            ..self.arrivals.traffic()
        }
        .with_ratio(ratio)
    }
}
