//! Options of `tokenpace plan scenario`, and the scenario flags it shares
//! with `plan remedies`.

use super::ratio::RatioArgs;
use crate::cli::common::{non_negative_number, positive_number, OutputArgs, ProfileArgs};
use clap::Args;
use tokenpace_core::scenario::{preset_named, preset_names, Preset, ScenarioSpec};
use tokenpace_plan::chars_per_token::CharsPerToken;

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
