//! Reading a run directory back: its levels (in the order they ran), each
//! level's summary and records.
//!
//! A run killed outright (SIGKILL, a crash, a full disk) leaves its records
//! but may leave a partial last line in `requests.jsonl` and no `run.json`:
//! the torn line is skipped and the summary rebuilt from the records, each
//! with a warning, so the requests that did finish can still be reported,
//! merged and compared.

use crate::check::{impossible, Ids};
use crate::path::unsafe_label;
use crate::stored::read_versioned;
use crate::{RunDir, RunDirError, REQUESTS, SUMMARY};
use std::path::Path;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::summary::{Environment, RunSettings, RunSummary};

/// One load level as read from disk: its `run.json` and `requests.jsonl`.
#[derive(Debug, Clone)]
pub struct StoredLevel {
    /// The level's label (`c4`, `p512`) in a sweep, else the run
    /// directory's name.
    pub name: String,
    /// `run.json`, or, when it is missing, a partial summary rebuilt from
    /// the records.
    pub summary: RunSummary,
    /// `requests.jsonl`, in the order the requests finished.
    pub records: Vec<RequestRecord>,
    /// What was recovered from (a torn last line, a missing `run.json`),
    /// one line each, for the command to print.
    pub warnings: Vec<String>,
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
pub fn read_summary(path: &Path) -> Result<RunSummary, RunDirError> {
    let file = if path.is_dir() {
        path.join(SUMMARY)
    } else {
        path.to_path_buf()
    };
    if !file.exists() {
        return Err(RunDirError::NoSummary(file));
    }
    let text =
        std::fs::read_to_string(&file).map_err(|e| RunDirError::ReadSummary(file.clone(), e))?;
    read_versioned(&file, &text, |e| RunDirError::BadSummary(file.clone(), e))
}

impl RunDir {
    /// `DIR/run.json`.
    pub fn read_summary(&self) -> Result<RunSummary, RunDirError> {
        read_summary(&self.summary_path())
    }

    /// `DIR/requests.jsonl`, and a warning when its last line was torn (a
    /// run killed mid-write) and skipped. Any other line that is not a
    /// record, a record with impossible times, or an id seen before is an
    /// error naming the line.
    pub fn read_records(&self) -> Result<(Vec<RequestRecord>, Option<String>), RunDirError> {
        let path = self.requests_path();
        if !path.is_file() {
            return Err(RunDirError::NoRecords(path));
        }
        let bytes = std::fs::read(&path).map_err(|e| RunDirError::ReadRecords(path.clone(), e))?;
        let text = match std::str::from_utf8(&bytes) {
            Ok(t) => t,
            // A write cut inside a character leaves an incomplete one at
            // the very end: that line is torn like any other.
            Err(e) if e.error_len().is_none() => {
                std::str::from_utf8(&bytes[..e.valid_up_to()]).unwrap_or_default()
            }
            Err(e) => {
                let e = std::io::Error::new(std::io::ErrorKind::InvalidData, e);
                return Err(RunDirError::ReadRecords(path, e));
            }
        };
        let lines: Vec<(usize, &str)> = text
            .lines()
            .enumerate()
            .filter(|(_, l)| !l.trim().is_empty())
            .collect();
        let mut records = Vec::with_capacity(lines.len());
        let mut ids = Ids::default();
        for (k, &(i, l)) in lines.iter().enumerate() {
            match serde_json::from_str::<RequestRecord>(l) {
                Ok(r) => {
                    checked(&r, &path, i + 1, &mut ids)?;
                    records.push(r);
                }
                // Only the last line can be torn by a write cut short; a bad
                // line anywhere else is damage the user must look at.
                Err(e) if k + 1 == lines.len() && torn(&e) => {
                    let warning = format!(
                        "'{}' line {}: skipped a partial last line (the run was killed while writing it); {} requests read",
                        path.display(),
                        i + 1,
                        records.len()
                    );
                    return Ok((records, Some(warning)));
                }
                Err(error) => {
                    return Err(RunDirError::BadRecord {
                        path: path.clone(),
                        line: i + 1,
                        error,
                    })
                }
            }
        }
        Ok((records, None))
    }

