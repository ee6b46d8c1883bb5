//! The machine a run happened on, for run.json.

use std::time::SystemTime;
use tokenpace_core::summary::Environment;

/// This machine and tool, with the current time as the start.
pub fn current() -> Environment {
    Environment {
        tool_version: env!("CARGO_PKG_VERSION").to_string(),
        os: std::env::consts::OS.to_string(),
        arch: std::env::consts::ARCH.to_string(),
        cpus: std::thread::available_parallelism().map_or(1, |n| n.get() as u32),
        // Milliseconds: merge lines shards' load windows up by it.
        started_at: Some(tokenpace_core::wall_clock::format(SystemTime::now())),
    }
}
