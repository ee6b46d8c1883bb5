//! What the engine's benches share: the model they load, their settings
//! from the environment, and the median they print.

#![allow(dead_code)] // each bench uses its own subset

use std::path::PathBuf;

/// `TOKENPACE_BENCH_MODEL`, or the default model in the default cache.
pub fn model() -> PathBuf {
    std::env::var_os("TOKENPACE_BENCH_MODEL").map_or_else(
        || {
            tokenpace_models::cache_dir(None)
                .join(tokenpace_models::DEFAULT_PACKAGE)
                .join("SmolLM2-135M-Instruct.Q4_1.gguf")
        },
        PathBuf::from,
    )
}

/// An environment variable parsed, or `default` when unset or unparsable.
pub fn env_or<T: std::str::FromStr>(name: &str, default: T) -> T {
    std::env::var(name)
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

/// The median (NaN for no values).
pub fn median(v: &[f64]) -> f64 {
    let mut v = v.to_vec();
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n == 0 {
        return f64::NAN;
    }
    if n % 2 == 1 {
        v[n / 2]
    } else {
        (v[n / 2 - 1] + v[n / 2]) / 2.0
    }
}
