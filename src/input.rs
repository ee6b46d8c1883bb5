//! Reading the files a user points tokenpace at, with errors that name the
//! file and say what to do.

use anyhow::Context;
use std::path::Path;
use tokenpace_core::profile::Profile;
use tokenpace_core::slo::Slo;
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

/// The SLO `spec` names: a preset (`tiers`, `mlperf-server:<model>`,
/// `mlperf-interactive:<model>`) or a TOML file.
pub fn slo(spec: &str) -> anyhow::Result<Slo> {
    let path = Path::new(spec);
    if !path.exists() {
        if let Some(preset) = tokenpace_core::slo::preset(spec) {
            return Ok(preset?);
        }
    }
    let text = std::fs::read_to_string(path).with_context(|| {
        format!(
            "could not read the SLO file '{spec}' (or give a preset: {})",
            tokenpace_core::slo::PRESETS
        )
    })?;
    let name = path.file_stem().and_then(|s| s.to_str()).unwrap_or(spec);
    Slo::from_toml(&text, name).with_context(|| {
        format!("SLO file '{spec}' is not valid (see docs/capacity.md, \"Searching by an SLO\", for the format)")
    })
}

/// A run summary: `path` is `run.json` or a run directory that holds one.
pub fn run_summary(path: &Path) -> anyhow::Result<RunSummary> {
    Ok(tokenpace_rundir::read_summary(path)?)
}

/// Prints what reading a run recovered from ("warning: …" on stderr, one
/// line each): the command goes on with what could be read.
pub fn warn(warnings: &[String]) {
    for w in warnings {
        warning(w);
    }
}

/// Prints one warning on stderr: on one line, with the paths and server
/// text in it escaped ([`tokenpace_present::terminal::line`]).
pub fn warning(text: &str) {
    eprintln!("warning: {}", tokenpace_present::terminal::line(text));
}
