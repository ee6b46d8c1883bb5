//! What a remedy's parameter must be for its target to be met: the hit
//! ratio of a prefix cache, the devices of a split prefill, the acceptance
//! rate of speculative decoding.

use super::gains::{speculative_speedup, split_factor};
use super::situation::Situation;
use serde::{Deserialize, Serialize};

/// What a remedy's parameter must be for its target to be met.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case", tag = "kind", content = "value")]
pub enum Needed {
    /// The target is already met without the remedy.
    AlreadyMet,
    /// The prefix-cache hit ratio must exceed this.
    HitRatioAbove(f64),
    /// At least this many devices.
    DevicesAtLeast(u32),
    /// The acceptance rate must be at least this.
    AcceptanceAtLeast(f64),
    /// No value of the parameter reaches the target.
    Unreachable,
}

/// The hit ratio the prefix cache needs: TTFT = rtt + P(1 − h)/prefill must
/// stay below the target, i.e. prefill / (1 − h) above the required rate,
/// so h > 1 − prefill / required.
pub fn hit_ratio_needed(s: &Situation) -> Needed {
    if s.ttft_target_s - s.rtt_s <= 0.0 {
        return Needed::Unreachable;
    }
    let h = 1.0 - s.prefill_tok_s / s.required_prefill();
    if h < 0.0 {
        Needed::AlreadyMet
    } else {
        Needed::HitRatioAbove(h)
    }
}

/// The fewest devices whose split prefill brings TTFT strictly below the
/// target.
pub fn devices_needed(s: &Situation, efficiency: f64) -> Needed {
    let budget = s.ttft_target_s - s.rtt_s;
    if budget <= 0.0 {
        return Needed::Unreachable;
    }
    let required = s.required_prefill();
    if s.prefill_tok_s > required {
        return Needed::AlreadyMet;
    }
    (2..=1024)
        .find(|&n| s.prefill_tok_s * split_factor(n, efficiency) > required)
        .map_or(Needed::Unreachable, Needed::DevicesAtLeast)
}

/// The lowest acceptance rate with which speculative decoding reaches the
/// reading-speed target (bisection to 10⁻⁴).
pub fn acceptance_needed(s: &Situation, k: u32, c: f64) -> Needed {
    let need = s.required_decode() / s.decode_tok_s;
    if need <= 1.0 {
        return Needed::AlreadyMet;
    }
    if speculative_speedup(1.0, k, c) < need {
        return Needed::Unreachable;
    }
    let (mut lo, mut hi) = (0.0, 1.0);
    while hi - lo > 1e-4 {
        let mid = (lo + hi) / 2.0;
        if speculative_speedup(mid, k, c) >= need {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    Needed::AcceptanceAtLeast(hi)
}
