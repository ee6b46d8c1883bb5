//! Options of `tokenpace plan …`.

use super::common::*;
use clap::{Args, Subcommand, ValueEnum};
use std::path::{Path, PathBuf};
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::ratio::RatioError;
use tokenpace_core::scenario::{preset_named, preset_names, Preset, ScenarioSpec};
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_core::text::CharCount;
use tokenpace_plan::arrivals::Arrivals;
use tokenpace_plan::chars_per_token::{CharsPerToken, RatioEvidence, RunRatio, TokenCount};
use tokenpace_plan::efficiency::Overrides;
use tokenpace_plan::quant::Quant;
use tokenpace_plan::remedies::Params;
use tokenpace_plan::roofline::{Traffic, DEFAULT_PREFILL_BATCH};
use tokenpace_plan::setup::{ModelSource, Setup};

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
    Bounds(BoundsArgs),
    /// What int4/int8, speculative decoding, a prefix KV cache, split
    /// prefill or another card would make of the metrics.
    Remedies(RemediesArgs),
    /// Compare a measured run with the estimate and fit the efficiency.
    Calibrate(CalibrateArgs),
    /// Predict the largest concurrency that keeps every graded metric in
    /// tier A: from the roofline (--model, --hardware) or from rates and a
    /// batching law (--decode, --batch-slowdown), as `tokenpace sim` has.
    Capacity(PlanCapacityArgs),
}

/// Options of `tokenpace plan scenario`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan scenario --list
  tokenpace plan scenario --preset long-summary
  tokenpace plan scenario --preset long-summary --tokenizer-family qwen --format json
  tokenpace plan scenario --prompt-tokens 3000 --output-tokens 500 --prefill 2500 --decode 40

Flags override the preset's values. Targets default to the profile's tier-A
boundaries (TTFT < 2 s, 25 characters/s).")]
pub struct ScenarioArgs {
    /// List the presets and exit.
    #[arg(long)]
    pub list: bool,
    /// The scenario.
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// The inputs of a product scenario, shared by `plan scenario` and
/// `plan remedies`.
#[derive(Debug, Args)]
pub struct ScenarioFlags {
    /// Start from one of the built-in scenarios (see `plan scenario --list`).
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
    /// Characters per token and the language of the answers.
    #[command(flatten)]
    pub ratio: RatioArgs,
    /// A prefill rate the hardware reaches, tokens/s (predicts TTFT).
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub prefill: Option<f64>,
    /// A decode rate the hardware reaches, tokens/s (predicts reading speed).
    #[arg(long, value_name = "TOK_PER_S", value_parser = positive_number, allow_negative_numbers = true)]
    pub decode: Option<f64>,
}

impl ScenarioFlags {
    /// The preset the flags name (if any) and the scenario they describe:
    /// the preset's values, overridden by every flag given, with `ratio`
    /// as the characters per token (chosen by [`RatioArgs::evidence`] and
    /// the model).
    pub fn spec(
        &self,
        ratio: &CharsPerToken,
    ) -> anyhow::Result<(Option<&'static Preset>, ScenarioSpec)> {
        let preset = match &self.preset {
            Some(name) => Some(preset_named(name).ok_or_else(|| {
                anyhow::anyhow!("unknown preset '{name}': use one of {} (tokenpace plan scenario --list shows them)", preset_names())
            })?),
            None => None,
        };
        let given = ScenarioSpec {
            prompt_tokens: self.prompt_tokens,
            output_tokens: self.output_tokens,
            rtt_s: self.rtt,
            ttft_target_s: self.ttft_target,
            chars_per_s_target: self.chars_per_s,
            chars_per_token: Some((ratio.value, ratio.describe())),
            prefill_tok_s: self.prefill,
            decode_tok_s: self.decode,
        };
        Ok((
            preset,
            preset.map(Preset::spec).unwrap_or_default().overlay(given),
        ))
    }
}

/// Where characters per token come from, and for which language: shared
/// by `plan scenario`, `plan bounds` and `plan remedies`. Without any of
/// these flags the model's tokenizer family (catalog entry or model file)
/// gives it, else a stated default.
#[derive(Debug, Clone, Args)]
pub struct RatioArgs {
    /// Characters per output token, for reading speed [default: the
    /// model's tokenizer family for --text, else 0.7 (zh) / 3.17 (en), a
    /// 32k-vocabulary tokenizer; the output names the source].
    #[arg(long, value_name = "RATIO", value_parser = positive_number, allow_negative_numbers = true,
          conflicts_with_all = ["tokenizer_family", "from_run", "tokenizer"])]
    pub chars_per_token: Option<f64>,
    /// Use a tokenizer family's published characters per token (qwen,
    /// deepseek, llama3, llama2).
    #[arg(long, value_name = "FAMILY", conflicts_with_all = ["from_run", "tokenizer"])]
    pub tokenizer_family: Option<String>,
    /// Use the characters per token measured in a run (`run.json` or its
    /// directory).
    #[arg(long, value_name = "FILE", conflicts_with = "tokenizer")]
    pub from_run: Option<PathBuf>,
    /// Measure characters per token with the model's tokenizer.json on
    /// tokenpace's sample text in the --text language.
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// The language of the answers, which sets characters per token (zh,
    /// en; mixed: half the characters in each).
    #[arg(long, value_enum, default_value_t = TextLang::Zh)]
    pub text: TextLang,
}

