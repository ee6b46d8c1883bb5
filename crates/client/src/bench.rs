//! One measured run: drive the load, collect every record, write raw results
//! as they arrive, and stop cleanly on Ctrl-C or SIGTERM (what Kubernetes
//! and most supervisors send): no new request starts, those in flight get
//! a grace period, then every record and the summary are written as after
//! a complete run. The binary asks for this ([`catch_signals`]); a process
//! that embeds the library (the tests) keeps the default handling. Once the
//! first run began, a signal is never lost: it also stops a later level (or
//! repeat) at once, and [`interrupted`] says which signal it was, for the
//! exit status.

use crate::load::{drive, Control, Driver, LoadPlan};
use crate::sink::JsonlSink;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, LazyLock, Once};
use std::time::Duration;
use tokenpace_core::record::RequestRecord;
use tokio::sync::{mpsc, watch};

/// What a run produced.
#[derive(Debug)]
pub struct BenchOutcome {
    /// Every request sent, in completion order.
    pub records: Vec<RequestRecord>,
    /// Whether the run was interrupted.
    pub partial: bool,
    /// Problems that did not stop the run (e.g. the records file could not
    /// be written).
    pub warnings: Vec<String>,
}

/// Where raw records go and how an interruption is handled.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// `requests.jsonl` is written here as requests finish, if set.
    pub records_file: Option<PathBuf>,
    /// After Ctrl-C, how long requests in flight may finish before they are
    /// cancelled.
    pub grace: Duration,
    /// Set when this run is one repeat of a level (`bench --repeat`).
    pub repeat: Option<RepeatTag>,
}

/// How the records of one repeat of a level are told apart: tagged with
/// the repeat, their ids moved past the earlier repeats', and appended to
/// the level's `requests.jsonl` after theirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RepeatTag {
    /// The repeat, from 0.
    pub index: u32,
    /// Added to every record's id (a multiple of the shard count, so a
    /// shard keeps its ids `i % N == I`).
    pub id_offset: u64,
}

/// The signal that interrupted a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Interrupt {
    /// SIGINT: Ctrl-C (exit status 130, as a shell reports it).
    Ctrl,
    /// SIGTERM: a supervisor asked the run to end (exit status 143).
    Term,
}

/// The first signal this process caught, once any did.
static INTERRUPT: LazyLock<watch::Sender<Option<Interrupt>>> =
    LazyLock::new(|| watch::channel(None).0);

/// Whether runs catch SIGINT and SIGTERM ([`catch_signals`]).
static CATCH: AtomicBool = AtomicBool::new(false);

/// Makes the runs of this process catch SIGINT and SIGTERM, from the first
/// run on, and end as after Ctrl-C. Before the first run starts, the
/// signals keep their default action: nothing is written yet.
pub fn catch_signals() {
    CATCH.store(true, Ordering::Relaxed);
}

/// The signal that interrupted a run in this process, if one did.
pub fn interrupted() -> Option<Interrupt> {
    *INTERRUPT.borrow()
}

/// Starts listening for SIGINT and SIGTERM (once per process, on a thread
/// of its own, so that a signal between two runs is kept too); what was
/// caught.
fn listen() -> watch::Receiver<Option<Interrupt>> {
    static LISTEN: Once = Once::new();
    LISTEN.call_once(|| {
        let (ready, registered) = std::sync::mpsc::channel();
        let spawned = std::thread::Builder::new()
            .name("tokenpace-signals".into())
            .spawn(move || {
                let Ok(runtime) = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                else {
                    return;
                };
                let signals = runtime.block_on(async { Signals::new() });
                let _ = ready.send(());
                if let Ok(signals) = signals {
                    runtime.block_on(signals.forward());
                }
            });
        // Registered before `run` goes on: no signal after it is missed.
        if spawned.is_ok() {
            let _ = registered.recv();
        }
    });
    INTERRUPT.subscribe()
}

/// The signals that end a run, registered.
struct Signals {
    #[cfg(unix)]
    int: tokio::signal::unix::Signal,
    #[cfg(unix)]
    term: tokio::signal::unix::Signal,
}

impl Signals {
    #[cfg(unix)]
    fn new() -> std::io::Result<Signals> {
        use tokio::signal::unix::{signal, SignalKind};
        Ok(Signals {
            int: signal(SignalKind::interrupt())?,
            term: signal(SignalKind::terminate())?,
        })
    }

    #[cfg(not(unix))]
    fn new() -> std::io::Result<Signals> {
        Ok(Signals {})
    }

    /// Keeps the first signal caught in [`INTERRUPT`].
    async fn forward(mut self) {
        while let Some(which) = self.next().await {
            // The first signal decides the exit status.
            INTERRUPT.send_if_modified(|v| {
                let first = v.is_none();
                if first {
                    *v = Some(which);
                }
                first
            });
        }
    }

    #[cfg(unix)]
    async fn next(&mut self) -> Option<Interrupt> {
        tokio::select! {
            Some(()) = self.int.recv() => Some(Interrupt::Ctrl),
            Some(()) = self.term.recv() => Some(Interrupt::Term),
            else => None,
        }
    }

    #[cfg(not(unix))]
    async fn next(&mut self) -> Option<Interrupt> {
        tokio::signal::ctrl_c().await.ok().map(|()| Interrupt::Ctrl)
    }
}

