//! Service-level objectives per request, and goodput against them.
//!
//! An [`Slo`] is a set of per-request limits (TTFT, TPOT, output speed, end
//! to end), each optional. A request meets it when it succeeded and is
//! within every limit it has a value for; goodput is the requests that met
//! it per second of the run (as vLLM's and AIPerf's `--goodput`), and
//! attainment their share of the requests sent (DistServe's "SLO
//! attainment": a deployment serves a load when at least, say, 90 % of its
//! requests meet the SLO). Presets: [`preset`].

use crate::record::RequestRecord;
use crate::request_metrics::{MetricOptions, RequestMetrics};
use std::collections::BTreeMap;

pub use preset::{preset, MLPERF_RULES, PRESETS};

mod preset;

/// The share of requests that must meet the SLO at a load, by default
/// (DistServe's 90 % attainment).
pub const DEFAULT_ATTAINMENT_PCT: f64 = 90.0;

/// One limit of an SLO, or the request's failure.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    serde::Serialize,
    serde::Deserialize,
    schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Limit")]
pub enum SloLimit {
    /// The request failed (an error, a timeout): it meets no SLO.
    Failed,
    /// Time to first token above `ttft_ms`.
    Ttft,
    /// Time per output token above `tpot_ms`.
    Tpot,
    /// Output speed below `output_chars_per_s`.
    OutputSpeed,
    /// End-to-end latency above `e2e_ms`.
    E2e,
}

impl SloLimit {
    /// Its name as printed: `TTFT`, `TPOT`, `output speed`, `end to end`,
    /// `failed`.
    pub fn name(self) -> &'static str {
        match self {
            SloLimit::Failed => "failed",
            SloLimit::Ttft => "TTFT",
            SloLimit::Tpot => "TPOT",
            SloLimit::OutputSpeed => "output speed",
            SloLimit::E2e => "end to end",
        }
    }
}

impl std::fmt::Display for SloLimit {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Per-request limits; `None` is no limit.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Slo {
    /// Its name (a preset's id, or the file's `name`).
    #[serde(default)]
    pub name: String,
    /// Most milliseconds from send to the first token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_ms: Option<f64>,
    /// Most milliseconds per output token after the first, MLPerf's TPOT:
    /// (end to end − TTFT) / (output tokens − 1).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tpot_ms: Option<f64>,
    /// Least visible characters per second after the first (the output
    /// speed of docs/metrics.md).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub output_chars_per_s: Option<f64>,
    /// Most milliseconds from send to the end of the response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub e2e_ms: Option<f64>,
}

/// An SLO that could not be read.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{0}")]
pub struct SloError(pub String);

/// MLPerf's TPOT of one request: (end to end − TTFT) / (output tokens −
/// 1), in seconds; `None` for a one-token answer.
pub fn tpot_s(m: &RequestMetrics) -> Option<f64> {
    let (ttft, e2e, n) = (m.ttft_s?, m.e2e_s?, m.output_tokens?);
    (n > 1).then(|| (e2e - ttft).max(0.0) / f64::from(n - 1))
}

impl Slo {
    /// Reads a user's SLO file: `ttft_ms`, `tpot_ms`, `output_chars_per_s`,
    /// `e2e_ms` (at least one, each positive) and an optional `name`
    /// (`default_name` otherwise).
    pub fn from_toml(text: &str, default_name: &str) -> Result<Slo, SloError> {
        let mut slo: Slo = toml::from_str(text).map_err(|e| {
            SloError(format!(
                "{} (the keys are name, ttft_ms, tpot_ms, output_chars_per_s, e2e_ms)",
                crate::profile::syntax(text, &e)
            ))
        })?;
        if slo.name.is_empty() {
            slo.name = default_name.into();
        }
        slo.check()?;
        Ok(slo)
    }

