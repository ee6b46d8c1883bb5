//! The format version every stored JSON file carries.
//!
//! `run.json`, `sweep.json` and `capacity.json` start with `"version"`, the
//! format they were written in ([`VERSION`]), so that a later reader can
//! refuse or convert them. A file without the field was written before it
//! was recorded and is version 1. The lines of `requests.jsonl` carry none
//! (a run holds millions): their format is their `run.json`'s.

use crate::RunDirError;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The format this tokenpace writes, and the newest it reads.
pub const VERSION: u32 = 1;

/// A stored file: its format version, then its contents' fields.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Versioned<T> {
    /// The file's format version: absent in files written before it was
    /// recorded, which are version 1.
    #[serde(default = "first")]
    pub version: u32,
    /// What the file holds.
    #[serde(flatten)]
    pub body: T,
}

impl<T> Versioned<T> {
    /// `body` in the format this tokenpace writes.
    pub fn new(body: T) -> Versioned<T> {
        Versioned {
            version: VERSION,
            body,
        }
    }
}

/// The version of a file that does not say.
fn first() -> u32 {
    1
}

/// Only the version of a stored file.
#[derive(Deserialize)]
struct Version {
    #[serde(default = "first_wide")]
    version: u64,
}

/// [`first`], as [`Version`] reads it.
fn first_wide() -> u64 {
    1
}

/// An error when `text`, the contents of `path`, is of a format newer than
/// this tokenpace reads. Text that is not a JSON object passes: reading it
/// as its type says what is wrong.
pub(crate) fn check_version(path: &Path, text: &str) -> Result<(), RunDirError> {
    match serde_json::from_str::<Version>(text) {
        Ok(v) if v.version > u64::from(VERSION) => Err(RunDirError::NewerFormat {
            path: path.to_path_buf(),
            version: v.version,
            newest: VERSION,
        }),
        _ => Ok(()),
    }
}

/// `path`'s contents as a `T` (the fields of a [`Versioned`] body; the
/// version is checked first), or why not: [`RunDirError::NewerFormat`], or
/// `bad` given the parser's error.
pub(crate) fn read_versioned<T: serde::de::DeserializeOwned>(
    path: &Path,
    text: &str,
    bad: impl FnOnce(serde_json::Error) -> RunDirError,
) -> Result<T, RunDirError> {
    check_version(path, text)?;
    serde_json::from_str(text).map_err(bad)
}
