//! Finding runs by name under a root directory: what `tokenpace history`
//! lists and `tokenpace compare --dir` looks up.

use crate::{read_summary, RunDir, RunDirError, SUMMARY};
use std::path::{Path, PathBuf};
use tokenpace_core::summary::RunSummary;

/// Directory levels searched below the root.
pub const MAX_DEPTH: usize = 5;

/// A level found under a root.
#[derive(Debug)]
pub struct Found {
    /// Its path relative to the root, with `/` separators (`sweep1/c4`, or
    /// `.` for the root itself): the name `compare` and `report` accept.
    pub name: String,
    /// Its `run.json`, or why it could not be read.
    pub summary: Result<RunSummary, RunDirError>,
}

/// Every directory holding a `run.json` (or the `requests.jsonl` of a run
/// killed before it wrote one) under `root` (down to
/// [`MAX_DEPTH`], skipping hidden directories, `target` and
/// `node_modules`), in path order. Only the summaries are read.
pub fn scan(root: &Path) -> Result<Vec<Found>, RunDirError> {
    if !root.is_dir() {
        return Err(RunDirError::NotADirectory(root.to_path_buf()));
    }
    let mut found = Vec::new();
    walk(root, root, 0, &mut found);
    Ok(found)
}

fn walk(root: &Path, dir: &Path, depth: usize, found: &mut Vec<Found>) {
    let run = RunDir::new(dir);
    if run.is_level() {
        let summary = if dir.join(SUMMARY).is_file() {
            read_summary(dir)
        } else {
            // Killed before its run.json was written: rebuilt from the records.
            run.read_level(String::new()).map(|l| l.summary)
        };
        found.push(Found {
            name: relative(root, dir),
            summary,
        });
        return;
    }
    if depth >= MAX_DEPTH {
        return;
    }
    let Ok(read) = std::fs::read_dir(dir) else {
        return;
    };
    let mut subdirs: Vec<PathBuf> = read
        .filter_map(|e| e.ok())
        .filter(|e| e.file_type().is_ok_and(|t| t.is_dir()))
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            !n.starts_with('.') && n != "target" && n != "node_modules"
        })
        .map(|e| e.path())
        .collect();
    subdirs.sort();
    for d in subdirs {
        walk(root, &d, depth + 1, found);
    }
}

fn relative(root: &Path, dir: &Path) -> String {
    let rel = dir.strip_prefix(root).unwrap_or(dir);
    let parts: Vec<String> = rel
        .components()
        .map(|c| c.as_os_str().to_string_lossy().into_owned())
        .collect();
    if parts.is_empty() {
        ".".into()
    } else {
        parts.join("/")
    }
}

/// The run a user named: the path itself when it exists, else the name
/// under `root` (a name [`scan`] found, as `tokenpace history` lists it).
pub fn resolve(name: &str, root: &Path) -> Result<RunDir, RunDirError> {
    let direct = Path::new(name);
    if direct.exists() {
        return RunDir::open(direct);
    }
    let under = root.join(name);
    if under.exists() {
        return RunDir::open(&under);
    }
    Err(RunDirError::UnknownName {
        name: name.to_string(),
        root: root.to_path_buf(),
    })
}
