//! Writing a run's files (transitional: moves into the run-directory crate
//! that owns their names).

use anyhow::Context;
use std::path::Path;
use tokenpace_runner::runner::LevelFiles;

/// Where a level's files go inside `dir`.
pub fn level_files(dir: &Path) -> LevelFiles<'_> {
    LevelFiles {
        dir,
        write_summary: &|d, s| write_json(&d.join("run.json"), s),
        records: "requests.jsonl",
        warmup: "warmup.jsonl",
    }
}

/// Writes `value` as pretty JSON.
pub fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("could not write '{}'", path.display()))
}
