//! The load loop: when to send which request. Closed loop keeps N requests
//! in flight; open loop sends on a schedule (Poisson or evenly spaced) no
//! matter how the server keeps up, and records how late each send was, so
//! coordinated omission is visible rather than hidden.

use crate::backend::{Backend, Prompt};
use crate::clock::RunClock;
use crate::request::{execute_prepared, How, Prepared, Stamp, Target, Timeouts};
use crate::session::{Sessions, Signals};
use crate::trace::replay::TraceReplay;
use crate::workers::Workers;
use crate::workload::PromptSource;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::Duration;
use tokenpace_core::record::{Nanos, RequestRecord};
use tokenpace_core::shard::Shard;
use tokenpace_corpus::SplitMix64;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinSet;

/// How requests arrive in an open loop.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arrival {
    /// Exponential gaps: independent users.
    Poisson,
    /// Equal gaps.
    Constant,
}

/// How load is applied.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Load {
    /// Keep this many requests in flight.
    Closed {
        /// Requests in flight.
        concurrency: u32,
    },
    /// Start requests at this rate regardless of completions.
    Open {
        /// Requests per second.
        rate: f64,
        /// Gap distribution.
        arrival: Arrival,
    },
    /// Replay the driver's trace at its times divided by `speed`.
    Trace {
        /// 2 sends twice as fast as the trace did.
        speed: f64,
    },
}

/// How much load, for how long.
#[derive(Debug, Clone, Copy)]
pub struct LoadPlan {
    /// The pattern.
    pub load: Load,
    /// Requests (or sessions, when the driver runs sessions) to send at
    /// most.
    pub requests: u64,
    /// Stop starting requests after this long, if set.
    pub duration: Option<Duration>,
    /// Seed for arrival times.
    pub seed: u64,
    /// Closed loop: start the streams evenly over this long instead of all
    /// at once (real users do not all press enter in the same millisecond).
    pub ramp_up: Duration,
    /// Which request ids of `0..requests` this process sends (`i % N == I`);
    /// the load (concurrency or rate) is already this shard's share.
    pub shard: Shard,
}

/// Everything a request needs, shared by all tasks.
pub struct Driver {
    /// The HTTP client.
    pub client: crate::request::HttpClient,
    /// Where to send.
    pub target: Target,
    /// The protocol.
    pub backend: Arc<dyn Backend>,
    /// What to send.
    pub workload: Arc<dyn PromptSource>,
    /// Per-request limits.
    pub timeouts: Timeouts,
    /// The run clock.
    pub clock: RunClock,
    /// Set when each unit of load is a session (or agent task) rather
    /// than one request.
    pub sessions: Option<Arc<Sessions>>,
    /// The trace [`Load::Trace`] replays (its prompts replace `workload`'s).
    pub trace: Option<Arc<TraceReplay>>,
    /// The runtimes the streams run on, dealt round-robin; `None`: the
    /// caller's runtime.
    pub workers: Option<Arc<Workers>>,
    /// The end of the run under way (`--duration`, run-clock ns; 0: none),
    /// set as it starts: no throttled request is retried after it.
    pub run_end: AtomicU64,
}

/// Signals from outside the loop: `stop` ends the starting of new requests,
/// `abort` cancels those in flight.
#[derive(Debug, Clone)]
pub struct Control {
    /// Stop starting requests.
    pub stop: watch::Receiver<bool>,
    /// Cancel requests in flight.
    pub abort: watch::Receiver<bool>,
}

impl Driver {
    /// Spawns the `i`-th unit of load on its worker (or the caller's
    /// runtime).
    fn spawn<F>(&self, tasks: &mut JoinSet<()>, i: u64, task: F)
    where
        F: std::future::Future<Output = ()> + Send + 'static,
    {
        match &self.workers {
            Some(w) => tasks.spawn_on(task, w.handle(i as usize)),
            None => tasks.spawn(task),
        };
    }

    /// How this driver's requests are sent.
    fn how(&self, transcript: bool) -> How<'_> {
        let mut timeouts = self.timeouts;
        if let Some(retry) = timeouts.retry_throttled.as_mut() {
            let end = self.run_end.load(Ordering::Relaxed);
            retry.until = (end > 0).then_some(end);
        }
        How {
            client: &self.client,
            target: &self.target,
            backend: self.backend.as_ref(),
            clock: &self.clock,
            timeouts,
            tokenizer: self.workload.tokenizer(),
            transcript,
        }
    }

    /// Request `id` with its prompt, built ready to send.
    fn prepare(&self, id: u64) -> (Prompt, Prepared) {
        let prompt = self.workload.prompt(id);
        let ready = Prepared::new(&self.how(false), &prompt, id);
        (prompt, ready)
    }

    /// Runs unit `id` of the load (a request, or a whole session) and sends
    /// its records; a single request is sent as `prepared` when given.
    /// Returns false when no one is listening any more.
    async fn unit(
        &self,
        at: Stamp,
        control: &Control,
        records: &mpsc::UnboundedSender<RequestRecord>,
        prepared: Option<(Prompt, Prepared)>,
    ) -> bool {
        match &self.sessions {
            Some(s) => {
                let signals = Signals {
                    stop: &control.stop,
                    abort: &control.abort,
                };
                s.run(self.how(true), at.id, at.scheduled_ns, signals, records)
                    .await
            }
            None => {
                let (prompt, ready) = prepared.unwrap_or_else(|| self.prepare(at.id));
                let abort = control.abort.clone();
                let (record, _) =
                    execute_prepared(self.how(false), &prompt, ready, at, abort).await;
                records.send(record).is_ok()
            }
        }
    }
}

