//! The seed's design method as a calculator.
//!
//! Forward: from a product scenario (prompt and answer length, a TTFT target,
//! a reading-speed target, characters per token, network round trip) derive
//! the prefill and decode rates a deployment needs. Reverse: from given rates
//! predict TTFT, time to finish, characters per second, and their tiers.
//!
//! The model is the seed's: TTFT = RTT + prompt tokens / prefill rate, and
//! the reader sees decode rate × characters per token. A stream's first token
//! arrives at TTFT and the other `output − 1` at the decode rate, which is how
//! `docs/metrics.md` defines decode speed, so predictions and measurements
//! compare like with like.

use crate::grade::{Grade, Tier};
use crate::metric::Metric;
use crate::profile::Profile;
use crate::setting::Setting;
use serde::{Deserialize, Serialize};

pub mod laws;
mod presets;
pub mod ratio;

pub use laws::{
    chars_per_s, decode_for, decode_per_stream, prefill_for_ttft, rate_for, time_for, ttft,
};
pub use presets::{preset_named, preset_names, Preset, PRESETS};

/// Where the characters-per-token ratio comes from when none is given.
pub const DEFAULT_RATIO_SOURCE: &str =
    "the default 0.7 characters per token (a 32k-vocabulary tokenizer on Chinese)";

/// A scenario as far as it is specified: presets and flags fill some
/// fields, [`ScenarioSpec::resolve`] the rest from defaults.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioSpec {
    /// Prompt tokens (system prompt, history and question).
    pub prompt_tokens: Option<f64>,
    /// Answer tokens.
    pub output_tokens: Option<f64>,
    /// Network round trip included in TTFT, seconds.
    pub rtt_s: Option<f64>,
    /// TTFT to stay below, seconds.
    pub ttft_target_s: Option<f64>,
    /// Reading speed to reach, characters/s.
    pub chars_per_s_target: Option<f64>,
    /// Characters per token, and where the ratio comes from.
    pub chars_per_token: Option<(f64, String)>,
    /// A prefill rate the hardware reaches, tokens/s.
    pub prefill_tok_s: Option<f64>,
    /// A decode rate the hardware reaches, tokens/s.
    pub decode_tok_s: Option<f64>,
}

impl ScenarioSpec {
    /// Fields set in `over` replace those in `self`.
    pub fn overlay(self, over: ScenarioSpec) -> ScenarioSpec {
        ScenarioSpec {
            prompt_tokens: over.prompt_tokens.or(self.prompt_tokens),
            output_tokens: over.output_tokens.or(self.output_tokens),
            rtt_s: over.rtt_s.or(self.rtt_s),
            ttft_target_s: over.ttft_target_s.or(self.ttft_target_s),
            chars_per_s_target: over.chars_per_s_target.or(self.chars_per_s_target),
            chars_per_token: over.chars_per_token.or(self.chars_per_token),
            prefill_tok_s: over.prefill_tok_s.or(self.prefill_tok_s),
            decode_tok_s: over.decode_tok_s.or(self.decode_tok_s),
        }
    }

    /// Fills the gaps (targets from the profile's tier-A boundaries, RTT 0,
    /// the default 0.7 characters per token) and checks every value.
    pub fn resolve(self, profile: &Profile) -> Result<Scenario, ScenarioError> {
        let a = |m: Metric, fallback: f64| profile.metrics.get(&m).map_or(fallback, |r| r.a);
        let s = Scenario {
            prompt_tokens: self.prompt_tokens.ok_or(ScenarioError::Missing {
                field: Setting::PromptTokens,
            })?,
            output_tokens: self.output_tokens.ok_or(ScenarioError::Missing {
                field: Setting::OutputTokens,
            })?,
            rtt_s: self.rtt_s.unwrap_or(0.0),
            ttft_target_s: self.ttft_target_s.unwrap_or(a(Metric::TtftS, 2.0)),
            chars_per_s_target: self
                .chars_per_s_target
                .unwrap_or(a(Metric::OutputCharsS, 25.0)),
            chars_per_token: self.chars_per_token.as_ref().map_or(0.7, |c| c.0),
            chars_per_token_source: self
                .chars_per_token
                .map_or_else(|| DEFAULT_RATIO_SOURCE.to_string(), |c| c.1),
            prefill_tok_s: self.prefill_tok_s,
            decode_tok_s: self.decode_tok_s,
        };
        s.validate()?;
        Ok(s)
    }
}

