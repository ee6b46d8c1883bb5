//! `bench --self-test`: this machine's ceiling. The built-in simulator runs
//! in this process; cold bursts of more and more streams measure the
//! client's timing error against the simulator's truth
//! ([`crate::self_check`]), until an error passes 1 ms or the client
//! crosses a limit of its own ([`tokenpace_core::ceiling`]); then a closed
//! loop of two-token requests measures the requests per second it keeps.

use crate::self_check::{compare, peak_in_flight, simulator, Probe, TimingError};
use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use std::time::{Duration, Instant};
use tokenpace_core::ceiling::{self, Ceiling, ClientFigures, ClientLimit, Cpu, InFlight};
use tokenpace_core::record::RequestRecord;

/// The stream counts tried, smallest first.
pub const STREAMS: [u32; 4] = [100, 300, 1000, 3000];

/// A timing error (TTFT or chunk gap, p99) above this is not exact, ms.
pub const EXACT_MS: f64 = 1.0;

/// No new level starts after this long: the whole test stays near a minute.
const BUDGET: Duration = Duration::from_secs(45);

/// Tokens per request in a burst, and the simulator's decode rate: 16
/// chunks 20 ms apart, so gaps are compared while every stream is open.
const TOKENS: u32 = 16;
const DECODE: f64 = 50.0;

/// One level of the self-test.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SelfTestLevel {
    /// Concurrent streams (one burst of one request each, after a warm-up
    /// that opened their connections), or, for the requests/s loop, the
    /// streams it kept.
    pub streams: u32,
    /// The client's timing error against the simulator's truth.
    pub error: TimingError,
    /// Most requests in flight at once.
    pub peak_in_flight: usize,
    /// Requests per second (the closed loop only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_s: Option<f64>,
    /// The client's load threads' CPU over the level (the simulator's
    /// threads, in the same process, are not counted).
    pub cpu: Option<Cpu>,
    /// Limits of the client crossed.
    pub limits: Vec<ClientLimit>,
    /// Whether the numbers stayed exact: both errors within 1 ms, every
    /// request answered and no limit crossed.
    pub exact: bool,
}

/// This machine's ceiling.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SelfTest {
    /// The bursts, in order (the last one the first not exact, if any was).
    pub bursts: Vec<SelfTestLevel>,
    /// The closed loop of two-token requests.
    pub loop_level: Option<SelfTestLevel>,
    /// The most streams whose numbers stayed exact.
    pub exact_streams: Option<u32>,
    /// Requests/s of the closed loop, when its numbers stayed exact.
    pub exact_requests_per_s: Option<f64>,
    /// Load threads of the client (one per core).
    pub workers: u32,
}

