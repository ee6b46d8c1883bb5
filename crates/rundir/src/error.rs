//! What can go wrong with a run directory, each as one line that names the
//! file and says what to do.

use std::path::PathBuf;

/// A run directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The path given does not exist.
    #[error("'{}' does not exist: give a directory written by `tokenpace bench --out DIR`", .0.display())]
    NotFound(PathBuf),
    /// Neither the directory nor any sub-directory holds a `run.json`.
    #[error("'{}' holds no run.json (nor level sub-directories with one): give a directory written by `tokenpace bench --out DIR`", .0.display())]
    NoRun(PathBuf),
    /// The `run.json` named (or the one in the directory named) is missing.
    #[error("'{}' does not exist: give the run.json a `--out DIR` run wrote, or its directory", .0.display())]
    NoSummary(PathBuf),
    /// `run.json` could not be read.
    #[error("could not read run summary '{}'", .0.display())]
    ReadSummary(PathBuf, #[source] std::io::Error),
    /// `run.json` is not a run summary.
    #[error("'{}' is not a tokenpace run summary (run.json)", .0.display())]
    BadSummary(PathBuf, #[source] serde_json::Error),
    /// `sweep.json` is not JSON.
    #[error("'{}' is not valid JSON ({}); rerun the sweep or delete the file", .0.display(), .1)]
    BadSweep(PathBuf, serde_json::Error),
    /// The directory could not be listed.
    #[error("could not list '{}'", .0.display())]
    List(PathBuf, #[source] std::io::Error),
    /// A level has a `run.json` but no `requests.jsonl`.
    #[error("'{}' is missing: reports need the per-request records that `tokenpace bench --out DIR` writes beside run.json", .0.display())]
    NoRecords(PathBuf),
    /// `requests.jsonl` could not be read.
    #[error("could not read '{}': {}", .0.display(), .1)]
    ReadRecords(PathBuf, std::io::Error),
    /// A line of `requests.jsonl` is not a request record.
    #[error("'{}' line {line}: not a request record ({error}); delete or repair that line (only a partial last line, left by a run killed mid-write, is skipped)", .path.display())]
    BadRecord {
        /// The file.
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// What the JSON parser said.
        error: serde_json::Error,
    },
    /// The directory could not be created.
    #[error("could not create '{}'", .0.display())]
    Create(PathBuf, #[source] std::io::Error),
    /// A file could not be written.
    #[error("could not write '{}'", .0.display())]
    Write(PathBuf, #[source] std::io::Error),
    /// The root to look for runs in is not a directory.
    #[error("'{}' is not a directory: give --dir the directory your `bench --out` runs are in", .0.display())]
    NotADirectory(PathBuf),
    /// A run name is neither a path nor a name under the root.
    #[error("'{name}' is neither a run directory nor a run name under '{}': see `tokenpace history --dir {}` for the names", .root.display(), .root.display())]
    UnknownName {
        /// The name given.
        name: String,
        /// Where it was looked up.
        root: PathBuf,
    },
    /// A value could not be serialised (a bug: every summary serialises).
    #[error("could not write '{}' as JSON", .0.display())]
    Json(PathBuf, #[source] serde_json::Error),
}
