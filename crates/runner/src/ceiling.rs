//! The client's figures of itself over a level's load (its CPU from the
//! OS, the rest from the records), judged by [`tokenpace_core::ceiling`].

use crate::plan::{BenchPlan, LevelPlan};
use std::time::Instant;
use tokenpace_client::load::Load;
use tokenpace_client::workers::Workers;
use tokenpace_core::ceiling::{self, Ceiling, ClientFigures, Cpu};
use tokenpace_core::metric::Metric;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;

/// The load threads' CPU clock and the wall clock at the start of a load.
pub struct CpuMeter {
    workers: std::sync::Arc<Workers>,
    cpu_s: Option<f64>,
    wall: Instant,
}

impl CpuMeter {
    /// Starts measuring `workers` (the load's threads) now: only their CPU
    /// counts, not a server sharing the process (the embedded engine).
    pub fn start(workers: &std::sync::Arc<Workers>) -> CpuMeter {
        CpuMeter {
            workers: std::sync::Arc::clone(workers),
            cpu_s: workers.cpu_s(),
            wall: Instant::now(),
        }
    }

    /// The CPU the load threads used since the start.
    pub fn stop(&self) -> Option<Cpu> {
        Some(Cpu {
            cpu_s: self.workers.cpu_s()? - self.cpu_s?,
            wall_s: self.wall.elapsed().as_secs_f64(),
            workers: self.workers.len() as u32,
        })
    }
}

/// Judges the client over a level of `plan` that produced `records` and
/// `summary`, using `cpu` over its load.
pub fn judge(
    plan: &BenchPlan,
    level: LevelPlan,
    records: &[RequestRecord],
    summary: &RunSummary,
    cpu: Option<Cpu>,
) -> Ceiling {
    let (exhausted, exhausted_message) = ceiling::exhausted(records);
    let (schedule_lag_p99_s, in_flight) = match plan.shard_load(level.load) {
        // Sessions pause between turns, and a throttled request waits for
        // the server's Retry-After: then in flight is not the client's.
        Load::Closed { concurrency } => (
            None,
            (plan.sessions.is_none() && !records.iter().any(throttled))
                .then(|| ceiling::median_in_flight(records, concurrency))
                .flatten(),
        ),
        Load::Open { .. } | Load::Trace { .. } => (
            (records.len() >= ceiling::MIN_LAG_SAMPLES)
                .then(|| summary.get(Metric::ScheduleLagS, Statistic::P99))
                .flatten(),
            None,
        ),
    };
    Ceiling::judge(ClientFigures {
        schedule_lag_p99_s,
        in_flight,
        cpu,
        exhausted,
        exhausted_message,
    })
}

/// A request the server throttled (retried or not).
fn throttled(r: &RequestRecord) -> bool {
    r.retries.is_some()
        || r.error
            .as_ref()
            .is_some_and(|e| e.kind == tokenpace_core::record::ErrorKind::Throttled)
}
