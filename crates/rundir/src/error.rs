//! What can go wrong with a run directory, each as one line that names the
//! file and says what to do.

use std::path::PathBuf;
use tokenpace_core::setting::Setting;

/// A run directory could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    /// The path given does not exist.
    #[error("'{}' does not exist: give a directory written by `tokenpace bench {} DIR`", .0.display(), Setting::Out)]
    NotFound(PathBuf),
    /// Neither the directory nor any sub-directory holds a `run.json`.
    #[error("'{}' holds no run.json (nor level sub-directories with one): give a directory written by `tokenpace bench {} DIR`", .0.display(), Setting::Out)]
    NoRun(PathBuf),
    /// The `run.json` named (or the one in the directory named) is missing.
    #[error("'{}' does not exist: give the run.json a `{} DIR` run wrote, or its directory", .0.display(), Setting::Out)]
    NoSummary(PathBuf),
    /// `run.json` could not be read.
    #[error("could not read run summary '{}'", .0.display())]
    ReadSummary(PathBuf, #[source] std::io::Error),
    /// `run.json` is not a run summary.
    #[error("'{}' is not a tokenpace run summary (run.json)", .0.display())]
    BadSummary(PathBuf, #[source] serde_json::Error),
    /// `sweep.json` is not a sweep.
    #[error("'{}' is not a tokenpace sweep ({}); rerun the sweep or delete the file", .0.display(), .1)]
    BadSweep(PathBuf, serde_json::Error),
    /// `capacity.json` is not a capacity search's result.
    #[error("'{}' is not a tokenpace capacity search ({}); rerun the search or delete the file", .0.display(), .1)]
    BadCapacity(PathBuf, serde_json::Error),
    /// A stored file could not be read.
    #[error("could not read '{}'", .0.display())]
    Read(PathBuf, #[source] std::io::Error),
    /// The directory could not be listed.
    #[error("could not list '{}'", .0.display())]
    List(PathBuf, #[source] std::io::Error),
    /// A level has a `run.json` but no `requests.jsonl`.
    #[error("'{}' is missing: reports need the per-request records that `tokenpace bench {} DIR` writes beside run.json", .0.display(), Setting::Out)]
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
    #[error("'{}' is not a directory: give {} the directory your `bench {}` runs are in", .0.display(), Setting::Dir, Setting::Out)]
    NotADirectory(PathBuf),
    /// A run name is neither a path nor a name under the root.
    #[error("'{name}' is neither a run directory nor a run name under '{}': see `{} {} {}` for the names", .root.display(), Setting::History, Setting::Dir, .root.display())]
    UnknownName {
        /// The name given.
        name: String,
        /// Where it was looked up.
        root: PathBuf,
    },
    /// A level label (from `sweep.json`) is not one directory name inside
    /// the run.
    #[error("'{}': level label {label:?} is not a level directory of this run ({why}, so it would lead outside it); fix that label or delete the file", .file.display())]
    UnsafeLabel {
        /// The file the label came from.
        file: PathBuf,
        /// The label.
        label: String,
        /// What is wrong with it.
        why: &'static str,
    },
    /// A file to write is outside the run directory it belongs to.
    #[error("refusing to write '{}': it is outside the run directory '{}'", .path.display(), .root.display())]
    Outside {
        /// The file.
        path: PathBuf,
        /// The run directory.
        root: PathBuf,
    },
    /// Another run is writing into the directory.
    #[error("'{}' is in use by another run ({holder}, which holds '{}'): wait for it to end or give this run another {}; if that run is gone, delete '{}'", .dir.display(), .lock.display(), Setting::Out, .lock.display())]
    Locked {
        /// The run directory.
        dir: PathBuf,
        /// Its lock file.
        lock: PathBuf,
        /// Who holds it ("process 4242 on host-a").
        holder: String,
    },
    /// A record is impossible: it cannot have been measured.
    #[error("'{}' line {line}: {problem}; the file is damaged or was edited: repair or delete that line, or rerun", .path.display())]
    Impossible {
        /// The file.
        path: PathBuf,
        /// The line, counted from 1.
        line: usize,
        /// What is impossible about the record.
        problem: String,
    },
    /// Two records share an id.
    #[error("'{}' line {line}: request id {id} is also on line {first}; the file holds two runs or was edited: delete the duplicate, or rerun", .path.display())]
    DuplicateId {
        /// The file.
        path: PathBuf,
        /// The line of the second record, counted from 1.
        line: usize,
        /// The id.
        id: u64,
        /// The line of the first.
        first: usize,
    },
    /// `requests.jsonl` does not hold the requests `run.json` counts.
    #[error("'{}' holds {held} records but '{}' counts {counted} sent: the two files are not of one run (or one was cut short); rerun, or delete run.json to summarise the records alone", .records.display(), .summary.display())]
    Mismatch {
        /// `requests.jsonl`.
        records: PathBuf,
        /// `run.json`.
        summary: PathBuf,
        /// The records it holds.
        held: usize,
        /// The requests `run.json` counts.
        counted: u64,
    },
    /// A stored file is of a format newer than this tokenpace reads.
    #[error("'{}' is format version {version}, newer than this tokenpace reads (up to version {newest}): it was written by a newer tokenpace; upgrade tokenpace to read it", .path.display())]
    NewerFormat {
        /// The file.
        path: PathBuf,
        /// The version it says it is.
        version: u64,
        /// The newest this tokenpace reads.
        newest: u32,
    },
    /// A value could not be serialised (a bug: every summary serialises).
    #[error("could not write '{}' as JSON", .0.display())]
    Json(PathBuf, #[source] serde_json::Error),
}
