//! Sending a trace's requests at the trace's times divided by a speed-up.
//!
//! A blocking thread reads the file and builds prompts up to [`LOOKAHEAD`]
//! requests ahead; the load loop only sleeps until each request's time and
//! starts it, so building a long prompt never makes a send late.

use super::{TraceError, TracePrompts, TraceSpec};
use crate::load::{Control, Driver, LoadPlan};
use crate::request::execute;
use std::sync::{Arc, Mutex};
use tokenpace_core::record::{Nanos, RequestRecord};
use tokio::sync::mpsc;
use tokio::task::JoinSet;

/// Prompts built ahead of their send time, at most (a bound on memory).
pub const LOOKAHEAD: usize = 256;

/// tokio's timer fires on the first whole millisecond after a deadline
/// (about 1 ms late on average): wake this much early and yield until the
/// exact time instead, at most this much busy time per request.
const EARLY: std::time::Duration = std::time::Duration::from_micros(1500);

/// A trace to replay and how its prompts are built.
#[derive(Debug)]
pub struct TraceReplay {
    /// The file and window.
    pub spec: TraceSpec,
    /// The prompt builder (cloned for each replay).
    pub prompts: TracePrompts,
    error: Mutex<Option<TraceError>>,
}

impl TraceReplay {
    /// A replay of `spec`'s window with `prompts`.
    pub fn new(spec: TraceSpec, prompts: TracePrompts) -> Self {
        TraceReplay {
            spec,
            prompts,
            error: Mutex::new(None),
        }
    }

    /// The error that stopped the last replay early (the file changed after
    /// its scan), if any; the requests sent before it have records.
    pub fn take_error(&self) -> Option<TraceError> {
        self.error.lock().ok().and_then(|mut e| e.take())
    }
}

type Item = Result<(u64, u64, crate::backend::Prompt), TraceError>;

/// Starts `trace`'s requests (the first `plan.requests` of its window, this
/// shard's) at their times ÷ `speed`, none after `end`, into `tasks`.
#[allow(clippy::too_many_arguments)] // the load loop's own state, passed through
pub(crate) async fn schedule(
    driver: &Arc<Driver>,
    trace: &Arc<TraceReplay>,
    speed: f64,
    plan: &LoadPlan,
    control: &Control,
    records: &mpsc::UnboundedSender<RequestRecord>,
    end: Option<Nanos>,
    tasks: &mut JoinSet<()>,
) {
    let (tx, mut rx) = mpsc::channel::<Item>(LOOKAHEAD);
    let (spec, mut prompts) = (trace.spec.clone(), trace.prompts.clone());
    let (shard, cap) = (plan.shard, plan.requests);
    let producer = tokio::task::spawn_blocking(move || {
        let requests = match spec.open() {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.blocking_send(Err(e));
                return;
            }
        };
        for r in requests.take(usize::try_from(cap).unwrap_or(usize::MAX)) {
            let item = match r {
                Ok(r) if !shard.owns(r.index) => continue,
                Ok(r) => Ok((r.index, r.at_ns, prompts.prompt(&r))),
                Err(e) => Err(e),
            };
            let last = item.is_err();
            if tx.blocking_send(item).is_err() || last {
                return;
            }
        }
    });
    // The clock of the trace starts once the look-ahead is full (or the
    // window is shorter), so the first sends are not waiting for prompts.
    let mut stop = control.stop.clone();
    while rx.len() < LOOKAHEAD && !producer.is_finished() && !*stop.borrow() {
        tokio::time::sleep(std::time::Duration::from_millis(1)).await;
    }
    let start = driver.clock.now();
    while let Some(item) = rx.recv().await {
        let (id, at_ns, prompt) = match item {
            Ok(x) => x,
            Err(e) => {
                if let Ok(mut slot) = trace.error.lock() {
                    *slot = Some(e);
                }
                break;
            }
        };
        let scheduled = start + (at_ns as f64 / speed) as Nanos;
        if end.is_some_and(|e| scheduled >= e) {
            break;
        }
        let wake = tokio::time::Instant::from_std(driver.clock.instant_at(scheduled));
        tokio::select! {
            _ = tokio::time::sleep_until(wake.checked_sub(EARLY).unwrap_or(wake)) => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        while driver.clock.now() < scheduled {
            tokio::task::yield_now().await;
        }
        let (driver, records, abort) = (driver.clone(), records.clone(), control.abort.clone());
        tasks.spawn(async move {
            let record = execute(
                &driver.client,
                &driver.target,
                driver.backend.as_ref(),
                &prompt,
                id,
                scheduled,
                &driver.clock,
                driver.timeouts,
                driver.workload.tokenizer(),
                abort,
            )
            .await;
            let _ = records.send(record);
        });
    }
    // Ends the producer if the loop stopped early.
    drop(rx);
    let _ = producer.await;
}