/// A fully specified scenario.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Scenario {
    /// Prompt tokens.
    pub prompt_tokens: f64,
    /// Answer tokens.
    pub output_tokens: f64,
    /// Network round trip, seconds.
    pub rtt_s: f64,
    /// TTFT to stay below, seconds.
    pub ttft_target_s: f64,
    /// Reading speed to reach, characters/s.
    pub chars_per_s_target: f64,
    /// Characters per token.
    pub chars_per_token: f64,
    /// Where `chars_per_token` comes from.
    pub chars_per_token_source: String,
    /// Given prefill rate, tokens/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_tok_s: Option<f64>,
    /// Given decode rate, tokens/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_tok_s: Option<f64>,
}

/// A scenario that cannot be computed. `field` names the input as a
/// [`Setting`], which the program that took it renders.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ScenarioError {
    /// A required input is missing.
    #[error(
        "{field} is missing: give it, or pick a {} (see {})",
        Setting::Preset,
        Setting::List
    )]
    Missing {
        /// The input.
        field: Setting,
    },
    /// A value is out of range.
    #[error("{field} {value} is out of range: {expected}")]
    OutOfRange {
        /// The input.
        field: Setting,
        /// What was given.
        value: f64,
        /// What is accepted.
        expected: &'static str,
    },
    /// The round trip alone exceeds the TTFT target.
    #[error("the network round trip ({rtt_s} s) uses up the whole TTFT target ({ttft_target_s} s), so no prefill speed can meet it: lower {} or raise {}", Setting::Rtt, Setting::TtftTarget)]
    RttExceedsTarget {
        /// Round trip.
        rtt_s: f64,
        /// Target.
        ttft_target_s: f64,
    },
}

fn check(
    field: Setting,
    v: f64,
    lo: f64,
    hi: f64,
    expected: &'static str,
) -> Result<(), ScenarioError> {
    // `!(..)` so that NaN fails too.
    if !(v >= lo && v <= hi) {
        return Err(ScenarioError::OutOfRange {
            field,
            value: v,
            expected,
        });
    }
    Ok(())
}

impl Scenario {
    fn validate(&self) -> Result<(), ScenarioError> {
        const TOK: &str = "a whole number of tokens from 1 to 10 000 000";
        check(Setting::PromptTokens, self.prompt_tokens, 1.0, 1e7, TOK)?;
        check(Setting::OutputTokens, self.output_tokens, 1.0, 1e7, TOK)?;
        for (field, v) in [
            (Setting::PromptTokens, self.prompt_tokens),
            (Setting::OutputTokens, self.output_tokens),
        ] {
            if v.fract() != 0.0 {
                return Err(ScenarioError::OutOfRange {
                    field,
                    value: v,
                    expected: TOK,
                });
            }
        }
        check(Setting::Rtt, self.rtt_s, 0.0, 60.0, "seconds from 0 to 60")?;
        check(
            Setting::TtftTarget,
            self.ttft_target_s,
            1e-3,
            3600.0,
            "seconds from 0.001 to 3600",
        )?;
        check(
            Setting::CharsPerS,
            self.chars_per_s_target,
            1e-3,
            1e4,
            "characters/s from 0.001 to 10 000",
        )?;
        check(
            Setting::CharsPerToken,
            self.chars_per_token,
            0.01,
            100.0,
            "a ratio from 0.01 to 100",
        )?;
        const RATE: &str = "tokens/s from 0.001 to 1 000 000 000";
        if let Some(p) = self.prefill_tok_s {
            check(Setting::Prefill, p, 1e-3, 1e9, RATE)?;
        }
        if let Some(d) = self.decode_tok_s {
            check(Setting::Decode, d, 1e-3, 1e9, RATE)?;
        }
        if self.rtt_s >= self.ttft_target_s {
            return Err(ScenarioError::RttExceedsTarget {
                rtt_s: self.rtt_s,
                ttft_target_s: self.ttft_target_s,
            });
        }
        Ok(())
    }

