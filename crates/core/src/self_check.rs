//! The client's own timing error against the simulator's truth, as a run
//! prints and stores it (`bench --self-check`); `runner::self_check`
//! measures it.

use serde::{Deserialize, Serialize};

/// How far the client's timestamps are from the server's truth.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TimingError {
    /// Concurrent streams.
    pub streams: u32,
    /// Chunks compared.
    pub chunks: usize,
    /// Requests that failed (not compared).
    pub failed: usize,
    /// Client TTFT − server TTFT, ms: p50 and p99, the server's from the
    /// request's arrival at its host (where the kernel stamps arrivals; else
    /// from when the server read it). Includes the request's and the first
    /// chunk's trip through loopback.
    pub ttft_excess_ms: (f64, f64),
    /// |client TTFT − server TTFT|, ms, p99: the error's size whichever
    /// way it goes (a client that dated its sends too late would show a
    /// negative excess).
    pub ttft_abs_error_p99_ms: f64,
    /// |client gap − server gap| between consecutive chunks, ms: p50, p99.
    pub itl_error_ms: (f64, f64),
}
