//! The run clock: monotonic nanoseconds since the run started.

use std::time::Instant;
use tokenpace_core::record::Nanos;

/// A monotonic clock anchored at the start of a run, shared by every task.
#[derive(Debug, Clone, Copy)]
pub struct RunClock {
    origin: Instant,
}

impl RunClock {
    /// A clock whose zero is now.
    pub fn start() -> Self {
        RunClock {
            origin: Instant::now(),
        }
    }

    /// Nanoseconds since the start.
    pub fn now(&self) -> Nanos {
        // u64 nanoseconds last 584 years.
        self.origin.elapsed().as_nanos() as Nanos
    }

    /// The `Instant` of an offset, for timers.
    pub fn instant_at(&self, at: Nanos) -> Instant {
        self.origin + std::time::Duration::from_nanos(at)
    }
}
