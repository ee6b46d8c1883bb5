//! `sweep.json` of a measured sweep: its levels in the order they ran,
//! each with its summary and grade, and the prefill line when prompt
//! lengths were swept, as [`tokenpace_rundir::Sweep`] (the type readers
//! read it with, and the binary prints), with no notes and no self-check.

use crate::level::LevelResult;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_rundir::{Fit, RunDir, Sweep, SweepLevel};

/// Writes `sweep.json` of `results` into `dir`.
pub(crate) fn write(
    dir: &RunDir,
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
) -> anyhow::Result<()> {
    let sweep = Sweep {
        levels: results.iter().map(SweepLevel::from).collect(),
        prefill_fit: fit.map(Fit::from),
        self_check: None,
        notes: Vec::new(),
    };
    dir.write_sweep(&sweep)?;
    Ok(())
}

/// A level as a sweep stores and prints it.
impl From<&LevelResult> for SweepLevel {
    fn from(r: &LevelResult) -> SweepLevel {
        SweepLevel {
            label: r.label.clone(),
            summary: r.summary.clone(),
            grade: r.grade.clone(),
            server_metrics: r.server.clone(),
            tier_spans: r.tier_spans.clone(),
        }
    }
}
