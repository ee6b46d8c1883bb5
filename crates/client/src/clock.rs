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

    /// Nanoseconds from the start to `at` (0 for an instant before it).
    pub fn at(&self, at: Instant) -> Nanos {
        at.saturating_duration_since(self.origin).as_nanos() as Nanos
    }

    /// The `Instant` of an offset, for timers.
    pub fn instant_at(&self, at: Nanos) -> Instant {
        self.origin + std::time::Duration::from_nanos(at)
    }
}

/// tokio's timer fires on the first whole millisecond after a deadline
/// (about 1 ms late on average): [`RunClock::wait_until`] wakes this much
/// early and finishes the wait itself.
pub(crate) const EARLY: std::time::Duration = std::time::Duration::from_micros(1500);

/// The last stretch of a wait is spun, not yielded: one yield can take a
/// whole round of a run queue holding a thousand streams (hundreds of
/// microseconds), so a yield this close to the deadline would overshoot it.
const SPIN: Nanos = 150_000;

/// A request due at `t` is handed to the thread that sends it this long
/// before `t`, and waits there: a hand-over at `t` itself would be late by
/// however long that thread takes to notice it (its current poll, or the
/// kernel's scheduling of it on a busy machine).
pub(crate) const HAND_OVER: Nanos = 3_000_000;

impl RunClock {
    /// Sleeps on tokio's timer (1 ms resolution) until [`HAND_OVER`] before
    /// `at`. False when `stop` turned true first.
    pub(crate) async fn until_hand_over(
        &self,
        at: Nanos,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> bool {
        let wake = tokio::time::Instant::from_std(self.instant_at(at.saturating_sub(HAND_OVER)));
        tokio::select! {
            _ = tokio::time::sleep_until(wake) => true,
            _ = stop.wait_for(|s| *s) => false,
        }
    }

    /// Waits until `at` on this clock, to within a few microseconds while
    /// the runtime has a core to spare: tokio's timer to [`EARLY`] before,
    /// yields to [`SPIN`] before, then a spin. False when `stop` turned
    /// true first.
    pub(crate) async fn wait_until(
        &self,
        at: Nanos,
        stop: &mut tokio::sync::watch::Receiver<bool>,
    ) -> bool {
        let wake = tokio::time::Instant::from_std(self.instant_at(at));
        tokio::select! {
            _ = tokio::time::sleep_until(wake.checked_sub(EARLY).unwrap_or(wake)) => {}
            _ = stop.wait_for(|s| *s) => return false,
        }
        while self.now() + SPIN < at {
            tokio::task::yield_now().await;
        }
        while self.now() < at {
            std::hint::spin_loop();
        }
        true
    }
}
