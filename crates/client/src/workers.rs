//! Where the load's streams run: one single-threaded runtime per core, each
//! on its own thread, with the streams dealt out among them.
//!
//! Why not tokio's work-stealing runtime: under a burst of chunks its idle
//! workers park and wake each other (a futex round trip per hand-off), and
//! that, not parsing, was most of the client's CPU per chunk. A stream
//! pinned to one thread has its socket events, its task and its timers on
//! that thread: a chunk costs a read and a parse, not a thread wake-up.

use std::cell::Cell;
use std::sync::Arc;
use std::thread::JoinHandle;
use tokio::runtime::Handle;
use tokio::sync::oneshot;

/// A fixed set of single-threaded runtimes, stopped when dropped.
#[derive(Debug)]
pub struct Workers {
    handles: Vec<Handle>,
    stops: Vec<oneshot::Sender<()>>,
    threads: Vec<JoinHandle<()>>,
}

impl Workers {
    /// `n` runtimes (at least one) on threads of their own.
    pub fn start(n: usize) -> std::io::Result<Arc<Workers>> {
        let mut workers = Workers {
            handles: Vec::new(),
            stops: Vec::new(),
            threads: Vec::new(),
        };
        for i in 0..n.max(1) {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                // Streams handed over by the driver (a cold burst's starts)
                // and reads of started ones take turns: by default a start
                // waits up to 31 reads, late by every one. Starts first
                // always (1) was worse: a read is dated by the kernel's
                // stamp whatever its wait, but only until the server's next
                // write to that socket, which the kernel merges into the
                // unread segment and stamps anew. At 10 000 streams the
                // burst takes half a second, first tokens came back long
                // before it ended, and each was dated by a later chunk
                // (TTFT error p99 150–200 ms; 0.4 ms taking turns).
                .global_queue_interval(2)
                .build()?;
            let (stop, stopped) = oneshot::channel::<()>();
            workers.handles.push(runtime.handle().clone());
            workers.stops.push(stop);
            let thread = std::thread::Builder::new()
                .name(format!("tokenpace-load-{i}"))
                // Tasks spawned on a current-thread runtime run while its
                // thread is inside `block_on`.
                .spawn(move || {
                    WORKER.with(|w| w.set(Some(i)));
                    let _ = runtime.block_on(stopped);
                })?;
            workers.threads.push(thread);
        }
        Ok(Arc::new(workers))
    }

    /// One runtime per core this process may use.
    pub fn per_core() -> std::io::Result<Arc<Workers>> {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        Workers::start(cores)
    }

    /// CPU time the load's threads have used so far, seconds (user and
    /// system): the client's own work, without any server that shares the
    /// process (the embedded engine, the self-test's simulator).
    pub fn cpu_s(&self) -> Option<f64> {
        let mut total = 0.0;
        for t in &self.threads {
            total += thread_cpu_s(t)?;
        }
        Some(total)
    }

    /// How many runtimes there are.
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Never true: there is always at least one runtime.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }

    /// The runtime the `i`-th stream runs on (dealt round-robin).
    pub fn handle(&self, i: usize) -> &Handle {
        &self.handles[i % self.handles.len()]
    }
}

thread_local! {
    static WORKER: Cell<Option<usize>> = const { Cell::new(None) };
}

/// The index of the worker runtime this thread runs, if it is one: a
/// connection is best reused on the runtime whose reactor it is registered
/// with.
pub fn current() -> Option<usize> {
    WORKER.with(Cell::get)
}

impl Drop for Workers {
    fn drop(&mut self) {
        for stop in self.stops.drain(..) {
            let _ = stop.send(());
        }
        // Joined unless dropped on one of its own threads (which would
        // wait for itself); those threads end by themselves.
        let me = std::thread::current().id();
        if self.threads.iter().all(|t| t.thread().id() != me) {
            for thread in self.threads.drain(..) {
                let _ = thread.join();
            }
        }
    }
}

/// CPU time `thread` has used, seconds.
#[cfg(unix)]
fn thread_cpu_s(thread: &JoinHandle<()>) -> Option<f64> {
    use std::os::unix::thread::JoinHandleExt;
    let mut clock: libc::clockid_t = 0;
    // SAFETY: the thread is alive (joined only on drop) and `clock` is a
    // valid place for its CPU clock's id.
    if unsafe { libc::pthread_getcpuclockid(thread.as_pthread_t(), &mut clock) } != 0 {
        return None;
    }
    // SAFETY: an all-zero timespec is valid; clock_gettime fills it.
    let mut ts: libc::timespec = unsafe { std::mem::zeroed() };
    if unsafe { libc::clock_gettime(clock, &mut ts) } != 0 {
        return None;
    }
    Some(ts.tv_sec as f64 + ts.tv_nsec as f64 / 1e9)
}

#[cfg(not(unix))]
fn thread_cpu_s(_: &JoinHandle<()>) -> Option<f64> {
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn streams_are_dealt_over_threads_of_their_own_and_stop_on_drop() {
        let workers = Workers::start(2).unwrap();
        assert_eq!(workers.len(), 2);
        let outer = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let names = outer.block_on(async {
            let mut names = Vec::new();
            for i in 0..4 {
                let h = workers
                    .handle(i)
                    .spawn(async { std::thread::current().name().unwrap_or("").to_string() });
                names.push(h.await.unwrap());
            }
            names
        });
        assert_eq!(
            names,
            [
                "tokenpace-load-0",
                "tokenpace-load-1",
                "tokenpace-load-0",
                "tokenpace-load-1"
            ]
        );
        // Dropping joins the threads: a hang here fails the test by timeout.
        drop(workers);
    }

    /// A read woken while a cold burst's starts are still queued runs after
    /// a start or two, not after the whole burst (by then the server may
    /// have written again, and the kernel dates the merged bytes by the
    /// later write).
    #[test]
    fn a_woken_read_does_not_wait_for_a_whole_burst_of_starts() {
        use std::sync::{mpsc, Mutex};
        let workers = Workers::start(1).unwrap();
        let worker = workers.handle(0).clone();
        let order = Arc::new(Mutex::new(Vec::new()));
        let bytes = Arc::new(tokio::sync::Notify::new());
        let (parked, is_parked) = mpsc::channel();
        let (o, b) = (order.clone(), bytes.clone());
        worker.spawn(async move {
            let arrived = b.notified();
            parked.send(()).unwrap();
            arrived.await;
            o.lock().unwrap().push("read");
        });
        is_parked.recv().unwrap();
        // The worker is held until the whole burst is queued.
        let (open, gate) = mpsc::channel::<()>();
        worker.spawn(async move { gate.recv().unwrap() });
        const STARTS: usize = 40;
        for i in 0..STARTS {
            let (o, b) = (order.clone(), bytes.clone());
            worker.spawn(async move {
                if i == 0 {
                    // Woken on the worker, as the reactor wakes a read.
                    b.notify_one();
                }
                let until = std::time::Instant::now() + std::time::Duration::from_micros(200);
                while std::time::Instant::now() < until {}
                o.lock().unwrap().push("start");
            });
        }
        open.send(()).unwrap();
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while order.lock().unwrap().len() < STARTS + 1 && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        let order = order.lock().unwrap().clone();
        let read_at = order.iter().position(|&x| x == "read");
        assert!(
            read_at.is_some_and(|i| i <= 3),
            "the read ran at {read_at:?} of {} tasks",
            order.len()
        );
    }
}
