//! What can go wrong reading another tool's file: one line that names the
//! file, the field and what to do.

use std::path::PathBuf;
use tokenpace_core::imported::ImportFormat;
use tokenpace_core::setting::Setting;

/// A result file could not be imported.
#[derive(Debug, thiserror::Error)]
pub enum ImportError {
    /// The file could not be read.
    #[error("could not read '{}'", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    /// The file is larger than [`crate::MAX_FILE_BYTES`].
    #[error("'{}' is {} bytes, over the {} import reads: import a smaller run", .0.display(), .1, crate::MAX_FILE_BYTES)]
    TooLarge(PathBuf, u64),
    /// The file is not UTF-8 text.
    #[error("'{}' is not UTF-8 text: give the JSON or JSONL file the tool wrote", .0.display())]
    NotText(PathBuf),
    /// No format recognised the content.
    #[error("'{}' is not a result file import knows: give vllm bench serve's --save-result --save-detailed JSON, GuideLLM's benchmarks JSON, AIPerf's profile_export.jsonl, inference-perf's per_request_lifecycle_metrics.json or inference-benchmarker's results JSON, or name the format with {}", .0.display(), Setting::From)]
    Unknown(PathBuf),
    /// The file is in the format but a field is missing or wrong.
    #[error("'{}' ({}): {problem}", .file.display(), .format.tool())]
    Bad {
        /// The file.
        file: PathBuf,
        /// The format it was read as.
        format: ImportFormat,
        /// What is wrong, naming the field, and the fix.
        problem: String,
    },
}
