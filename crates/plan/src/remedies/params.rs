//! The remedies' assumptions (`plan remedies`' flags), checked.

use crate::error::{non_negative, positive, PlanError};
use serde::{Deserialize, Serialize};
use tokenpace_core::setting::Setting;

/// The assumptions of the remedies.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Params {
    /// Share of prompt tokens whose KV is already cached, in [0, 1).
    pub cache_hit: f64,
    /// Devices a prompt's prefill is split across.
    pub split_devices: u32,
    /// Scaling efficiency of the split: N devices prefill N × this as fast.
    pub split_efficiency: f64,
    /// Probability that the target model accepts a drafted token, [0, 1].
    pub spec_acceptance: f64,
    /// Tokens drafted per verification step.
    pub spec_draft_tokens: u32,
    /// Cost of drafting one token relative to one target decode step.
    pub spec_draft_cost: f64,
}

impl Default for Params {
    fn default() -> Self {
        Params {
            cache_hit: 0.75,
            split_devices: 4,
            split_efficiency: 0.9,
            spec_acceptance: 0.7,
            spec_draft_tokens: 4,
            spec_draft_cost: 0.05,
        }
    }
}

impl Params {
    /// Checks every parameter, naming its flag.
    pub fn validate(&self) -> Result<(), PlanError> {
        let range = |name: Setting, v: f64, ok: bool, expected: &'static str| {
            if v.is_finite() && ok {
                Ok(())
            } else {
                Err(PlanError::InvalidNumber {
                    name: name.to_string(),
                    expected,
                    value: v,
                })
            }
        };
        range(
            Setting::CacheHit,
            self.cache_hit,
            (0.0..1.0).contains(&self.cache_hit),
            "a fraction from 0 up to (not including) 1",
        )?;
        positive(Setting::SplitDevices, f64::from(self.split_devices))?;
        range(
            Setting::SplitEfficiency,
            self.split_efficiency,
            self.split_efficiency > 0.0 && self.split_efficiency <= 1.0,
            "a fraction greater than 0 and at most 1",
        )?;
        range(
            Setting::SpecAcceptance,
            self.spec_acceptance,
            (0.0..=1.0).contains(&self.spec_acceptance),
            "a fraction from 0 to 1",
        )?;
        positive(Setting::SpecDraftTokens, f64::from(self.spec_draft_tokens))?;
        non_negative(Setting::SpecDraftCost, self.spec_draft_cost)?;
        Ok(())
    }
}