    /// Computes what the scenario requires and what it would get.
    pub fn plan(&self, profile: &Profile) -> ScenarioPlan {
        let required_prefill = prefill_for_ttft(self.prompt_tokens, self.ttft_target_s, self.rtt_s);
        let required_decode = decode_for(self.chars_per_s_target, self.chars_per_token);
        let tier_of = |m: Metric, v: f64| {
            profile
                .metrics
                .get(&m)
                .and_then(|r| r.grade(m, v).ok())
                .map(|g| g.tier)
        };
        let required = Required {
            prefill_tok_s: required_prefill,
            decode_tok_s: required_decode,
            prefill_tier: tier_of(Metric::PrefillTokS, required_prefill),
            decode_tier: tier_of(Metric::DecodeTokS, required_decode),
        };
        let prefill = self.prefill_tok_s.unwrap_or(required_prefill);
        let decode = self.decode_tok_s.unwrap_or(required_decode);
        let ttft_s = ttft(self.rtt_s, self.prompt_tokens, prefill);
        let stream_s = time_for(self.output_tokens - 1.0, decode);
        let output_chars_s = chars_per_s(decode, self.chars_per_token);
        let grade = profile
            .grade_values(&[
                (Metric::TtftS, ttft_s),
                (Metric::PrefillTokS, prefill),
                (Metric::DecodeTokS, decode),
                (Metric::OutputCharsS, output_chars_s),
            ])
            // Validated inputs give finite, non-negative values; an empty
            // grade is the honest fallback should that ever not hold.
            .unwrap_or_else(|_| Grade {
                profile: profile.name.clone(),
                metrics: Vec::new(),
                overall: None,
                prefill_not_measurable: None,
                client_limited: false,
            });
        ScenarioPlan {
            scenario: self.clone(),
            required,
            predicted: Predicted {
                prefill_from: RateSource::of(self.prefill_tok_s),
                decode_from: RateSource::of(self.decode_tok_s),
                prefill_tok_s: prefill,
                decode_tok_s: decode,
                ttft_s,
                stream_s,
                total_s: ttft_s + stream_s,
                output_chars_s,
                meets_ttft_target: ttft_s < self.ttft_target_s,
                meets_chars_target: output_chars_s >= self.chars_per_s_target,
                grade,
            },
        }
    }
}

/// The rates a scenario needs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Required {
    /// Prefill rate at which TTFT equals the target; TTFT must stay strictly
    /// below it, so any faster rate meets it.
    pub prefill_tok_s: f64,
    /// Decode rate at which the reader sees exactly the target speed.
    pub decode_tok_s: f64,
    /// The tier that prefill rate is in, under the profile.
    pub prefill_tier: Option<Tier>,
    /// The tier that decode rate is in, under the profile.
    pub decode_tier: Option<Tier>,
}

/// Whether a rate in a prediction was given or is the required one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RateSource {
    /// Given as an input (what the hardware reaches).
    Given,
    /// The required rate, used because none was given.
    Required,
}

impl RateSource {
    fn of(given: Option<f64>) -> RateSource {
        if given.is_some() {
            RateSource::Given
        } else {
            RateSource::Required
        }
    }
}

/// What a user would experience at the given (or required) rates.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Predicted {
    /// Where the prefill rate comes from.
    pub prefill_from: RateSource,
    /// Where the decode rate comes from.
    pub decode_from: RateSource,
    /// Prefill rate used, tokens/s.
    pub prefill_tok_s: f64,
    /// Decode rate used, tokens/s.
    pub decode_tok_s: f64,
    /// RTT + prompt / prefill, seconds.
    pub ttft_s: f64,
    /// (output − 1) / decode: first to last token, seconds.
    pub stream_s: f64,
    /// TTFT + stream time: the whole answer, seconds.
    pub total_s: f64,
    /// decode × characters per token.
    pub output_chars_s: f64,
    /// TTFT strictly below its target.
    pub meets_ttft_target: bool,
    /// Reading speed at or above its target.
    pub meets_chars_target: bool,
    /// The four graded metrics graded.
    pub grade: Grade,
}

/// Everything `plan scenario` reports.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ScenarioPlan {
    /// The inputs, defaults filled in.
    pub scenario: Scenario,
    /// Rates needed to meet the targets.
    pub required: Required,
    /// The experience at the given (or required) rates.
    pub predicted: Predicted,
}

#[cfg(test)]
mod tests;