impl RatioArgs {
    /// What the flags say about characters per token: `count` tokenizes
    /// text with a tokenizer file, `read_run` reads a run (the caller's
    /// I/O). The model's family is the caller's to add.
    pub fn evidence(
        &self,
        count: impl FnOnce(&Path, &str) -> anyhow::Result<u32>,
        read_run: impl FnOnce(&Path) -> anyhow::Result<RunSummary>,
    ) -> anyhow::Result<RatioEvidence> {
        let tokenizer = match &self.tokenizer {
            Some(path) => {
                let sample = tokenpace_corpus::text(self.text);
                Some(TokenCount {
                    tokenizer: path.display().to_string(),
                    chars: CharCount::of(sample).chars,
                    tokens: count(path, sample)?,
                })
            }
            None => None,
        };
        let run = match &self.from_run {
            Some(path) => {
                let name = path.display().to_string();
                let summary = read_run(path)?;
                let stats = summary
                    .metrics
                    .get(&Metric::CharsPerToken)
                    .ok_or_else(|| RatioError::NotInRun(name.clone()))?;
                Some(RunRatio {
                    run: name,
                    value: stats.get(Statistic::Mean),
                    requests: stats.n,
                })
            }
            None => None,
        };
        Ok(RatioEvidence {
            given: self.chars_per_token,
            run,
            tokenizer,
            family_flag: self.tokenizer_family.clone(),
            model: None,
        })
    }
}

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

/// A weight quantisation as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantArg {
    /// 16-bit floats (FP16/BF16).
    Fp16,
    /// 8-bit integers (8.5 bits per weight with scales; INT8 matrix rate).
    Int8,
    /// 4-bit integers (4.5 bits per weight with scales; weight-only).
    Int4,
}

impl From<Quant> for QuantArg {
    fn from(q: Quant) -> QuantArg {
        match q {
            Quant::Fp16 => QuantArg::Fp16,
            Quant::Int8 => QuantArg::Int8,
            Quant::Int4 => QuantArg::Int4,
        }
    }
}

impl From<QuantArg> for Quant {
    fn from(q: QuantArg) -> Quant {
        match q {
            QuantArg::Fp16 => Quant::Fp16,
            QuantArg::Int8 => Quant::Int8,
            QuantArg::Int4 => Quant::Int4,
        }
    }
}

