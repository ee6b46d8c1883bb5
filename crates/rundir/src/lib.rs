//! The directory `tokenpace bench --out DIR` writes, owned in one place:
//! the name of every file in it, creating it, writing the summaries, and
//! reading a run back.
//!
//! A run of one load level is
//!
//! ```text
//! DIR/run.json         the summary (RunSummary)
//! DIR/requests.jsonl   every request, one JSON record a line
//! DIR/warmup.jsonl     the warm-up requests (with --warmup)
//! DIR/report.html      the page `tokenpace report DIR` writes by default
//! ```
//!
//! A sweep holds one such directory per level (`DIR/c1`, `DIR/c4`, …) and
//! `DIR/sweep.json`, whose `levels[].label` gives their order; a capacity
//! search adds `DIR/capacity.json`. Every read error is one line that names
//! the file and says what to do; `run.json`, `sweep.json` and
//! `capacity.json` carry their format version ([`stored`]), and a file
//! from a newer format is refused.
#![deny(missing_docs)]

mod capacity;
mod check;
mod error;
mod find;
mod lock;
mod path;
mod read;
pub mod stored;
mod sweep;

pub use capacity::{Capacity, CapacityLevel, CapacitySlo};
pub use error::RunDirError;
pub use find::{resolve, scan, Found, MAX_DEPTH};
pub use lock::{describe, Holder, Lock};
pub use path::{inside, level_dir_name, unsafe_label};
pub use read::{read_summary, LevelDir, StoredLevel};
pub use stored::{Versioned, VERSION};
pub use sweep::{Fit, Sweep, SweepLevel};

use serde::Serialize;
use std::path::{Path, PathBuf};
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::RunSummary;

/// The summary of one level.
pub const SUMMARY: &str = "run.json";
/// Every measured request of one level, one JSON record a line.
pub const REQUESTS: &str = "requests.jsonl";
/// The warm-up requests of one level.
pub const WARMUP: &str = "warmup.jsonl";
/// The levels of a sweep, in the order they ran.
pub const SWEEP: &str = "sweep.json";
/// The result of a capacity search.
pub const CAPACITY: &str = "capacity.json";
/// The default name of a run's HTML report.
pub const REPORT: &str = "report.html";
/// The lock a run holds on its directory while it writes (the pid of the
/// process that writes, and its host).
pub const LOCK: &str = ".tokenpace.lock";

/// A run directory: a plain run (one level) or a sweep (one sub-directory
/// per level). Making one does no I/O; [`RunDir::create`] makes the
/// directory, [`RunDir::open`] checks that one exists. A level's directory
/// remembers the run's, and nothing is written outside that.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunDir {
    path: PathBuf,
    /// The run directory this one is in (itself for a run).
    root: PathBuf,
}

impl RunDir {
    /// The run directory at `path` (nothing is read or created).
    pub fn new(path: impl Into<PathBuf>) -> RunDir {
        let path = path.into();
        RunDir {
            root: path.clone(),
            path,
        }
    }

    /// The run a user named: a run or sweep directory, or the `run.json`
    /// inside one. Errors when `path` does not exist.
    pub fn open(path: &Path) -> Result<RunDir, RunDirError> {
        if !path.exists() {
            return Err(RunDirError::NotFound(path.to_path_buf()));
        }
        Ok(if path.is_file() {
            RunDir::new(path.parent().unwrap_or(Path::new(".")))
        } else {
            RunDir::new(path)
        })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The directory's last path component (or the path as given): the
    /// run's name in titles.
    pub fn name(&self) -> String {
        self.path.file_name().map_or_else(
            || self.path.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    }

    /// The directory of one level of a sweep (`DIR/c4`): always one
    /// directory inside this one, whatever the label holds
    /// ([`level_dir_name`]).
    pub fn level(&self, label: &str) -> RunDir {
        RunDir {
            path: self.path.join(level_dir_name(label).as_ref()),
            root: self.root.clone(),
        }
    }

    /// `DIR/run.json`.
    pub fn summary_path(&self) -> PathBuf {
        self.path.join(SUMMARY)
    }

    /// `DIR/requests.jsonl`.
    pub fn requests_path(&self) -> PathBuf {
        self.path.join(REQUESTS)
    }

    /// `DIR/warmup.jsonl`.
    pub fn warmup_path(&self) -> PathBuf {
        self.path.join(WARMUP)
    }

    /// `DIR/sweep.json`.
    pub fn sweep_path(&self) -> PathBuf {
        self.path.join(SWEEP)
    }

    /// `DIR/capacity.json`.
    pub fn capacity_path(&self) -> PathBuf {
        self.path.join(CAPACITY)
    }

    /// `DIR/report.html`.
    pub fn report_path(&self) -> PathBuf {
        self.path.join(REPORT)
    }

    /// Whether this directory holds one level: a `run.json`, or the
    /// `requests.jsonl` of a run killed before it wrote one.
    pub fn is_level(&self) -> bool {
        self.summary_path().is_file() || self.requests_path().is_file()
    }

    /// Creates the directory (and its parents).
    pub fn create(&self) -> Result<(), RunDirError> {
        let path = self.inside_run(self.path.clone())?;
        std::fs::create_dir_all(&path).map_err(|e| RunDirError::Create(path, e))
    }

    /// `path`, if it is inside the run directory: where a writer may
    /// write.
    fn inside_run(&self, path: PathBuf) -> Result<PathBuf, RunDirError> {
        if inside(&path, &self.root) {
            Ok(path)
        } else {
            Err(RunDirError::Outside {
                path,
                root: self.root.clone(),
            })
        }
    }

    /// Writes `DIR/run.json`, with its format version.
    pub fn write_summary(&self, summary: &RunSummary) -> Result<(), RunDirError> {
        let path = self.inside_run(self.summary_path())?;
        write_json(&path, &Versioned::new(summary))
    }

    /// Writes `DIR/requests.jsonl` at once (a run being measured writes it
    /// request by request to [`RunDir::requests_path`] instead).
    pub fn write_records(&self, records: &[RequestRecord]) -> Result<(), RunDirError> {
        let path = self.inside_run(self.requests_path())?;
        let mut text = String::new();
        for r in records {
            text.push_str(
                &serde_json::to_string(r).map_err(|e| RunDirError::Json(path.clone(), e))?,
            );
            text.push('\n');
        }
        std::fs::write(&path, text).map_err(|e| RunDirError::Write(path, e))
    }
}

/// Writes `value` as pretty JSON and a final newline.
fn write_json<T: Serialize + ?Sized>(path: &Path, value: &T) -> Result<(), RunDirError> {
    let text = serde_json::to_string_pretty(value)
        .map_err(|e| RunDirError::Json(path.to_path_buf(), e))?;
    std::fs::write(path, text + "\n").map_err(|e| RunDirError::Write(path.to_path_buf(), e))
}

#[cfg(test)]
mod tests;
