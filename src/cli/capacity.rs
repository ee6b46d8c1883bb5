//! Options of `tokenpace capacity`.

use super::common::*;
use super::engine::EngineFlags;
use clap::Args;
use std::path::PathBuf;

/// Options of `tokenpace capacity`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace capacity http://127.0.0.1:8000 --scenario writing-assistant
  tokenpace capacity http://127.0.0.1:8000 --scenario customer-service --max-concurrency 128 --time-budget 300 --goodput
  tokenpace capacity http://127.0.0.1:8080 --backend llamacpp --model m --max-tokens 64 --out cap1 --format json
  tokenpace capacity --scenario customer-service --max-concurrency 8 --parallel 8
  tokenpace capacity http://127.0.0.1:8000 --turns 4 --think-time 1s --max-concurrency 64
  tokenpace capacity http://127.0.0.1:8000 --trace mooncake.jsonl --trace-duration 60 --max-trace-speed 16
      (no URL: the embedded engine with the default model, on a loopback port)

Concurrency doubles (1, 2, 4, …) until a level falls to tier C or reaches
--max-concurrency, then the tier-A and tier-B boundaries are bisected to
adjacent levels. With --trace the search varies the replay speed instead:
--trace-speed-step, doubling up to --max-trace-speed, bisected to adjacent
multiples of the step; each level replays the trace's window once.
Failed requests count through the profile's answered_pct line (tier A needs
at least 99 % of the requests answered, B 95 %), as in bench.
Exit status: 0 searched, 2 bad input or the target was unreachable, 130
interrupted by Ctrl-C (the levels measured so far are still printed).")]
pub struct CapacityArgs {
    /// Base URL of the server (without /v1/...) [default: the embedded
    /// engine, started on a loopback port with --model or the default model].
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// Prompt and answer lengths from one of the built-in scenarios (see
    /// `tokenpace plan scenario --list`).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Highest concurrency to try.
    #[arg(long, value_name = "N", default_value_t = 256, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_concurrency: u32,
    /// Stop the search after this many seconds (the level running then is
    /// cut short and kept).
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub time_budget: f64,
    /// Requests per level [default: 3 × the concurrency, at least 8].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub requests_per_level: Option<u64>,
    /// Stop the search once this many requests were sent in all.
    #[arg(long, value_name = "N", default_value_t = 20_000)]
    pub max_requests: u64,
    /// Also report goodput: requests per second that met every target of
    /// tier A (and of tier B) on their own.
    #[arg(long)]
    pub goodput: bool,
    /// Search by an SLO instead of the tiers: the highest load at which at
    /// least --attainment % of requests meet it, and the limit that binds.
    /// `tiers` (tier A of the default profile, per request),
    /// `mlperf-server:<model>`, `mlperf-interactive:<model>` (MLPerf
    /// Inference v6.0's TTFT and TPOT constraints), or a TOML file
    /// (docs/capacity.md, "Searching by an SLO").
    #[arg(long, value_name = "PRESET|FILE")]
    pub slo: Option<String>,
    /// With --slo: the percent of requests that must meet it.
    #[arg(long, value_name = "PCT", default_value_t = tokenpace_core::slo::DEFAULT_ATTAINMENT_PCT,
          requires = "slo", value_parser = percent)]
    pub attainment: f64,
    /// Prompt length in tokens [default: the scenario's, or 256].
    #[arg(long, value_name = "N")]
    pub prompt_tokens: Option<u32>,
    /// Tokens to generate per request [default: the scenario's, or 128].
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// Model name [default: the first of GET /v1/models]; without a URL,
    /// the GGUF file or package the embedded engine runs.
    #[arg(long)]
    pub model: Option<String>,
    /// The embedded engine's settings (used without a URL).
    #[command(flatten)]
    pub engine: EngineFlags,
    /// The server's protocol (as for bench).
    #[arg(long, value_name = "NAME",
          value_parser = clap::builder::PossibleValuesParser::new(tokenpace_client::backend::IDS))]
    pub backend: Option<String>,
    /// API key (or TOKENPACE_API_KEY / the provider's variable, e.g. OPENAI_API_KEY).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// The per-request id header.
    #[command(flatten)]
    pub request_id: RequestIdArgs,
    /// How requests travel.
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Prompt text language.
    #[arg(long, value_enum, default_value_t = TextLang::Zh)]
    pub text: TextLang,
    /// Seed for prompts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seconds a whole request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Seconds a stream may go without a token once the first came (pings,
    /// comments and empty events do not count); a longer gap fails the
    /// request as a timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub idle_timeout: f64,
    /// Write every level's requests.jsonl and run.json (in cN/) and
    /// capacity.json here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
    /// Sessions and agent tasks: the search then finds how many users
    /// (sessions at once) stay in tier A.
    #[command(flatten)]
    pub sessions: super::session::SessionArgs,
    /// Search how fast a request trace can be replayed in tier A (same
    /// formats as bench --trace): its times, prompt and answer lengths and
    /// shared prefixes replace the synthetic workload.
    #[arg(long, value_name = "FILE", conflicts_with_all = [
        "scenario", "prompt_tokens", "max_tokens", "max_concurrency",
        "turns", "conversations", "agent_steps"])]
    pub trace: Option<PathBuf>,
    /// The fastest replay to try, × the trace's own pace.
    #[arg(long, value_name = "X", default_value_t = 32.0, requires = "trace",
          value_parser = positive_number, allow_negative_numbers = true)]
    pub max_trace_speed: f64,
    /// The slowest replay (the first level) and the search's resolution:
    /// levels are multiples of it.
    #[arg(long, value_name = "X", default_value_t = 0.25, requires = "trace",
          value_parser = positive_number, allow_negative_numbers = true)]
    pub trace_speed_step: f64,
    /// Which part of the trace, and how to read it.
    #[command(flatten)]
    pub trace_window: super::trace::TraceWindowArgs,
}
