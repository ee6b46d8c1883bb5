//! Reading the files a user points tokenpace at, with errors that name the
//! file and say what to do.

use anyhow::{bail, Context};
use std::path::{Path, PathBuf};
use tokenpace_core::profile::Profile;
use tokenpace_core::summary::RunSummary;

/// The profile at `path`, or the built-in UX profile when none is given.
pub fn profile(path: Option<&Path>) -> anyhow::Result<Profile> {
    let Some(path) = path else {
        return Ok(Profile::builtin());
    };
    // A built-in id (`default`, or the old `seed`) unless a file has that name.
    if let (false, Some(p)) = (
        path.exists(),
        path.to_str().and_then(Profile::builtin_named),
    ) {
        return Ok(p);
    }
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read profile '{}'", path.display()))?;
    Profile::from_toml(&text).with_context(|| {
        format!(
            "profile '{}' is not valid (see docs/metrics.md, \"Profiles\", for the format)",
            path.display()
        )
    })
}

/// A run summary: `path` is `run.json` or a run directory that holds one.
pub fn run_summary(path: &Path) -> anyhow::Result<RunSummary> {
    let file: PathBuf = if path.is_dir() {
        path.join("run.json")
    } else {
        path.to_path_buf()
    };
    if !file.exists() {
        bail!(
            "'{}' does not exist: give the run.json a `--out DIR` run wrote, or its directory",
            file.display()
        );
    }
    let text = std::fs::read_to_string(&file)
        .with_context(|| format!("could not read run summary '{}'", file.display()))?;
    serde_json::from_str(&text).with_context(|| {
        format!(
            "'{}' is not a tokenpace run summary (run.json)",
            file.display()
        )
    })
}
