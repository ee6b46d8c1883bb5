//! A sub-millisecond timer for chunk deadlines.
//!
//! tokio's timer wheel has 1 ms resolution and rounds deadlines up, so a
//! chunk would be written up to ~1 ms late. Here one thread keeps a heap of
//! deadlines and sleeps on a condition variable with a nanosecond timeout
//! (timer slack set to 1 ns on Linux), optionally spinning the last few
//! microseconds, then wakes the task. A deadline never fires early.

use std::cmp::Reverse;
use std::collections::BinaryHeap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::task::{Context, Poll, Waker};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

/// The timer: cheap to clone a [`TimerHandle`] from, stops its thread on drop.
#[derive(Debug)]
pub struct PreciseTimer {
    shared: Arc<Shared>,
    thread: Option<JoinHandle<()>>,
}

/// A handle to schedule sleeps on a [`PreciseTimer`] (or, for comparison,
/// on tokio's own timer).
#[derive(Debug, Clone)]
pub struct TimerHandle {
    /// `None`: sleep on tokio's timer.
    shared: Option<Arc<Shared>>,
}

#[derive(Debug, Default)]
struct Shared {
    state: Mutex<State>,
    changed: Condvar,
}

#[derive(Debug, Default)]
struct State {
    heap: BinaryHeap<Reverse<Entry>>,
    seq: u64,
    stop: bool,
}

#[derive(Debug)]
struct Entry {
    at: Instant,
    seq: u64,
    slot: Arc<Slot>,
}

impl PartialEq for Entry {
    fn eq(&self, other: &Self) -> bool {
        (self.at, self.seq) == (other.at, other.seq)
    }
}
impl Eq for Entry {}
impl PartialOrd for Entry {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Entry {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        (self.at, self.seq).cmp(&(other.at, other.seq))
    }
}

#[derive(Debug, Default)]
struct Slot {
    fired: AtomicBool,
    waker: Mutex<Option<Waker>>,
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    // A panic elsewhere must not stop the timer: the data stays consistent.
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

impl PreciseTimer {
    /// Starts the timer thread; it spins `spin` before each deadline.
    pub fn start(spin: Duration) -> std::io::Result<Self> {
        let shared = Arc::new(Shared::default());
        let thread_shared = Arc::clone(&shared);
        let thread = std::thread::Builder::new()
            .name("tokenpace-sim-timer".into())
            .spawn(move || run(&thread_shared, spin))?;
        Ok(PreciseTimer {
            shared,
            thread: Some(thread),
        })
    }

    /// A handle for scheduling sleeps.
    pub fn handle(&self) -> TimerHandle {
        TimerHandle {
            shared: Some(Arc::clone(&self.shared)),
        }
    }
}

impl Drop for PreciseTimer {
    fn drop(&mut self) {
        lock(&self.shared.state).stop = true;
        self.shared.changed.notify_one();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl TimerHandle {
    /// A handle whose sleeps use tokio's timer (1 ms resolution, rounds
    /// up), to measure what the precise timer buys.
    pub fn tokio() -> Self {
        TimerHandle { shared: None }
    }

    /// A future that completes at `at` or just after, never before.
    pub fn sleep_until(&self, at: Instant) -> Sleep {
        Sleep(match &self.shared {
            Some(shared) => SleepKind::Precise(PreciseSleep {
                shared: Arc::clone(shared),
                at,
                slot: None,
            }),
            None => SleepKind::Tokio(Box::pin(tokio::time::sleep_until(at.into()))),
        })
    }
}

/// Trickled writes (the slow-loris fault) keep their byte gaps on this
/// timer too.
impl tokenpace_wire::http::Pacer for TimerHandle {
    fn sleep_until(&self, at: Instant) -> Pin<Box<dyn Future<Output = ()> + Send + '_>> {
        Box::pin(TimerHandle::sleep_until(self, at))
    }
}

/// A sleep on a [`TimerHandle`].
#[derive(Debug)]
pub struct Sleep(SleepKind);

#[derive(Debug)]
enum SleepKind {
    Precise(PreciseSleep),
    Tokio(Pin<Box<tokio::time::Sleep>>),
}

impl Future for Sleep {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &mut self.get_mut().0 {
            SleepKind::Precise(p) => Pin::new(p).poll(cx),
            SleepKind::Tokio(t) => t.as_mut().poll(cx),
        }
    }
}

/// A sleep on the precise timer.
#[derive(Debug)]
struct PreciseSleep {
    shared: Arc<Shared>,
    at: Instant,
    slot: Option<Arc<Slot>>,
}

impl Future for PreciseSleep {
    type Output = ();

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        match &self.slot {
            None => {
                if Instant::now() >= self.at {
                    return Poll::Ready(());
                }
                let slot = Arc::new(Slot {
                    fired: AtomicBool::new(false),
                    waker: Mutex::new(Some(cx.waker().clone())),
                });
                let mut state = lock(&self.shared.state);
                state.seq += 1;
                let entry = Entry {
                    at: self.at,
                    seq: state.seq,
                    slot: Arc::clone(&slot),
                };
                let earliest = state.heap.peek().is_none_or(|Reverse(e)| entry.at < e.at);
                state.heap.push(Reverse(entry));
                drop(state);
                if earliest {
                    self.shared.changed.notify_one();
                }
                self.slot = Some(slot);
                Poll::Pending
            }
            Some(slot) => {
                if slot.fired.load(Ordering::Acquire) {
                    return Poll::Ready(());
                }
                let mut waker = lock(&slot.waker);
                match waker.as_ref() {
                    Some(w) if w.will_wake(cx.waker()) => {}
                    _ => *waker = Some(cx.waker().clone()),
                }
                drop(waker);
                // The timer may have fired between the check and the store.
                if slot.fired.load(Ordering::Acquire) {
                    Poll::Ready(())
                } else {
                    Poll::Pending
                }
            }
        }
    }
}

