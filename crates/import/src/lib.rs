//! Other tools' result files read into tokenpace runs: `vllm bench serve
//! --save-result --save-detailed`, GuideLLM's benchmarks JSON, AIPerf's
//! `profile_export.jsonl` and inference-perf's
//! `per_request_lifecycle_metrics.json` (inference-benchmarker's results,
//! aggregates only, are recognised and refused with their figures shown). Each format becomes the same
//! [`RequestRecord`]s a `bench` run stores, so `report`, `compare` and
//! grading treat it alike; what a format does not record is named in the
//! run's [`Imported::missing`] and left out of the records.
#![deny(missing_docs)]

mod aiperf;
mod error;
mod guidellm;
mod inference_benchmarker;
mod inference_perf;
mod json;
#[cfg(test)]
mod peer_tests;
#[cfg(test)]
mod tests;
mod timed;
mod vllm;

pub use error::ImportError;

use std::path::Path;
use tokenpace_core::imported::{ImportFormat, Imported};
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::{Environment, RunSettings, RunSummary};

/// The largest file read: a detailed result of 100 000 requests fits.
pub const MAX_FILE_BYTES: u64 = 512 * 1024 * 1024;

/// A run read from another tool's file.
#[derive(Debug, Clone)]
pub struct ImportedRun {
    /// Its summary, computed from the records as a `bench` run's is.
    pub summary: RunSummary,
    /// One record per request, in the order they were sent.
    pub records: Vec<RequestRecord>,
}

/// What a format reader hands back: the requests and the run's settings.
pub(crate) struct Parsed {
    pub requests: Vec<timed::Timed>,
    pub settings: RunSettings,
    pub tool_version: Option<String>,
    pub missing: Vec<tokenpace_core::imported::Missing>,
}

/// How to read a file.
#[derive(Debug, Clone, Copy, Default)]
pub struct ImportOptions {
    /// The format; `None` tells it from the content.
    pub format: Option<ImportFormat>,
    /// Which benchmark of a file that holds several (GuideLLM's sweeps),
    /// from 0.
    pub benchmark: Option<usize>,
}

/// Reads `path` as `options` say.
pub fn import(
    path: &Path,
    options: ImportOptions,
    environment: Environment,
) -> Result<ImportedRun, ImportError> {
    let text = read(path)?;
    let format = match options.format {
        Some(f) => f,
        None => detect(&text).ok_or_else(|| ImportError::Unknown(path.to_path_buf()))?,
    };
    let bad = |problem: String| ImportError::Bad {
        file: path.to_path_buf(),
        format,
        problem,
    };
    let parsed = match format {
        ImportFormat::Vllm => vllm::parse(&text),
        ImportFormat::Guidellm => guidellm::parse(&text, options.benchmark),
        ImportFormat::Aiperf => {
            let beside = path.with_file_name(aiperf::AGGREGATE);
            let aggregate = (beside != path && beside.is_file())
                .then(|| read(&beside))
                .transpose()?;
            aiperf::parse(&text, aggregate.as_deref())
        }
        ImportFormat::InferencePerf => inference_perf::parse(&text),
        ImportFormat::InferenceBenchmarker => inference_benchmarker::parse(&text),
    }
    .map_err(bad)?;
    if parsed.requests.is_empty() {
        return Err(bad(
            "it holds no requests: import a run that sent some".into()
        ));
    }
    let (records, mut missing) = timed::records(parsed.requests);
    missing.extend(parsed.missing);
    missing.sort_by_key(|m| *m as u8);
    missing.dedup();
    let file = path.file_name().map_or_else(
        || path.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let settings = RunSettings {
        imported: Some(Imported {
            format,
            tool_version: parsed.tool_version,
            file,
            missing,
        }),
        ..parsed.settings
    };
    let summary = RunSummary::from_records(&records, settings, environment);
    Ok(ImportedRun { summary, records })
}

/// The file's text, refused when too large or not UTF-8.
fn read(path: &Path) -> Result<String, ImportError> {
    let io = |e| ImportError::Read(path.to_path_buf(), e);
    let size = std::fs::metadata(path).map_err(io)?.len();
    if size > MAX_FILE_BYTES {
        return Err(ImportError::TooLarge(path.to_path_buf(), size));
    }
    let bytes = std::fs::read(path).map_err(io)?;
    String::from_utf8(bytes).map_err(|_| ImportError::NotText(path.to_path_buf()))
}

/// The format `text` is in, from its content.
pub fn detect(text: &str) -> Option<ImportFormat> {
    ImportFormat::ALL.into_iter().find(|f| match f {
        ImportFormat::Vllm => vllm::looks_like(text),
        ImportFormat::Guidellm => guidellm::looks_like(text),
        ImportFormat::Aiperf => aiperf::looks_like(text),
        ImportFormat::InferencePerf => inference_perf::looks_like(text),
        ImportFormat::InferenceBenchmarker => inference_benchmarker::looks_like(text),
    })
}
