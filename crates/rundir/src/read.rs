//! Reading a run directory back: its levels (in the order they ran), each
//! level's summary and records.

use crate::{Error, RunDir, SUMMARY};
use std::path::Path;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::RunSummary;

/// One load level as read from disk: its `run.json` and `requests.jsonl`.
#[derive(Debug, Clone)]
pub struct Level {
    /// The level's label (`c4`, `p512`) in a sweep, else the run
    /// directory's name.
    pub name: String,
    /// `run.json`.
    pub summary: RunSummary,
    /// `requests.jsonl`, in the order the requests finished.
    pub records: Vec<RequestRecord>,
}

/// Where one level of a run is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LevelDir {
    /// The level's label in a sweep (`c4`); `None` for a plain run, whose
    /// directory is the level.
    pub label: Option<String>,
    /// The level's directory.
    pub dir: RunDir,
}

/// A run summary: `path` is a `run.json` or a directory that holds one.
pub fn read_summary(path: &Path) -> Result<RunSummary, Error> {
    let file = if path.is_dir() {
        path.join(SUMMARY)
    } else {
        path.to_path_buf()
    };
    if !file.exists() {
        return Err(Error::NoSummary(file));
    }
    let text = std::fs::read_to_string(&file).map_err(|e| Error::ReadSummary(file.clone(), e))?;
    serde_json::from_str(&text).map_err(|e| Error::BadSummary(file, e))
}

impl RunDir {
    /// `DIR/run.json`.
    pub fn read_summary(&self) -> Result<RunSummary, Error> {
        read_summary(&self.summary_path())
    }

    /// `DIR/requests.jsonl`; a line that is not a record is an error naming
    /// the line.
    pub fn read_records(&self) -> Result<Vec<RequestRecord>, Error> {
        let path = self.requests_path();
        if !path.is_file() {
            return Err(Error::NoRecords(path));
        }
        let text =
            std::fs::read_to_string(&path).map_err(|e| Error::ReadRecords(path.clone(), e))?;
        text.lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .map(|(i, l)| {
                serde_json::from_str(l).map_err(|error| Error::BadRecord {
                    path: path.clone(),
                    line: i + 1,
                    error,
                })
            })
            .collect()
    }

    /// The levels of this run: the directory itself when it holds a
    /// `run.json`, else its sub-directories that do, in the order
    /// `sweep.json` lists them (else by name, numbers compared as numbers:
    /// `c4` before `c16`). Errors when there is none.
    pub fn levels(&self) -> Result<Vec<LevelDir>, Error> {
        if self.is_level() {
            return Ok(vec![LevelDir {
                label: None,
                dir: self.clone(),
            }]);
        }
        let labels = self.level_labels()?;
        if labels.is_empty() {
            return Err(Error::NoRun(self.path().to_path_buf()));
        }
        Ok(labels
            .into_iter()
            .map(|l| LevelDir {
                dir: self.level(&l),
                label: Some(l),
            })
            .collect())
    }

    /// Every level's summary and records ([`RunDir::levels`]), named by
    /// their label, or the directory's name for a plain run.
    pub fn read_levels(&self) -> Result<Vec<Level>, Error> {
        self.levels()?
            .into_iter()
            .map(|l| {
                Ok(Level {
                    name: l.label.unwrap_or_else(|| self.name()),
                    summary: l.dir.read_summary()?,
                    records: l.dir.read_records()?,
                })
            })
            .collect()
    }

    /// The labels of the level sub-directories.
    fn level_labels(&self) -> Result<Vec<String>, Error> {
        let dir = self.path();
        if let Ok(text) = std::fs::read_to_string(self.sweep_path()) {
            let v: serde_json::Value =
                serde_json::from_str(&text).map_err(|e| Error::BadSweep(self.sweep_path(), e))?;
            let labels: Vec<String> = v["levels"]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|l| l["label"].as_str().map(String::from))
                .filter(|l| self.level(l).is_level())
                .collect();
            if !labels.is_empty() {
                return Ok(labels);
            }
        }
        let entries = std::fs::read_dir(dir).map_err(|e| Error::List(dir.to_path_buf(), e))?;
        let mut labels: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| e.path().join(SUMMARY).is_file())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        labels.sort_by_key(|l| natural_key(l));
        Ok(labels)
    }
}

/// `c16` after `c4`: the leading letters, then the number.
pub(crate) fn natural_key(label: &str) -> (String, u64, String) {
    let letters: String = label.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let rest = &label[letters.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    (
        letters,
        digits.parse().unwrap_or(0),
        rest[digits.len()..].to_string(),
    )
}
