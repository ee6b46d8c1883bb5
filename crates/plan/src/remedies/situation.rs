//! Where a plan stands: the rates reached now, the targets to reach, and
//! what the targets ask of the rates.

use crate::error::{non_negative, positive, PlanError};
use crate::quant::Quant;
use serde::{Deserialize, Serialize};
use tokenpace_core::scenario::{chars_per_s, decode_for, prefill_for_ttft, ttft, Scenario};
use tokenpace_core::setting::Setting;

/// The rates reached now and the targets to reach.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Situation {
    /// Prompt tokens per request.
    pub prompt_tokens: f64,
    /// Network round trip included in TTFT, seconds.
    pub rtt_s: f64,
    /// TTFT to stay strictly below, seconds.
    pub ttft_target_s: f64,
    /// Reading speed to reach, characters/s.
    pub chars_per_s_target: f64,
    /// Visible characters per output token.
    pub chars_per_token: f64,
    /// Prefill rate reached now, tokens/s.
    pub prefill_tok_s: f64,
    /// Decode rate of one stream reached now, tokens/s.
    pub decode_tok_s: f64,
    /// How the weights are stored now (quantisation rows only offer
    /// narrower ones).
    pub quant: Quant,
}

impl Situation {
    /// A scenario's situation at the rates `prefill` and `decode`, with the
    /// weights stored as `quant`.
    pub fn of(sc: &Scenario, prefill: f64, decode: f64, quant: Quant) -> Situation {
        Situation {
            prompt_tokens: sc.prompt_tokens,
            rtt_s: sc.rtt_s,
            ttft_target_s: sc.ttft_target_s,
            chars_per_s_target: sc.chars_per_s_target,
            chars_per_token: sc.chars_per_token,
            prefill_tok_s: prefill,
            decode_tok_s: decode,
            quant,
        }
    }

    /// The prefill rate TTFT needs: any rate above it meets the target.
    pub fn required_prefill(&self) -> f64 {
        prefill_for_ttft(self.prompt_tokens, self.ttft_target_s, self.rtt_s)
    }

    /// The decode rate the reading speed needs.
    pub fn required_decode(&self) -> f64 {
        decode_for(self.chars_per_s_target, self.chars_per_token)
    }

    /// TTFT at a prefill rate.
    pub fn ttft_at(&self, prefill_tok_s: f64) -> f64 {
        ttft(self.rtt_s, self.prompt_tokens, prefill_tok_s)
    }

    /// TTFT reached now.
    pub fn ttft_s(&self) -> f64 {
        self.ttft_at(self.prefill_tok_s)
    }

    /// Reading speed reached now, characters/s.
    pub fn output_chars_s(&self) -> f64 {
        chars_per_s(self.decode_tok_s, self.chars_per_token)
    }

    /// Checks every rate and target, naming its flag.
    pub(super) fn validate(&self) -> Result<(), PlanError> {
        positive(Setting::PromptTokens, self.prompt_tokens)?;
        non_negative(Setting::Rtt, self.rtt_s)?;
        positive(Setting::TtftTarget, self.ttft_target_s)?;
        positive(Setting::CharsPerS, self.chars_per_s_target)?;
        positive(Setting::CharsPerToken, self.chars_per_token)?;
        positive(Setting::Prefill, self.prefill_tok_s)?;
        positive(Setting::Decode, self.decode_tok_s)?;
        Ok(())
    }
}
