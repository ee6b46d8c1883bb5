//! The quantities tokenpace reports, each with one id, unit and direction.
//!
//! The default profile grades four of them ([`Metric::GRADED_BY_DEFAULT`]); a profile may grade any
//! metric that has a direction. Definitions are in `docs/metrics.md`.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A reported quantity.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    Serialize,
    Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Metric {
    /// Time to first token, end to end, seconds.
    TtftS,
    /// Time to the first visible answer character, seconds (differs from
    /// TTFT for reasoning models).
    TtfvS,
    /// Prompt processing speed, tokens/s.
    PrefillTokS,
    /// Generation speed of one stream, tokens/s.
    DecodeTokS,
    /// Prompt processing speed the server reported itself (llama.cpp
    /// `timings`, Ollama durations), tokens/s.
    ServerPrefillTokS,
    /// Generation speed the server reported itself, tokens/s.
    ServerDecodeTokS,
    /// Visible characters per second as a reader sees them stream.
    OutputCharsS,
    /// Inter-token latency, seconds (one sample per chunk, per token).
    ItlS,
    /// Request latency from send to the last byte, seconds.
    E2eS,
    /// Longest pause between two visible chunks of a stream, seconds.
    LongestStallS,
    /// Pauses longer than the stall threshold in one stream.
    Stalls,
    /// Visible characters per answer token.
    CharsPerToken,
    /// How late the client sent a request versus its schedule, seconds.
    ScheduleLagS,
    /// Prompt tokens per request.
    PromptTokens,
    /// Generated tokens per request.
    OutputTokens,
    /// Share of the requests sent that got an answer (succeeded), percent:
    /// a figure of the run as a whole, not of each request, so it has no
    /// statistics over requests.
    AnsweredPct,
}

/// Which way is better for a metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// Smaller values are better (latencies). Tier boundaries are exclusive:
    /// a value must be strictly below a boundary to reach that tier.
    LowerIsBetter,
    /// Larger values are better (rates). Tier boundaries are inclusive: a
    /// value at a boundary reaches that tier.
    HigherIsBetter,
}

impl Metric {
    /// The four metrics the default profile grades, in the design notes' order.
    pub const GRADED_BY_DEFAULT: [Metric; 4] = [
        Metric::PrefillTokS,
        Metric::DecodeTokS,
        Metric::TtftS,
        Metric::OutputCharsS,
    ];

    /// Every per-request metric, in report order (the run-level ones are
    /// [`Metric::RUN`]).
    pub const ALL: [Metric; 15] = [
        Metric::TtftS,
        Metric::TtfvS,
        Metric::PrefillTokS,
        Metric::ServerPrefillTokS,
        Metric::DecodeTokS,
        Metric::ServerDecodeTokS,
        Metric::OutputCharsS,
        Metric::ItlS,
        Metric::E2eS,
        Metric::LongestStallS,
        Metric::Stalls,
        Metric::CharsPerToken,
        Metric::ScheduleLagS,
        Metric::PromptTokens,
        Metric::OutputTokens,
    ];

    /// Metrics of the run as a whole, graded like the others but with no
    /// statistics over requests (the statistic a profile names is ignored).
    pub const RUN: [Metric; 1] = [Metric::AnsweredPct];

    /// Whether this is a figure of the whole run ([`Metric::RUN`]).
    pub fn is_run_level(self) -> bool {
        Metric::RUN.contains(&self)
    }

    /// The snake_case id used in files, JSON and profiles.
    pub fn id(self) -> &'static str {
        match self {
            Metric::TtftS => "ttft_s",
            Metric::TtfvS => "ttfv_s",
            Metric::PrefillTokS => "prefill_tok_s",
            Metric::DecodeTokS => "decode_tok_s",
            Metric::ServerPrefillTokS => "server_prefill_tok_s",
            Metric::ServerDecodeTokS => "server_decode_tok_s",
            Metric::OutputCharsS => "output_chars_s",
            Metric::ItlS => "itl_s",
            Metric::E2eS => "e2e_s",
            Metric::LongestStallS => "longest_stall_s",
            Metric::Stalls => "stalls",
            Metric::CharsPerToken => "chars_per_token",
            Metric::ScheduleLagS => "schedule_lag_s",
            Metric::PromptTokens => "prompt_tokens",
            Metric::OutputTokens => "output_tokens",
            Metric::AnsweredPct => "answered_pct",
        }
    }

    /// The unit, as printed after a value.
    pub fn unit(self) -> &'static str {
        match self {
            Metric::TtftS
            | Metric::TtfvS
            | Metric::ItlS
            | Metric::E2eS
            | Metric::LongestStallS
            | Metric::ScheduleLagS => "s",
            Metric::PrefillTokS
            | Metric::DecodeTokS
            | Metric::ServerPrefillTokS
            | Metric::ServerDecodeTokS => "tok/s",
            Metric::OutputCharsS => "chars/s",
            Metric::Stalls => "",
            Metric::CharsPerToken => "chars/tok",
            Metric::PromptTokens | Metric::OutputTokens => "tok",
            Metric::AnsweredPct => "%",
        }
    }

    /// Which way is better, or `None` for descriptive quantities (token
    /// counts, characters per token) that have no better direction.
    pub fn direction(self) -> Option<Direction> {
        match self {
            Metric::TtftS
            | Metric::TtfvS
            | Metric::ItlS
            | Metric::E2eS
            | Metric::LongestStallS
            | Metric::Stalls
            | Metric::ScheduleLagS => Some(Direction::LowerIsBetter),
            Metric::PrefillTokS
            | Metric::DecodeTokS
            | Metric::OutputCharsS
            | Metric::ServerPrefillTokS
            | Metric::ServerDecodeTokS
            | Metric::AnsweredPct => Some(Direction::HigherIsBetter),
            Metric::CharsPerToken | Metric::PromptTokens | Metric::OutputTokens => None,
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown metric id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown metric '{given}'; known metrics: {}", known_ids())]
pub struct UnknownMetric {
    /// What was given.
    pub given: String,
}

fn known_ids() -> String {
    Metric::ALL
        .iter()
        .chain(&Metric::RUN)
        .map(|m| m.id())
        .collect::<Vec<_>>()
        .join(", ")
}

impl FromStr for Metric {
    type Err = UnknownMetric;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Metric::ALL
            .into_iter()
            .chain(Metric::RUN)
            .find(|m| m.id() == s)
            .ok_or_else(|| UnknownMetric {
                given: s.to_string(),
            })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_round_trip_and_match_serde() {
        for m in Metric::ALL.into_iter().chain(Metric::RUN) {
            assert_eq!(m.id().parse::<Metric>().unwrap(), m);
            assert_eq!(
                serde_json::to_string(&m).unwrap(),
                format!("\"{}\"", m.id())
            );
        }
    }

    #[test]
    fn unknown_id_lists_the_known_ones() {
        let err = "ttft".parse::<Metric>().unwrap_err().to_string();
        assert!(err.contains("unknown metric 'ttft'"), "{err}");
        assert!(err.contains("ttft_s"), "{err}");
    }

    #[test]
    fn seed_metrics_all_have_a_direction() {
        assert!(Metric::GRADED_BY_DEFAULT
            .iter()
            .all(|m| m.direction().is_some()));
    }
}
