//! Continuous batching: at most `max_batch` streams are decoded at once;
//! the rest wait in FIFO order, and their wait is part of their TTFT.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Admission control and the current batch size.
#[derive(Debug)]
pub struct Batcher {
    slots: Arc<Semaphore>,
    active: Arc<AtomicUsize>,
    waiting: Arc<AtomicUsize>,
}

/// A stream's place in the batch; leaving it frees the slot.
#[derive(Debug)]
pub struct Admission {
    _permit: OwnedSemaphorePermit,
    active: Arc<AtomicUsize>,
    /// Streams in the batch right after this one was admitted.
    pub batch_at_admission: usize,
}

impl Drop for Admission {
    fn drop(&mut self) {
        self.active.fetch_sub(1, Ordering::AcqRel);
    }
}

struct Waiting(Arc<AtomicUsize>);

impl Drop for Waiting {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::AcqRel);
    }
}

impl Batcher {
    /// A batcher with `max_batch` slots (at least 1).
    pub fn new(max_batch: usize) -> Self {
        Batcher {
            slots: Arc::new(Semaphore::new(max_batch.clamp(1, Semaphore::MAX_PERMITS))),
            active: Arc::new(AtomicUsize::new(0)),
            waiting: Arc::new(AtomicUsize::new(0)),
        }
    }

    /// Waits for a slot (first come, first served).
    pub async fn admit(&self) -> Admission {
        self.waiting.fetch_add(1, Ordering::AcqRel);
        let waiting = Waiting(Arc::clone(&self.waiting));
        let permit = match Arc::clone(&self.slots).acquire_owned().await {
            Ok(p) => p,
            // The semaphore is never closed; this arm only satisfies the type.
            Err(_) => unreachable!("batch semaphore closed"),
        };
        drop(waiting);
        let batch = self.active.fetch_add(1, Ordering::AcqRel) + 1;
        Admission {
            _permit: permit,
            active: Arc::clone(&self.active),
            batch_at_admission: batch,
        }
    }

    /// Streams admitted now.
    pub fn active(&self) -> usize {
        self.active.load(Ordering::Acquire)
    }

    /// Requests waiting for a slot now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Ordering::Acquire)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn queues_beyond_max_batch() {
        let b = Arc::new(Batcher::new(2));
        let a1 = b.admit().await;
        let a2 = b.admit().await;
        assert_eq!(b.active(), 2);
        let b2 = Arc::clone(&b);
        let third = tokio::spawn(async move { b2.admit().await.batch_at_admission });
        tokio::task::yield_now().await;
        tokio::time::sleep(std::time::Duration::from_millis(5)).await;
        assert_eq!(b.waiting(), 1);
        drop(a1);
        assert_eq!(third.await.unwrap(), 2);
        drop(a2);
        assert_eq!(b.active(), 0);
        assert_eq!(b.waiting(), 0);
    }
}
