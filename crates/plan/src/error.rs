//! Errors of the planner. Each one names the problem and the fix.

use std::fmt::Display;
use tokenpace_core::setting::Setting;

/// Why a plan could not be made.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PlanError {
    /// A catalog name that matches no entry.
    #[error("unknown {kind} '{given}'{}; `{}` shows the catalog, and `{} FILE` adds entries", did_you_mean(.suggestions), Setting::CatalogList, Setting::Catalog)]
    Unknown {
        /// `model` or `hardware`.
        kind: &'static str,
        /// What was given.
        given: String,
        /// The closest catalog ids, best first.
        suggestions: Vec<String>,
    },
    /// The weights do not fit in the memory of the devices.
    #[error("{model} at {quant} needs {weights_gb:.1} GB for its weights, but {devices} × {hardware} have {usable_gb:.1} GB usable ({memory_usable_pct:.0} % of {total_gb:.0} GB); use at least {min_devices} devices ({} {min_devices}), narrower weights ({} {narrower}), or a card with more memory", Setting::Gpus, Setting::Weights)]
    TooLarge {
        /// The model id.
        model: String,
        /// The hardware id.
        hardware: String,
        /// The quantisation id.
        quant: &'static str,
        /// Weight bytes, 10^9.
        weights_gb: f64,
        /// Usable memory of all devices, 10^9 bytes.
        usable_gb: f64,
        /// Total memory of all devices, 10^9 bytes.
        total_gb: f64,
        /// The usable fraction, percent.
        memory_usable_pct: f64,
        /// Devices given.
        devices: u32,
        /// Devices that would hold the weights and one context.
        min_devices: u32,
        /// The format to suggest: the model's own when it is narrower
        /// than the one asked for, else int4.
        narrower: &'static str,
    },
    /// The weights fit but not one context's KV cache.
    #[error("{model} fits on {devices} × {hardware} with {free_gb:.2} GB left after the weights, but one context of {context_tokens:.0} tokens needs {context_gb:.2} GB of KV cache; use shorter prompts, more devices ({}), narrower weights ({}) or an fp8 KV cache ({} fp8)", Setting::Gpus, Setting::Weights, Setting::KvCache)]
    NoRoomForContext {
        /// The model id.
        model: String,
        /// The hardware id.
        hardware: String,
        /// Devices given.
        devices: u32,
        /// Memory left after the weights, 10^9 bytes.
        free_gb: f64,
        /// Tokens of one context (prompt + output).
        context_tokens: f64,
        /// KV bytes of one context, 10^9.
        context_gb: f64,
    },
    /// A number that must be finite and positive (or in a range) is not.
    #[error("{name} must be {expected}, got {value}")]
    InvalidNumber {
        /// The parameter, as the user knows it (a flag or a file key).
        name: String,
        /// What it must be.
        expected: &'static str,
        /// The offending value.
        value: f64,
    },
    /// A catalog, efficiency or model file that does not parse or fit the
    /// schema. The message names the line and column when there is one.
    #[error("{0}")]
    Syntax(String),
}

fn did_you_mean(s: &[String]) -> String {
    if s.is_empty() {
        String::new()
    } else {
        format!(" (did you mean {}?)", s.join(", "))
    }
}

/// Checks that `value` is a finite number > 0.
pub fn positive(name: impl Display, value: f64) -> Result<f64, PlanError> {
    if value.is_finite() && value > 0.0 {
        Ok(value)
    } else {
        Err(PlanError::InvalidNumber {
            name: name.to_string(),
            expected: "a finite number greater than 0",
            value,
        })
    }
}

/// Checks that `value` is a finite number ≥ 0.
pub fn non_negative(name: impl Display, value: f64) -> Result<f64, PlanError> {
    if value.is_finite() && value >= 0.0 {
        Ok(value)
    } else {
        Err(PlanError::InvalidNumber {
            name: name.to_string(),
            expected: "a finite number 0 or more",
            value,
        })
    }
}

/// Checks that `value` is a fraction in (0, 1].
pub fn fraction(name: impl Display, value: f64) -> Result<f64, PlanError> {
    if value.is_finite() && value > 0.0 && value <= 1.0 {
        Ok(value)
    } else {
        Err(PlanError::InvalidNumber {
            name: name.to_string(),
            expected: "a fraction greater than 0 and at most 1",
            value,
        })
    }
}