/// Which model on which device, and how efficiently: shared by `plan
/// bounds`, `plan remedies` and `plan calibrate`.
#[derive(Debug, Clone, Args)]
pub struct DeploymentArgs {
    /// Model id from the catalog (`tokenpace plan bounds --list` shows it),
    /// e.g. qwen2.5-7b.
    #[arg(long, value_name = "NAME", conflicts_with = "model_file")]
    pub model: Option<String>,
    /// Read the model's shape from a Hugging Face config.json or a GGUF
    /// file's header instead of the catalog.
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// Device id from the catalog (`tokenpace plan bounds --list` shows
    /// it), e.g. rtx-4090.
    #[arg(long, value_name = "NAME")]
    pub hardware: Option<String>,
    /// How the weights are stored.
    #[arg(long, value_enum, default_value_t = Quant::default().into(), ignore_case = true)]
    pub quant: QuantArg,
    /// Devices the model is split across (tensor parallel).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub gpus: u32,
    /// Add or replace catalog entries from a TOML file (same format as the
    /// built-in catalog; may be repeated).
    #[arg(long, value_name = "FILE")]
    pub catalog: Vec<PathBuf>,
    /// Efficiency factors from a TOML file (what `plan calibrate --save`
    /// writes).
    #[arg(long, value_name = "FILE")]
    pub efficiency: Option<PathBuf>,
    /// Fraction of peak compute reached in prefill [default: 0.65].
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_negative_numbers = true)]
    pub compute_efficiency: Option<f64>,
    /// Fraction of peak memory bandwidth reached in decode [default: 0.7].
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_negative_numbers = true)]
    pub bandwidth_efficiency: Option<f64>,
    /// Fraction of device memory usable for weights and KV cache [default: 0.9].
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_negative_numbers = true)]
    pub memory_usable: Option<f64>,
}

