//! Reading what `bench --out DIR` wrote: `DIR/run.json` and
//! `DIR/requests.jsonl` for one level, or one sub-directory per level of a
//! sweep (`DIR/c1`, `DIR/c4`, … in the order of `DIR/sweep.json`). Every
//! problem is one error line that names the file and says what to do.

use crate::input;
use anyhow::{anyhow, bail, Context};
use std::path::{Path, PathBuf};
use tokenpace_core::record::RequestRecord;
use tokenpace_report::Run;

/// A run directory as read: its name and its levels.
pub struct RunDir {
    /// The directory's last path component (or the path as given).
    pub name: String,
    /// The directory.
    pub path: PathBuf,
    /// One entry for a plain run, one per level for a sweep.
    pub levels: Vec<Run>,
}

/// Reads the run at `path`: a run directory, a sweep directory, or a
/// `run.json` inside one.
pub fn load(path: &Path) -> anyhow::Result<RunDir> {
    if !path.exists() {
        bail!(
            "'{}' does not exist: give a directory written by `tokenpace bench --out DIR`",
            path.display()
        );
    }
    let dir = if path.is_file() {
        path.parent().unwrap_or(Path::new(".")).to_path_buf()
    } else {
        path.to_path_buf()
    };
    let name = dir.file_name().map_or_else(
        || dir.display().to_string(),
        |n| n.to_string_lossy().into_owned(),
    );
    let levels = if dir.join("run.json").is_file() {
        vec![level(&dir, &name)?]
    } else {
        let labels = level_dirs(&dir)?;
        if labels.is_empty() {
            bail!(
                "'{}' holds no run.json (nor level sub-directories with one): give a directory written by `tokenpace bench --out DIR`",
                dir.display()
            );
        }
        labels
            .iter()
            .map(|l| level(&dir.join(l), l))
            .collect::<anyhow::Result<_>>()?
    };
    Ok(RunDir {
        name,
        path: dir,
        levels,
    })
}

/// One level: `dir/run.json` and `dir/requests.jsonl`.
fn level(dir: &Path, name: &str) -> anyhow::Result<Run> {
    let summary = input::run_summary(dir).map_err(|e| anyhow!("{e:#}"))?;
    let records = records(&dir.join("requests.jsonl"))?;
    Ok(Run {
        name: name.to_string(),
        summary,
        records,
    })
}

/// The level sub-directories of a sweep, in the order `sweep.json` lists
/// them (else by name, numbers compared as numbers).
fn level_dirs(dir: &Path) -> anyhow::Result<Vec<String>> {
    if let Ok(text) = std::fs::read_to_string(dir.join("sweep.json")) {
        let v: serde_json::Value = serde_json::from_str(&text).map_err(|e| {
            anyhow!(
                "'{}' is not valid JSON ({e}); rerun the sweep or delete the file",
                dir.join("sweep.json").display()
            )
        })?;
        let labels: Vec<String> = v["levels"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|l| l["label"].as_str().map(String::from))
            .filter(|l| dir.join(l).join("run.json").is_file())
            .collect();
        if !labels.is_empty() {
            return Ok(labels);
        }
    }
    let entries =
        std::fs::read_dir(dir).with_context(|| format!("could not list '{}'", dir.display()))?;
    let mut labels: Vec<String> = entries
        .filter_map(|e| e.ok())
        .filter(|e| e.path().join("run.json").is_file())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    labels.sort_by_key(|l| natural_key(l));
    Ok(labels)
}

/// `c16` after `c4`: the leading letters, then the number.
fn natural_key(label: &str) -> (String, u64, String) {
    let letters: String = label.chars().take_while(|c| !c.is_ascii_digit()).collect();
    let rest = &label[letters.len()..];
    let digits: String = rest.chars().take_while(|c| c.is_ascii_digit()).collect();
    (
        letters,
        digits.parse().unwrap_or(0),
        rest[digits.len()..].to_string(),
    )
}

/// Reads `requests.jsonl`; a line that is not a record is an error naming
/// the line.
pub fn records(path: &Path) -> anyhow::Result<Vec<RequestRecord>> {
    if !path.is_file() {
        bail!(
            "'{}' is missing: reports need the per-request records that `tokenpace bench --out DIR` writes beside run.json",
            path.display()
        );
    }
    let text = std::fs::read_to_string(path)
        .map_err(|e| anyhow!("could not read '{}': {e}", path.display()))?;
    text.lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
        .map(|(i, l)| {
            serde_json::from_str(l).map_err(|e| {
                anyhow!(
                    "'{}' line {}: not a request record ({e}); delete or repair that line (a run killed mid-write can leave a partial last line)",
                    path.display(),
                    i + 1
                )
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_sort_numerically() {
        let mut v = vec!["c16", "c4", "c1", "p2048", "p128"];
        v.sort_by_key(|l| natural_key(l));
        assert_eq!(v, ["c1", "c4", "c16", "p128", "p2048"]);
    }
}
