//! `sweep.json`: the levels of a sweep in the order they ran (their labels
//! name the level sub-directories), each with its summary and grade, and
//! the prefill line when prompt lengths were swept. The runner writes it
//! and readers read it with the same type, [`Sweep`], which is also what
//! `bench --format json` prints for a sweep (the file leaves the notes and
//! the self-check empty).

use crate::stored::{check_version, read_versioned, Versioned};
use crate::{write_json, RunDir, RunDirError};
use serde::{Deserialize, Serialize};
use tokenpace_core::grade::Grade;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::repeats::TierSpan;
use tokenpace_core::self_check::TimingError;
use tokenpace_core::server_metrics::Decomposition;
use tokenpace_core::summary::RunSummary;

/// A sweep: one row per level.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Sweep {
    /// The levels, in the order they ran.
    pub levels: Vec<SweepLevel>,
    /// The prefill line, when prompt lengths were swept.
    pub prefill_fit: Option<Fit>,
    /// The client's own timing error on this machine (`--self-check`).
    pub self_check: Option<TimingError>,
    /// What a reader must know to trust the numbers.
    pub notes: Vec<String>,
}

/// One measured load level.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SweepLevel {
    /// The level's name (`c8`, `r2.5`, `p512`), also its sub-directory.
    pub label: String,
    /// What was measured.
    pub summary: RunSummary,
    /// The grade on the profile.
    pub grade: Grade,
    /// The server's histograms against the client's TTFT
    /// (`--server-metrics`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_metrics: Option<Decomposition>,
    /// With `--repeat`: the tiers each graded metric's 95 % interval spans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier_spans: Vec<TierSpan>,
}

/// The prefill line of a prompt-length sweep, or why there is none.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum Fit {
    /// TTFT against prompt tokens.
    Fit(PrefillFit),
    /// Why no line could be fitted.
    Error {
        /// The reason, in words.
        error: String,
    },
}

impl From<&Result<PrefillFit, FitError>> for Fit {
    fn from(r: &Result<PrefillFit, FitError>) -> Fit {
        match r {
            Ok(f) => Fit::Fit(*f),
            Err(e) => Fit::Error {
                error: e.to_string(),
            },
        }
    }
}

/// The part of `sweep.json` that orders the levels: their labels. A
/// reader of levels needs no more (each level's own `run.json` holds its
/// summary), so a `sweep.json` whose other fields are damaged or were
/// written by hand still orders them.
#[derive(Deserialize)]
struct Order {
    #[serde(default)]
    levels: Vec<Labelled>,
}

/// A level of [`Order`].
#[derive(Deserialize)]
struct Labelled {
    label: String,
}

impl RunDir {
    /// Writes `DIR/sweep.json`, with its format version.
    pub fn write_sweep(&self, sweep: &Sweep) -> Result<(), RunDirError> {
        let path = self.inside_run(self.sweep_path())?;
        write_json(&path, &Versioned::new(sweep))
    }

    /// `DIR/sweep.json`; an error when it is missing, of a newer format,
    /// or not a sweep.
    pub fn read_sweep(&self) -> Result<Sweep, RunDirError> {
        let path = self.sweep_path();
        let text =
            std::fs::read_to_string(&path).map_err(|e| RunDirError::Read(path.clone(), e))?;
        read_versioned(&path, &text, |e| RunDirError::BadSweep(path.clone(), e))
    }

    /// The labels `DIR/sweep.json` lists, in its order; `None` without
    /// one.
    pub(crate) fn sweep_order(&self) -> Result<Option<Vec<String>>, RunDirError> {
        let path = self.sweep_path();
        let Ok(text) = std::fs::read_to_string(&path) else {
            return Ok(None);
        };
        check_version(&path, &text)?;
        let order: Order =
            serde_json::from_str(&text).map_err(|e| RunDirError::BadSweep(path.clone(), e))?;
        Ok(Some(order.levels.into_iter().map(|l| l.label).collect()))
    }
}
