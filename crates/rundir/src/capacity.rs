//! `capacity.json`: a capacity search's result, each level's tier and
//! summary and the tier-A and tier-B boundaries. `tokenpace capacity`
//! writes it and prints the same fields (`--format json`); readers read it
//! with the same type, [`Capacity`].

use crate::stored::{read_versioned, Versioned};
use crate::{write_json, RunDir, RunDirError};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use tokenpace_core::grade::{Grade, Tier};
use tokenpace_core::slo::{Attainment, Slo, SloLimit};
use tokenpace_core::summary::RunSummary;

/// One measured level.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapacityLevel {
    /// Concurrent streams (absent in a trace search).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// A trace search: how many times faster than the trace it was replayed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_speed: Option<f64>,
    /// The tier it held (C when more than 1 % of requests failed).
    pub tier: Tier,
    /// Requests/s that met every tier-A target on their own.
    pub goodput_a_per_s: f64,
    /// Requests/s that met every tier-B target on their own.
    pub goodput_b_per_s: f64,
    /// What was measured.
    pub summary: RunSummary,
    /// The grade on the profile.
    pub grade: Grade,
    /// A search by an SLO: how the level's requests fared against it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<Attainment>,
}

/// A search by an SLO (`capacity --slo`): the highest load at which at
/// least `attainment_pct` % of requests met it, and the limit that binds.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CapacitySlo {
    /// The SLO's limits.
    pub slo: Slo,
    /// The share of requests that had to meet it, percent.
    pub attainment_pct: f64,
    /// The largest level that attained it (0: none did): a concurrency, or
    /// a trace search's replay speed.
    pub max_load: f64,
    /// The smallest level that did not, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_failing_load: Option<f64>,
    /// The limit the most requests missed at `first_failing_load`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub binding_limit: Option<SloLimit>,
}

/// The search's result. A concurrency search fills the `*_concurrency`
/// fields, a trace search the `*_trace_speed` ones.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Capacity {
    /// The largest concurrency that held tier A (0: none did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_a_max_concurrency: Option<u32>,
    /// The smallest concurrency that fell below tier A, if any was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_a_first_failing: Option<u32>,
    /// The largest concurrency that held tier B (0: none did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_b_max_concurrency: Option<u32>,
    /// The smallest concurrency that fell below tier B, if any was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_b_first_failing: Option<u32>,
    /// The fastest replay of the trace that held tier A (0: none did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_a_max_trace_speed: Option<f64>,
    /// The slowest replay that fell below tier A, if any was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_a_first_failing_trace_speed: Option<f64>,
    /// The fastest replay of the trace that held tier B (0: none did).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_b_max_trace_speed: Option<f64>,
    /// The slowest replay that fell below tier B, if any was tried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tier_b_first_failing_trace_speed: Option<f64>,
    /// A search by an SLO: its boundary (the tier fields are then those of
    /// the levels the search measured).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<CapacitySlo>,
    /// Why the search ended early, if it did.
    pub stopped: Option<String>,
    /// Measured levels, by load.
    pub levels: Vec<CapacityLevel>,
    /// Levels where every request failed (tier C), with the reason, by
    /// level name (`c8`, or `t2.5` for a trace at 2.5×).
    pub failed_levels: BTreeMap<String, String>,
}

impl RunDir {
    /// Writes `DIR/capacity.json`, with its format version.
    pub fn write_capacity(&self, capacity: &Capacity) -> Result<(), RunDirError> {
        let path = self.inside_run(self.capacity_path())?;
        write_json(&path, &Versioned::new(capacity))
    }

    /// `DIR/capacity.json`; an error when it is missing, of a newer
    /// format, or not a capacity search's result.
    pub fn read_capacity(&self) -> Result<Capacity, RunDirError> {
        let path = self.capacity_path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| RunDirError::Read(path.clone(), e))?;
        read_versioned(&path, &text, |e| RunDirError::BadCapacity(path.clone(), e))
    }
}
