//! A configuration value as an error names it, and the range checks that
//! name it.

use std::fmt;

use tokenpace_core::setting::Setting;

use super::ConfigError;

/// A value of the simulator's configuration as an error names it: its TOML
/// path and, when the command line sets it too, that setting (rendered by
/// the program that took it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Field {
    /// The TOML path, `timing.decode`.
    pub key: &'static str,
    /// The setting that gives it, and the form of its value when that is
    /// not a plain number (`NAME=FACTOR`; empty otherwise).
    pub setting: Option<(Setting, &'static str)>,
}

impl Field {
    /// A value only the file sets.
    pub(crate) const fn file(key: &'static str) -> Self {
        Self { key, setting: None }
    }

    /// A value `setting` sets too.
    pub(crate) const fn set_by(key: &'static str, setting: Setting) -> Self {
        Self {
            key,
            setting: Some((setting, "")),
        }
    }
}

impl fmt::Display for Field {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.key)?;
        match self.setting {
            None => Ok(()),
            Some((s, "")) => write!(f, " ({s})"),
            Some((s, form)) => write!(f, " ({s} {form})"),
        }
    }
}

pub(super) fn invalid(field: Field, message: String) -> ConfigError {
    ConfigError::Invalid { field, message }
}

/// Rates are tokens/s in `[0.001, 1e9]`.
pub(super) fn positive(field: Field, v: f64) -> Result<(), ConfigError> {
    if (0.001..=1e9).contains(&v) {
        Ok(())
    } else {
        Err(invalid(field, format!("{v} must be from 0.001 to 1e9")))
    }
}

/// Times are ms in `[0, one day]`; factors are in the same range.
pub(super) fn non_negative(field: Field, v: f64) -> Result<(), ConfigError> {
    if (0.0..=86_400_000.0).contains(&v) {
        Ok(())
    } else {
        Err(invalid(field, format!("{v} must be from 0 to 86400000")))
    }
}

pub(super) fn at_least_one(field: Field, v: u64) -> Result<(), ConfigError> {
    if v >= 1 {
        Ok(())
    } else {
        Err(invalid(field, "must be at least 1".into()))
    }
}