    /// Every limit is a positive number, and there is at least one.
    pub fn check(&self) -> Result<(), SloError> {
        let limits = [
            ("ttft_ms", self.ttft_ms),
            ("tpot_ms", self.tpot_ms),
            ("output_chars_per_s", self.output_chars_per_s),
            ("e2e_ms", self.e2e_ms),
        ];
        for (key, v) in limits {
            if let Some(v) = v.filter(|v| !(v.is_finite() && *v > 0.0)) {
                return Err(SloError(format!(
                    "{key} = {v}: a limit must be a positive number (remove the key for no limit)"
                )));
            }
        }
        if limits.iter().all(|(_, v)| v.is_none()) {
            return Err(SloError(
                "no limit set: give at least one of ttft_ms, tpot_ms, output_chars_per_s, e2e_ms"
                    .into(),
            ));
        }
        Ok(())
    }

    /// Every limit `record` misses, in the order TTFT, TPOT, output speed,
    /// end to end (a failed request: only [`SloLimit::Failed`]). Limits a
    /// request has no value for (TPOT of a one-token answer) are not held
    /// against it.
    pub fn missed(&self, record: &RequestRecord, opts: &MetricOptions) -> Vec<SloLimit> {
        if !record.is_ok() {
            return vec![SloLimit::Failed];
        }
        let m = RequestMetrics::of(record, opts);
        let above = |v: Option<f64>, max_ms: Option<f64>| match (v, max_ms) {
            (Some(v), Some(max)) => v * 1000.0 > max,
            _ => false,
        };
        let below = match (m.output_chars_s, self.output_chars_per_s) {
            (Some(v), Some(min)) => v < min,
            _ => false,
        };
        [
            (SloLimit::Ttft, above(m.ttft_s, self.ttft_ms)),
            (SloLimit::Tpot, above(tpot_s(&m), self.tpot_ms)),
            (SloLimit::OutputSpeed, below),
            (SloLimit::E2e, above(m.e2e_s, self.e2e_ms)),
        ]
        .into_iter()
        .filter_map(|(l, missed)| missed.then_some(l))
        .collect()
    }

    /// Whether `record` meets every limit; the first it misses otherwise.
    pub fn met_by(&self, record: &RequestRecord, opts: &MetricOptions) -> Result<(), SloLimit> {
        self.missed(record, opts)
            .first()
            .map_or(Ok(()), |&l| Err(l))
    }
}

/// How a set of requests fared against an SLO.
#[derive(
    Debug, Clone, PartialEq, Default, serde::Serialize, serde::Deserialize, schemars::JsonSchema,
)]
pub struct Attainment {
    /// The SLO's name.
    pub slo: String,
    /// Requests sent.
    pub requests: u64,
    /// Requests that met every limit.
    pub good: u64,
    /// Good requests per second of the run (goodput).
    pub good_per_s: f64,
    /// Requests that missed each limit (one request can miss several).
    pub missed: BTreeMap<SloLimit, u64>,
}

impl Attainment {
    /// `records` (all sent, failed ones included) over `duration_s`.
    pub fn of(
        records: &[RequestRecord],
        duration_s: f64,
        slo: &Slo,
        opts: &MetricOptions,
    ) -> Attainment {
        let mut a = Attainment {
            slo: slo.name.clone(),
            requests: records.len() as u64,
            ..Attainment::default()
        };
        for r in records {
            let missed = slo.missed(r, opts);
            if missed.is_empty() {
                a.good += 1;
            }
            for l in missed {
                *a.missed.entry(l).or_default() += 1;
            }
        }
        if duration_s > 0.0 {
            a.good_per_s = a.good as f64 / duration_s;
        }
        a
    }

    /// Percent of the requests that met the SLO (0 when none was sent).
    pub fn met_pct(&self) -> f64 {
        match self.requests {
            0 => 0.0,
            n => 100.0 * self.good as f64 / n as f64,
        }
    }

    /// Whether at least `pct` % of the requests met the SLO (and some were
    /// sent).
    pub fn attains(&self, pct: f64) -> bool {
        self.requests > 0 && self.met_pct() >= pct
    }

    /// The limit the most requests missed (the earlier in [`SloLimit`]'s
    /// order on a tie), if any was missed.
    pub fn most_missed(&self) -> Option<SloLimit> {
        let most = self.missed.values().copied().max()?;
        self.missed
            .iter()
            .find(|(_, &n)| n == most)
            .map(|(&l, _)| l)
    }
}

#[cfg(test)]
mod tests;