impl DeploymentArgs {
    /// The deployment the flags ask for (read by [`Setup::resolve`]).
    pub fn setup(&self) -> Setup {
        let model = match (&self.model, &self.model_file) {
            (Some(name), _) => Some(ModelSource::Catalog(name.clone())),
            (None, Some(path)) => Some(ModelSource::File(path.clone())),
            (None, None) => None,
        };
        Setup {
            catalog_files: self.catalog.clone(),
            model,
            hardware: self.hardware.clone(),
            efficiency_file: self.efficiency.clone(),
            overrides: Overrides {
                compute: self.compute_efficiency,
                bandwidth: self.bandwidth_efficiency,
                memory_usable: self.memory_usable,
            },
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

/// Options of `tokenpace plan bounds`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan bounds --list
  tokenpace plan bounds --model qwen2.5-7b --hardware rtx-4090 --quant int4
  tokenpace plan bounds --model qwen2.5-7b --hardware rtx-4090 --quant int4 --text en
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

/// The assumptions of the remedies, as flags.
#[derive(Debug, Clone, Args)]
pub struct RemedyArgs {
    /// Share of prompt tokens whose KV cache is reused (0 to <1).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.75, value_parser = hit_ratio, allow_negative_numbers = true)]
    pub cache_hit: f64,
    /// Devices one prompt's prefill is split across.
    #[arg(long, value_name = "N", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=1024))]
    pub split_devices: u32,
    /// Scaling efficiency of split prefill (N devices are N × this as fast).
    #[arg(long, value_name = "FRACTION", default_value_t = 0.9, value_parser = fraction, allow_negative_numbers = true)]
    pub split_efficiency: f64,
    /// Probability the target model accepts a drafted token.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.7, value_parser = acceptance, allow_negative_numbers = true)]
    pub spec_acceptance: f64,
    /// Tokens the draft model proposes per verification step.
    #[arg(long, value_name = "K", default_value_t = 4, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub spec_draft_tokens: u32,
    /// Cost of one draft token relative to one target decode step.
    #[arg(long, value_name = "FRACTION", default_value_t = 0.05, value_parser = non_negative_number, allow_negative_numbers = true)]
    pub spec_draft_cost: f64,
}

impl RemedyArgs {
    /// The remedies' assumptions.
    pub fn params(&self) -> Params {
        Params {
            cache_hit: self.cache_hit,
            split_devices: self.split_devices,
            split_efficiency: self.split_efficiency,
            spec_acceptance: self.spec_acceptance,
            spec_draft_tokens: self.spec_draft_tokens,
            spec_draft_cost: self.spec_draft_cost,
        }
    }
}

fn hit_ratio(s: &str) -> Result<f64, String> {
    let v = non_negative_number(s)?;
    if v >= 1.0 {
        return Err("it must be below 1 (a fully cached prompt needs no prefill)".into());
    }
    Ok(v)
}

fn acceptance(s: &str) -> Result<f64, String> {
    let v = non_negative_number(s)?;
    if v > 1.0 {
        return Err("it must be a fraction from 0 to 1".into());
    }
    Ok(v)
}

/// Options of `tokenpace plan remedies`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan remedies --preset long-summary
  tokenpace plan remedies --preset long-summary --cache-hit 0.6 --spec-acceptance 0.6
  tokenpace plan remedies --prompt-tokens 3000 --output-tokens 500 --prefill 800 --decode 18
  tokenpace plan remedies --preset long-summary --model qwen2.5-32b --hardware l40s --quant int8

Without --model/--hardware the remedies work on the given rates; with them the
rates come from the roofline (plan bounds) and every catalog card is compared.")]
pub struct RemediesArgs {
    /// The scenario, and the rates reached now (--prefill, --decode; not
    /// with --model, which estimates them).
    #[command(flatten)]
    pub scenario: ScenarioFlags,
    /// Concurrent requests (with --model/--hardware).
    #[arg(long, value_name = "N", default_value_t = 1.0, value_parser = positive_number, allow_negative_numbers = true)]
    pub concurrency: f64,
    /// How the concurrent prompts arrive (with --model/--hardware).
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
    /// The model, device and efficiency (optional; --quant is the current
    /// weights either way).
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// The remedies' assumptions.
    #[command(flatten)]
    pub remedy: RemedyArgs,
    /// The grading profile.
    #[command(flatten)]
    pub profile: ProfileArgs,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `tokenpace plan calibrate`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan calibrate run1 --model qwen2.5-7b --hardware rtx-4090 --quant int4
  tokenpace plan calibrate run1 --model qwen2.5-7b --hardware rtx-4090 --quant int4 --save fit.toml
  tokenpace plan bounds --model qwen2.5-14b --hardware rtx-4090 --quant int4 --efficiency fit.toml
  tokenpace plan calibrate run1 run2 --model qwen2.5-7b --hardware rtx-4090 --quant int4
  tokenpace plan calibrate --published

The workload (prompt and output tokens, concurrency, characters per token)
is read from the run, and so is how its prompts arrived: a closed loop's
together, an open loop's apart (--arrivals only when the run does not say).
Give --prefill-batch when the engine's differs from 2048 (tokenpace's
engine: 512).")]
pub struct CalibrateArgs {
    /// Run directories holding run.json, or the run.json files themselves:
    /// one, or several of the same deployment (at two or more concurrencies
    /// they also fit decode's compute fraction, which binds on CPUs).
    #[arg(value_name = "RUN_DIR", required_unless_present = "published", num_args = 1..)]
    pub run: Vec<PathBuf>,
    /// Instead of a run, check the estimate against the published
    /// measurements shipped with tokenpace.
    #[arg(long, conflicts_with = "run")]
    pub published: bool,
    /// The model, device and efficiency the run used.
    #[command(flatten)]
    pub deployment: DeploymentArgs,
    /// How the run's prompts arrived, when its settings do not say (a
    /// closed loop's arrive together, an open loop's apart).
    #[command(flatten)]
    pub arrivals: ArrivalArgs,
    /// Write the fitted efficiency to this TOML file (read it back with
    /// `plan bounds --efficiency FILE`).
    #[arg(long, value_name = "FILE")]
    pub save: Option<PathBuf>,
    /// Output options.
    #[command(flatten)]
    pub output: OutputArgs,
}

/// Options of `tokenpace plan capacity`.
#[derive(Debug, Args)]
#[command(after_help = "Examples:
  tokenpace plan capacity --model qwen2.5-7b --hardware rtx-4090 --quant int4
  tokenpace plan capacity --model llama-3.1-8b --hardware l4 --text en
  tokenpace plan capacity --model qwen2.5-7b --hardware rtx-4090 --quant int4 --arrivals apart
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