/// What to do after a request finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AfterRequest {
    /// Go on.
    Continue,
    /// Start no more requests and cancel those in flight: the run cannot
    /// succeed (a server that refuses what every request carries).
    Stop,
    /// Start no more requests; those in flight finish: the run has what it
    /// came for (`--until-precise`), and is complete.
    Enough,
}

/// Records written to `requests.jsonl` with one flush at most.
const MAX_BATCH: usize = 4096;

/// How long records gather when they come faster than one at a time.
const GATHER: std::time::Duration = std::time::Duration::from_millis(2);

/// The records of a run as they arrive, in memory and in the file.
struct Kept {
    sink: Option<JsonlSink>,
    repeat: Option<RepeatTag>,
    records: Vec<RequestRecord>,
    /// The first write that failed (the run goes on; the summary says so).
    write_error: Option<std::io::Error>,
}

impl Kept {
    /// Keeps `record` (numbered in its repeat) and buffers its line.
    fn add(&mut self, mut record: RequestRecord) -> &RequestRecord {
        if let Some(tag) = self.repeat {
            record.repeat = Some(tag.index);
            record.id += tag.id_offset;
        }
        if let Some(Err(e)) = self.sink.as_mut().map(|s| s.add(&record)) {
            self.write_error.get_or_insert(e);
        }
        self.records.push(record);
        &self.records[self.records.len() - 1]
    }

    /// Puts the buffered lines in the file.
    fn flush(&mut self) {
        if let Some(Err(e)) = self.sink.as_mut().map(JsonlSink::flush) {
            self.write_error.get_or_insert(e);
        }
    }
}

/// Keeps the records `rx` brings until the load ends, telling `on_record`
/// of each; an [`AfterRequest::Stop`] or [`AfterRequest::Enough`] sends the stop (and the
/// abort) once. Returns them and whether `on_record` stopped the run.
async fn collect(
    mut rx: mpsc::UnboundedReceiver<RequestRecord>,
    mut kept: Kept,
    on_record: &mut impl FnMut(&RequestRecord) -> AfterRequest,
    (stop_tx, abort_tx): (&watch::Sender<bool>, &watch::Sender<bool>),
) -> (Kept, bool) {
    let mut stopped = false;
    while let Some(first) = rx.recv().await {
        // The records that arrived together are written with one flush
        // (bounded, so a steady flow still reaches the file at once).
        let mut next = Some(first);
        let mut batch = 0;
        while let Some(record) = next.take() {
            let record = kept.add(record);
            match on_record(record) {
                _ if stopped => {}
                AfterRequest::Continue => {}
                AfterRequest::Stop => {
                    stopped = true;
                    let _ = stop_tx.send(true);
                    let _ = abort_tx.send(true);
                }
                AfterRequest::Enough => {
                    stopped = true;
                    let _ = stop_tx.send(true);
                }
            }
            batch += 1;
            if batch < MAX_BATCH {
                next = rx.try_recv().ok();
            }
        }
        kept.flush();
        // Records come faster than one at a time: let them gather for a
        // moment rather than wake this thread for each (a wake-up a record
        // was a fifth of the client's CPU at 10 000 requests/s). Their
        // times were taken where they were measured; only the file and the
        // progress see them up to this much later.
        if batch > 1 {
            tokio::time::sleep(GATHER).await;
        }
    }
    (kept, stopped)
}

/// Runs `plan` with `driver`, calling `on_record` for each finished request;
/// [`AfterRequest::Stop`] and [`AfterRequest::Enough`] end the run (it is then not partial:
/// the caller says why).
pub async fn run(
    driver: Arc<Driver>,
    plan: LoadPlan,
    options: RunOptions,
    mut on_record: impl FnMut(&RequestRecord) -> AfterRequest,
) -> anyhow::Result<BenchOutcome> {
    let sink = match (&options.records_file, options.repeat) {
        (Some(path), Some(tag)) if tag.index > 0 => Some(JsonlSink::append(path)?),
        (Some(path), _) => Some(JsonlSink::create(path)?),
        (None, _) => None,
    };
    let (stop_tx, stop) = watch::channel(false);
    let (abort_tx, abort) = watch::channel(false);
    let (stop_tx, abort_tx) = (Arc::new(stop_tx), Arc::new(abort_tx));
    let grace = options.grace;
    let (on_stop, on_abort) = (stop_tx.clone(), abort_tx.clone());
    let mut signals = if CATCH.load(Ordering::Relaxed) {
        listen()
    } else {
        INTERRUPT.subscribe()
    };
    let interrupt = tokio::spawn(async move {
        if signals.wait_for(Option::is_some).await.is_ok() {
            let _ = on_stop.send(true);
            tokio::time::sleep(grace).await;
            let _ = on_abort.send(true);
        }
    });
    let (tx, rx) = mpsc::unbounded_channel();
    let load = tokio::spawn(drive(
        driver,
        plan,
        Control {
            stop: stop.clone(),
            abort,
        },
        tx,
    ));
    let kept = Kept {
        sink,
        repeat: options.repeat,
        records: Vec::new(),
        write_error: None,
    };
    let (kept, stopped) = collect(rx, kept, &mut on_record, (&stop_tx, &abort_tx)).await;
    load.await?;
    let partial = *stop.borrow() && !stopped;
    interrupt.abort();
    let Kept {
        records,
        write_error,
        ..
    } = kept;
    let warnings = write_error
        .map(|e| format!("could not write requests.jsonl ({e}): the summary is complete, the raw file is not; check the disk"))
        .into_iter()
        .collect();
    Ok(BenchOutcome {
        records,
        partial,
        warnings,
    })
}