/// Applies `plan`, sending every record to `records` as its request ends.
/// Returns when every started request has ended.
pub async fn drive(
    driver: Arc<Driver>,
    plan: LoadPlan,
    control: Control,
    records: mpsc::UnboundedSender<RequestRecord>,
) {
    reserve_descriptors(&plan);
    let end = plan
        .duration
        .map(|d| driver.clock.now() + d.as_nanos() as Nanos);
    driver.run_end.store(end.unwrap_or(0), Ordering::Relaxed);
    let mut tasks = JoinSet::new();
    match plan.load {
        Load::Closed { concurrency } => {
            closed_loop(
                &driver,
                plan,
                concurrency,
                end,
                &control,
                &records,
                &mut tasks,
            );
        }
        Load::Open { rate, arrival } => {
            let gaps = (rate, arrival);
            open_loop(&driver, plan, gaps, end, &control, &records, &mut tasks).await;
        }
        Load::Trace { speed } => {
            if let Some(trace) = driver.trace.clone() {
                let plan = (speed, plan.shard, plan.requests, end);
                replay(&driver, &trace, plan, &control, &records, &mut tasks).await;
            }
        }
    }
    while tasks.join_next().await.is_some() {}
}

/// Makes room in the descriptor table (and the open-files limit) for every
/// connection of a burst, before any is opened: growing the table under
/// way stalls every thread opening a socket for an RCU grace period per
/// doubling (see `tokenpace_wire::fds`).
fn reserve_descriptors(plan: &LoadPlan) {
    let burst = match plan.load {
        Load::Closed { concurrency } => u64::from(concurrency.max(1)),
        // Sends spread over time, but a trace may start many at once.
        Load::Open { .. } | Load::Trace { .. } => plan.shard.requests(plan.requests).min(4096),
    };
    tokenpace_wire::fds::reserve(burst as usize);
}

/// Whether `now` is at or past the end of the run (`--duration`).
fn past(end: Option<Nanos>, now: Nanos) -> bool {
    end.is_some_and(|e| now >= e)
}

/// Starts `concurrency` streams into `tasks`, each sending its next
/// request (or session) as soon as its last ends, none after `end`.
fn closed_loop(
    driver: &Arc<Driver>,
    plan: LoadPlan,
    concurrency: u32,
    end: Option<Nanos>,
    control: &Control,
    records: &mpsc::UnboundedSender<RequestRecord>,
    tasks: &mut JoinSet<()>,
) {
    let streams = concurrency.max(1);
    let prepared = first_wave(driver, &plan, streams);
    let next = Arc::new(AtomicU64::new(u64::from(streams)));
    let start = driver.clock.now();
    for (index, first) in (0..streams).zip(prepared) {
        let stream = ClosedStream {
            index,
            start,
            offset: plan.ramp_up.as_nanos() as Nanos * u64::from(index) / u64::from(streams),
            first,
            next: next.clone(),
        };
        let task = stream.run(driver.clone(), plan, end, control.clone(), records.clone());
        driver.spawn(tasks, u64::from(index), task);
    }
}

/// The closed loop's first wave: stream s sends request s first, built
/// (prompt, body, headers) before the clock starts, so a cold burst goes
/// out at the pace of connects and writes alone (none for sessions).
fn first_wave(driver: &Driver, plan: &LoadPlan, streams: u32) -> Vec<Option<(Prompt, Prepared)>> {
    let first_wave = u64::from(streams).min(plan.shard.requests(plan.requests));
    let mut prepared: Vec<Option<(Prompt, Prepared)>> = (0..first_wave)
        .map(|k| match &driver.sessions {
            None => Some(driver.prepare(plan.shard.id(k))),
            Some(_) => None,
        })
        .collect();
    prepared.resize_with(streams as usize, || None);
    prepared
}

/// One stream of a closed loop: its first request, then whichever is next
/// when it is free.
struct ClosedStream {
    /// Its number, from 0; also the shard's request it sends first.
    index: u32,
    /// When the loop started.
    start: Nanos,
    /// How long after `start` this stream starts (`--ramp-up`).
    offset: Nanos,
    /// Its first request, built ready to send.
    first: Option<(Prompt, Prepared)>,
    /// The shard's next request not yet taken by a stream.
    next: Arc<AtomicU64>,
}