/// Runs the self-test with bursts of at most `max_streams`.
pub fn run(max_streams: u32, note: &dyn Fn(&str)) -> anyhow::Result<SelfTest> {
    let levels: Vec<u32> = match STREAMS
        .iter()
        .copied()
        .filter(|&s| s <= max_streams)
        .collect::<Vec<_>>()
    {
        v if v.is_empty() => vec![max_streams.max(1)],
        v => v,
    };
    let dir = std::env::temp_dir().join(format!("tokenpace-self-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create '{}'", dir.display()))?;
    let result = run_in(&dir, &levels, note);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

fn run_in(dir: &Path, levels: &[u32], note: &dyn Fn(&str)) -> anyhow::Result<SelfTest> {
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .context("could not start the client's runtime")?;
    let workers = std::thread::available_parallelism().map_or(1, |n| n.get()) as u32;
    let started = Instant::now();
    let mut bursts = Vec::new();
    for &streams in levels {
        if started.elapsed() > BUDGET {
            note(&format!("time budget spent: {streams} streams not tried"));
            break;
        }
        note(&format!("self-test: a burst of {streams} streams…"));
        let truth = dir.join(format!("burst-{streams}.jsonl"));
        let level = burst(&runtime, &truth, streams)?;
        let exact = level.exact;
        bursts.push(level);
        if !exact {
            break;
        }
    }
    let exact_streams = bursts
        .iter()
        .take_while(|l| l.exact)
        .map(|l| l.streams)
        .last();
    let loop_streams = exact_streams.unwrap_or(levels[0]).min(64);
    note(&format!(
        "self-test: two-token requests at {loop_streams} streams…"
    ));
    let loop_level = closed_loop(&runtime, &dir.join("loop.jsonl"), loop_streams)?;
    Ok(SelfTest {
        exact_streams,
        exact_requests_per_s: loop_level
            .exact
            .then_some(loop_level.requests_per_s)
            .flatten(),
        loop_level: Some(loop_level),
        bursts,
        workers,
    })
}

/// One cold burst: `streams` requests at once on warmed connections.
fn burst(
    runtime: &tokio::runtime::Runtime,
    truth: &Path,
    streams: u32,
) -> anyhow::Result<SelfTestLevel> {
    let (sim_rt, sim) = simulator(truth, streams, 50.0, DECODE, TOKENS)?;
    let probe = Probe::new(sim.url(), streams, Duration::ZERO)?;
    probe.warm_up(runtime)?;
    let meter = crate::ceiling::CpuMeter::start(probe.workers());
    let records = probe.measure(runtime, TOKENS, streams)?;
    let cpu = meter.stop();
    sim_rt.block_on(sim.shutdown())?;
    let error = compare(streams, &records, truth)?;
    Ok(level(streams, error, &records, cpu, None))
}

/// A closed loop of two-token requests against an instant simulator, for
/// at most 5 s: the requests per second this machine keeps exact.
fn closed_loop(
    runtime: &tokio::runtime::Runtime,
    truth: &Path,
    streams: u32,
) -> anyhow::Result<SelfTestLevel> {
    // Two tokens: one gap per request, so the gap error is measured too.
    let (sim_rt, sim) = simulator(truth, streams, 0.0, 1e6, 2)?;
    let probe = Probe::new(sim.url(), streams, Duration::ZERO)?;
    probe.warm_up(runtime)?;
    let meter = crate::ceiling::CpuMeter::start(probe.workers());
    let records = probe.measure_within(runtime, 2, 50_000, Duration::from_secs(5))?;
    let cpu = meter.stop();
    sim_rt.block_on(sim.shutdown())?;
    let error = compare(streams, &records, truth)?;
    let span = records.iter().filter_map(|r| r.end_ns).max().unwrap_or(0)
        - records.iter().map(|r| r.sent_ns).min().unwrap_or(0);
    let rps = records.len() as f64 / (span as f64 / 1e9).max(1e-9);
    let in_flight = ceiling::median_in_flight(&records, streams);
    Ok(level(streams, error, &records, cpu, in_flight).with_rate(rps))
}

/// A level's verdict from its figures.
fn level(
    streams: u32,
    error: TimingError,
    records: &[RequestRecord],
    cpu: Option<Cpu>,
    in_flight: Option<InFlight>,
) -> SelfTestLevel {
    let (exhausted, exhausted_message) = ceiling::exhausted(records);
    let mut limits = Ceiling::judge(ClientFigures {
        schedule_lag_p99_s: None,
        in_flight,
        cpu,
        exhausted,
        exhausted_message,
    })
    .limits;
    let peak = peak_in_flight(records);
    // A burst sends every stream at once: all must be in flight together.
    if in_flight.is_none() && peak < streams as usize {
        limits.push(ClientLimit::InFlight {
            median: peak as f64,
            asked: streams,
        });
    }
    let within = |ms: f64| ms.is_nan() || ms <= EXACT_MS;
    let exact = limits.is_empty()
        && error.failed == 0
        && error.chunks > 0
        && within(error.ttft_abs_error_p99_ms)
        && within(error.itl_error_ms.1);
    SelfTestLevel {
        streams,
        error,
        peak_in_flight: peak,
        requests_per_s: None,
        cpu,
        limits,
        exact,
    }
}

impl SelfTestLevel {
    fn with_rate(self, rps: f64) -> SelfTestLevel {
        SelfTestLevel {
            requests_per_s: Some(rps),
            ..self
        }
    }
}
