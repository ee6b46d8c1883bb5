//! The client's figures of itself over a level's load (its CPU from the
//! OS, the rest from the records), judged by [`tokenpace_core::ceiling`].

use crate::plan::{BenchPlan, Level};
use std::time::Instant;
use tokenpace_client::load::Load;
use tokenpace_core::ceiling::{self, Ceiling, ClientFigures, Cpu};
use tokenpace_core::metric::Metric;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;

/// The client's CPU clock and the wall clock at the start of a load.
pub struct CpuMeter {
    cpu_s: Option<f64>,
    wall: Instant,
}

impl CpuMeter {
    /// Starts measuring now.
    pub fn start() -> CpuMeter {
        CpuMeter {
            cpu_s: process_cpu_s(),
            wall: Instant::now(),
        }
    }

    /// The CPU used since the start, over `workers` load threads.
    pub fn stop(&self, workers: usize) -> Option<Cpu> {
        Some(Cpu {
            cpu_s: process_cpu_s()? - self.cpu_s?,
            wall_s: self.wall.elapsed().as_secs_f64(),
            workers: workers as u32,
        })
    }
}

/// User + system CPU of this process so far, seconds.
#[cfg(unix)]
fn process_cpu_s() -> Option<f64> {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    if unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) } != 0 {
        return None;
    }
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    Some(s(u.ru_utime) + s(u.ru_stime))
}

#[cfg(not(unix))]
fn process_cpu_s() -> Option<f64> {
    None
}

/// Judges the client over a level of `plan` that produced `records` and
/// `summary`, using `cpu` over its load.
pub fn judge(
    plan: &BenchPlan,
    level: Level,
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
        Load::Open { .. } | Load::Trace { .. } => {
            (summary.get(Metric::ScheduleLagS, Statistic::P99), None)
        }
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