fn run(shared: &Shared, spin: Duration) {
    set_fine_timer_slack();
    let mut due: Vec<Waker> = Vec::new();
    let mut state = lock(&shared.state);
    loop {
        if state.stop {
            return;
        }
        let now = Instant::now();
        while let Some(Reverse(top)) = state.heap.peek() {
            if top.at > now {
                break;
            }
            if let Some(Reverse(entry)) = state.heap.pop() {
                entry.slot.fired.store(true, Ordering::Release);
                if let Some(w) = lock(&entry.slot.waker).take() {
                    due.push(w);
                }
            }
        }
        if !due.is_empty() {
            drop(state);
            due.drain(..).for_each(Waker::wake);
            state = lock(&shared.state);
            continue;
        }
        let next = state.heap.peek().map(|Reverse(e)| e.at);
        state = match next {
            None => shared
                .changed
                .wait(state)
                .unwrap_or_else(PoisonError::into_inner),
            Some(at) => {
                let left = at.saturating_duration_since(now);
                if left > spin {
                    shared
                        .changed
                        .wait_timeout(state, left - spin)
                        .unwrap_or_else(PoisonError::into_inner)
                        .0
                } else {
                    drop(state);
                    std::hint::spin_loop();
                    lock(&shared.state)
                }
            }
        };
    }
}

/// Linux delays timed sleeps by up to 50 µs ("timer slack") to batch
/// wake-ups; this thread wants its wake-ups exact.
fn set_fine_timer_slack() {
    #[cfg(target_os = "linux")]
    // SAFETY: PR_SET_TIMERSLACK takes one integer argument and only changes
    // this thread's timer slack.
    unsafe {
        libc::prctl(libc::PR_SET_TIMERSLACK, 1 as libc::c_ulong, 0, 0, 0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn fires_in_order_never_early_and_precisely() {
        let timer = PreciseTimer::start(Duration::ZERO).unwrap();
        let h = timer.handle();
        let start = Instant::now();
        let mut late = Vec::new();
        for i in 1..=40u32 {
            let at = start + Duration::from_micros(2500) * i;
            h.sleep_until(at).await;
            let now = Instant::now();
            assert!(now >= at);
            late.push(now - at);
        }
        late.sort();
        // Generous bound for a loaded CI machine; the bench measures properly.
        assert!(late[late.len() / 2] < Duration::from_millis(1), "{late:?}");
    }

    #[tokio::test]
    async fn tokio_mode_never_fires_early_either() {
        let h = TimerHandle::tokio();
        let at = Instant::now() + Duration::from_millis(3);
        h.sleep_until(at).await;
        assert!(Instant::now() >= at);
    }

    #[tokio::test]
    async fn past_deadline_is_ready_at_once() {
        let timer = PreciseTimer::start(Duration::ZERO).unwrap();
        let past = Instant::now() - Duration::from_millis(50);
        let start = Instant::now();
        timer.handle().sleep_until(past).await;
        let waited = start.elapsed();
        // A deadline already gone: no timer wheel tick, no sleep.
        assert!(waited < Duration::from_millis(5), "waited {waited:?}");
    }
}
