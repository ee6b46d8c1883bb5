//! `sweep.json`: the levels of a sweep in the order they ran (their labels
//! name the level sub-directories), each with its summary and grade, and
//! the prefill line when prompt lengths were swept. The same fields, in
//! the same order, as `bench --format json` prints for a sweep (the
//! binary's `SweepOutput`), with no notes and no self-check.

use crate::level::LevelResult;
use crate::self_check::TimingError;
use serde::Serialize;
use tokenpace_core::grade::Grade;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::repeats::TierSpan;
use tokenpace_core::server_metrics::Decomposition;
use tokenpace_core::summary::RunSummary;
use tokenpace_rundir::RunDir;

/// The file's contents.
#[derive(Serialize)]
struct SweepFile<'a> {
    levels: Vec<LevelFile<'a>>,
    prefill_fit: Option<FitFile>,
    self_check: Option<TimingError>,
    notes: Vec<String>,
}

/// One level.
#[derive(Serialize)]
struct LevelFile<'a> {
    label: &'a str,
    summary: &'a RunSummary,
    grade: &'a Grade,
    #[serde(skip_serializing_if = "Option::is_none")]
    server_metrics: Option<&'a Decomposition>,
    #[serde(skip_serializing_if = "<[TierSpan]>::is_empty")]
    tier_spans: &'a [TierSpan],
}

/// The prefill line, or why there is none.
#[derive(Serialize)]
#[serde(untagged)]
enum FitFile {
    Fit(PrefillFit),
    Error { error: String },
}

/// Writes `sweep.json` of `results` into `dir`.
pub(crate) fn write(
    dir: &RunDir,
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
) -> anyhow::Result<()> {
    let file = SweepFile {
        levels: results
            .iter()
            .map(|r| LevelFile {
                label: &r.label,
                summary: &r.summary,
                grade: &r.grade,
                server_metrics: r.server.as_ref(),
                tier_spans: &r.tier_spans,
            })
            .collect(),
        prefill_fit: fit.map(|f| match f {
            Ok(f) => FitFile::Fit(*f),
            Err(e) => FitFile::Error {
                error: e.to_string(),
            },
        }),
        self_check: None,
        notes: Vec::new(),
    };
    dir.write_sweep(&file)?;
    Ok(())
}