impl ClosedStream {
    /// Sends requests one after another until the shard's are all taken,
    /// `stop`, or `end`.
    async fn run(
        self,
        driver: Arc<Driver>,
        plan: LoadPlan,
        end: Option<Nanos>,
        control: Control,
        records: mpsc::UnboundedSender<RequestRecord>,
    ) {
        let ClosedStream {
            index,
            start,
            offset,
            mut first,
            next,
        } = self;
        // Without a ramp every stream starts now: no timer, whose
        // wake-up would send the task to the back of the queue.
        if offset > 0
            && !driver
                .clock
                .wait_until(start + offset, &mut control.stop.clone())
                .await
        {
            return;
        }
        let mut k = u64::from(index);
        loop {
            if *control.stop.borrow() || past(end, driver.clock.now()) {
                break;
            }
            let id = plan.shard.id(k);
            if id >= plan.requests {
                break;
            }
            // A stream's first request is due when the stream is
            // (a late start is the client's own wait, and shows
            // as schedule lag); after that the closed loop's slot
            // is free now, so this is the schedule.
            let prompt = first.take();
            let scheduled = match k == u64::from(index) {
                true => start + offset,
                false => driver.clock.now(),
            };
            let at = Stamp {
                id,
                scheduled_ns: scheduled,
            };
            if !driver.unit(at, &control, &records, prompt).await {
                break;
            }
            k = next.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// Starts requests into `tasks` at `rate` per second with `arrival`'s
/// gaps, whether or not earlier ones have ended, none after `end`.
async fn open_loop(
    driver: &Arc<Driver>,
    plan: LoadPlan,
    (rate, arrival): (f64, Arrival),
    end: Option<Nanos>,
    control: &Control,
    records: &mpsc::UnboundedSender<RequestRecord>,
    tasks: &mut JoinSet<()>,
) {
    // Shards draw independent arrivals: N Poisson streams of rate r/N
    // make one of rate r (the same draws would send in lockstep).
    let mut rng = SplitMix64::new(
        plan.seed ^ u64::from(plan.shard.index).wrapping_mul(0x9E37_79B9_7F4A_7C15),
    );
    let mut at: f64 = 0.0;
    let start = driver.clock.now();
    let mut stop = control.stop.clone();
    for k in 0..plan.shard.requests(plan.requests) {
        let id = plan.shard.id(k);
        if k > 0 {
            at += match arrival {
                Arrival::Constant => 1.0 / rate,
                // 1 − U is in (0, 1], so the logarithm is finite.
                Arrival::Poisson => -(1.0 - rng.next_f64()).ln() / rate,
            };
        }
        let scheduled = start + (at * 1e9) as Nanos;
        if past(end, scheduled) {
            break;
        }
        // Built while waiting for its time, not after.
        let prepared = driver.sessions.is_none().then(|| driver.prepare(id));
        if !driver.clock.until_hand_over(scheduled, &mut stop).await {
            break;
        }
        let (task_driver, records, control) = (driver.clone(), records.clone(), control.clone());
        driver.spawn(tasks, k, async move {
            if !task_driver
                .clock
                .wait_until(scheduled, &mut control.stop.clone())
                .await
            {
                return;
            }
            let at = Stamp {
                id,
                scheduled_ns: scheduled,
            };
            task_driver.unit(at, &control, &records, prepared).await;
        });
    }
}

/// Starts the trace's requests (the first `requests` of its window, this
/// shard's) at their times ÷ `speed`, none after `end`, into `tasks`.
async fn replay(
    driver: &Arc<Driver>,
    trace: &TraceReplay,
    (speed, shard, requests, end): (f64, Shard, u64, Option<Nanos>),
    control: &Control,
    records: &mpsc::UnboundedSender<RequestRecord>,
    tasks: &mut JoinSet<()>,
) {
    let mut prepared = trace.prepare(shard, requests);
    let mut stop = control.stop.clone();
    prepared.filled(&stop).await;
    let start = driver.clock.now();
    while let Some(item) = prepared.rx.recv().await {
        let (id, at_ns, prompt) = match item {
            Ok(x) => {
                prepared.taken(&x.2);
                x
            }
            Err(e) => {
                trace.fail(e);
                break;
            }
        };
        let scheduled = start + (at_ns as f64 / speed) as Nanos;
        if end.is_some_and(|e| scheduled >= e) {
            break;
        }
        let ready = Prepared::new(&driver.how(false), &prompt, id);
        if !driver.clock.until_hand_over(scheduled, &mut stop).await {
            break;
        }
        let (task_driver, records, abort, mut stop) = (
            driver.clone(),
            records.clone(),
            control.abort.clone(),
            stop.clone(),
        );
        driver.spawn(tasks, id, async move {
            let driver = task_driver;
            if !driver.clock.wait_until(scheduled, &mut stop).await {
                return;
            }
            let at = Stamp {
                id,
                scheduled_ns: scheduled,
            };
            let (record, _) = execute_prepared(driver.how(false), &prompt, ready, at, abort).await;
            let _ = records.send(record);
        });
    }
    prepared.close().await;
}