    /// This level: its summary and records, named `name`; an error when
    /// the records are not the requests the summary counts. Without a
    /// `run.json` (a run killed before it was written) the summary is
    /// rebuilt from the records and marked partial, with a warning.
    pub fn read_level(&self, name: String) -> Result<StoredLevel, RunDirError> {
        let (records, torn) = self.read_records()?;
        let mut warnings: Vec<String> = torn.into_iter().collect();
        let summary = if self.summary_path().is_file() {
            let summary = self.read_summary()?;
            if summary.counts.sent != records.len() as u64 {
                return Err(RunDirError::Mismatch {
                    records: self.requests_path(),
                    summary: self.summary_path(),
                    held: records.len(),
                    counted: summary.counts.sent,
                });
            }
            summary
        } else {
            warnings.push(format!(
                "'{}' is missing (the run was killed before it was written?): summarised the {} requests in {REQUESTS}; the run's settings are unknown and it counts as partial",
                self.summary_path().display(),
                records.len()
            ));
            rebuilt_summary(&records)
        };
        Ok(StoredLevel {
            name,
            summary,
            records,
            warnings,
        })
    }

    /// The levels of this run: the directory itself when it holds a
    /// `run.json`, else its sub-directories that do, in the order
    /// `sweep.json` lists them (else by name, numbers compared as numbers:
    /// `c4` before `c16`). Errors when there is none.
    pub fn levels(&self) -> Result<Vec<LevelDir>, RunDirError> {
        if self.is_level() {
            return Ok(vec![LevelDir {
                label: None,
                dir: self.clone(),
            }]);
        }
        let labels = self.level_labels()?;
        if labels.is_empty() {
            return Err(RunDirError::NoRun(self.path().to_path_buf()));
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
    pub fn read_levels(&self) -> Result<Vec<StoredLevel>, RunDirError> {
        self.levels()?
            .into_iter()
            .map(|l| l.dir.read_level(l.label.unwrap_or_else(|| self.name())))
            .collect()
    }

    /// The labels of the level sub-directories: `sweep.json`'s, each one
    /// directory name inside the run, else the sub-directories' names.
    fn level_labels(&self) -> Result<Vec<String>, RunDirError> {
        let dir = self.path();
        if let Some(order) = self.sweep_order()? {
            let labels: Vec<String> = order
                .into_iter()
                .map(|label| match unsafe_label(&label) {
                    Some(why) => Err(RunDirError::UnsafeLabel {
                        file: self.sweep_path(),
                        label,
                        why,
                    }),
                    None => Ok(label),
                })
                .collect::<Result<Vec<_>, _>>()?
                .into_iter()
                .filter(|l| self.level(l).is_level())
                .collect();
            if !labels.is_empty() {
                return Ok(labels);
            }
        }
        let entries =
            std::fs::read_dir(dir).map_err(|e| RunDirError::List(dir.to_path_buf(), e))?;
        let mut labels: Vec<String> = entries
            .filter_map(|e| e.ok())
            .filter(|e| RunDir::new(e.path()).is_level())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .collect();
        labels.sort_by_key(|l| natural_key(l));
        Ok(labels)
    }
}

/// `r`, read from line `line` of `path`, if its times are possible and
/// its id is its own.
fn checked(r: &RequestRecord, path: &Path, line: usize, ids: &mut Ids) -> Result<(), RunDirError> {
    if let Some(problem) = impossible(r) {
        return Err(RunDirError::Impossible {
            path: path.to_path_buf(),
            line,
            problem,
        });
    }
    match ids.seen_before(r.id, line) {
        Some(first) => Err(RunDirError::DuplicateId {
            path: path.to_path_buf(),
            line,
            id: r.id,
            first,
        }),
        None => Ok(()),
    }
}

/// Whether a record line failed to parse because it ended early (a write
/// cut short), rather than because it holds something else.
fn torn(e: &serde_json::Error) -> bool {
    e.is_eof()
}

/// The summary of a level whose `run.json` is missing: what the records
/// say, with the default stall threshold, marked partial.
fn rebuilt_summary(records: &[RequestRecord]) -> RunSummary {
    let settings = RunSettings {
        stall_threshold_s: Profile::builtin().stall_threshold_ms / 1000.0,
        ..RunSettings::default()
    };
    let mut summary = RunSummary::from_records(records, settings, Environment::default());
    summary.partial = true;
    summary
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
