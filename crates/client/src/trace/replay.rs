//! Sending a trace's requests at the trace's times divided by a speed-up.
//!
//! A blocking thread reads the file and builds prompts up to [`LOOKAHEAD`]
//! requests ahead; the load loop only sleeps until each request's time and
//! starts it, so building a long prompt never makes a send late.

use super::{TraceError, TracePrompts, TraceSpec};
use std::sync::atomic::Ordering;
use std::sync::Mutex;
use tokenpace_core::shard::Shard;
use tokio::sync::mpsc;

/// Prompts built ahead of their send time, at most (a bound on memory).
pub const LOOKAHEAD: usize = 256;

/// Bytes of prompt text built ahead, at most (beside the count: a trace
/// of million-token prompts must not hold thousands of them).
pub const LOOKAHEAD_BYTES: usize = 64 << 20;

/// Prompts built ahead when each is cut on the server's tokenizer (a few
/// calls to it each, which a fast replay could outrun): built before the
/// clock starts, up to this many.
pub const COUNTED_LOOKAHEAD: usize = 8192;

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

/// A prepared request: its id, its time from the window's start, its prompt.
pub(crate) type Item = Result<(u64, u64, crate::backend::Prompt), TraceError>;

/// The requests of a replay, read and built ahead on a blocking thread.
pub(crate) struct Prepared {
    /// In trace order; an error ends them.
    pub rx: mpsc::Receiver<Item>,
    producer: tokio::task::JoinHandle<()>,
    /// How many are built ahead.
    ahead: usize,
    /// Bytes of prompt text built and not yet taken.
    bytes: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

impl TraceReplay {
    /// Starts reading the window's first `cap` requests (this shard's) and
    /// building their prompts, at most [`LOOKAHEAD`] ahead of the sender.
    pub(crate) fn prepare(&self, shard: Shard, cap: u64) -> Prepared {
        let ahead = match self.prompts.counter {
            Some(_) => COUNTED_LOOKAHEAD,
            None => LOOKAHEAD,
        };
        let (tx, rx) = mpsc::channel::<Item>(ahead);
        let (spec, mut prompts) = (self.spec.clone(), self.prompts.clone());
        let bytes = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let held = bytes.clone();
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
                // Within the byte budget (at least one prompt ahead).
                let size = item.as_ref().map_or(0, |(_, _, p)| p.text.len());
                while held.load(Ordering::Relaxed) > 0
                    && held.load(Ordering::Relaxed) + size > LOOKAHEAD_BYTES
                    && !tx.is_closed()
                {
                    std::thread::sleep(std::time::Duration::from_millis(1));
                }
                held.fetch_add(size, Ordering::Relaxed);
                if tx.blocking_send(item).is_err() || last {
                    return;
                }
            }
        });
        Prepared {
            rx,
            producer,
            ahead,
            bytes,
        }
    }

    /// Keeps `e`, which ended a replay early, for [`TraceReplay::take_error`].
    pub(crate) fn fail(&self, e: TraceError) {
        if let Ok(mut slot) = self.error.lock() {
            *slot = Some(e);
        }
    }
}

impl Prepared {
    /// A prepared request was taken: its prompt leaves the budget.
    pub(crate) fn taken(&self, prompt: &crate::backend::Prompt) {
        self.bytes.fetch_sub(prompt.text.len(), Ordering::Relaxed);
    }

    /// Waits until the look-ahead is full (or the window is shorter, or
    /// `stop`), so the first sends do not wait for their prompts.
    pub(crate) async fn filled(&self, stop: &tokio::sync::watch::Receiver<bool>) {
        while self.rx.len() < self.ahead
            && self.bytes.load(Ordering::Relaxed) < LOOKAHEAD_BYTES / 2
            && !self.producer.is_finished()
            && !*stop.borrow()
        {
            tokio::time::sleep(std::time::Duration::from_millis(1)).await;
        }
    }

    /// Stops the reading thread (if the replay ended early) and waits for it.
    pub(crate) async fn close(self) {
        drop(self.rx);
        let _ = self.producer.await;
    }
}
