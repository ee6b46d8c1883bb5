//! The client's own timing error, measured: drive the built-in simulator at a
//! run's concurrency on this machine and compare what the client saw with
//! what the simulator wrote (its ground truth). Used by `bench --self-check`
//! ([`crate::measure()`]) and by the precision benchmark. The simulator runs
//! in this process, so this crate depends on `tokenpace-sim` (which depends
//! on neither the client nor the runner).

use anyhow::Context;
use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::openai::OpenAiChat;
use tokenpace_client::bench::{self, RunOptions};
use tokenpace_client::clock::RunClock;
use tokenpace_client::load::{Driver, Load, LoadPlan};
use tokenpace_client::request::{http_client_with, HttpClient, Target, Timeouts};
use tokenpace_client::transport::tls::TlsOptions;
use tokenpace_client::workers::Workers;
use tokenpace_client::workload::Workload;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::stats::percentile_sorted;

pub use tokenpace_core::self_check::TimingError;

/// Per response id: when the request arrived at the server, and when it
/// finished writing each content chunk.
pub type Truth = HashMap<String, (u64, Vec<u64>)>;

/// The simulator's truth file, read with its own types
/// ([`tokenpace_sim::truth::read`]), as arrivals and content writes.
pub fn read_truth(path: &Path) -> anyhow::Result<Truth> {
    let file = tokenpace_sim::truth::read(path)?;
    Ok(file
        .requests
        .into_iter()
        .filter(|r| r.kind == "request")
        .map(|r| {
            let writes = r
                .chunks
                .iter()
                .filter(|c| c.kind == "content")
                .map(|c| c.written_ns)
                .collect();
            // The request's arrival at the server's host where the kernel
            // stamped it, else when the server read it (later if it was
            // busy).
            (r.id, (r.arrived_ns.unwrap_or(r.received_ns), writes))
        })
        .collect())
}

/// Compares client records with the simulator's truth file.
pub fn compare(
    streams: u32,
    records: &[RequestRecord],
    truth_path: &Path,
) -> anyhow::Result<TimingError> {
    Ok(compare_with(streams, records, &read_truth(truth_path)?))
}

/// Compares client records with a truth already read ([`read_truth`]).
pub fn compare_with(streams: u32, records: &[RequestRecord], truth: &Truth) -> TimingError {
    let (mut ttft, mut itl, mut chunks, mut failed) = (Vec::new(), Vec::new(), 0, 0);
    for r in records {
        let Some((received, writes)) = r.response_id.as_deref().and_then(|id| truth.get(id)) else {
            failed += 1;
            continue;
        };
        if !r.is_ok() || r.chunks.len() != writes.len() || writes.is_empty() {
            failed += 1;
            continue;
        }
        chunks += r.chunks.len();
        // Under TLS the truth starts at the request, after the handshake
        // (its own stamp, `tls_ns`): the error is counted from the write
        // that followed it. In the clear, from the send, connect included.
        let from = match r.tls_ns {
            Some(_) => r.written_ns.unwrap_or(r.sent_ns),
            None => r.sent_ns,
        };
        let client = r.chunks[0].at_ns.saturating_sub(from) as f64;
        let server = writes[0].saturating_sub(*received) as f64;
        ttft.push((client - server) / 1e6);
        for (c, w) in r.chunks.windows(2).zip(writes.windows(2)) {
            let client = c[1].at_ns.saturating_sub(c[0].at_ns) as f64;
            let server = w[1].saturating_sub(w[0]) as f64;
            itl.push((client - server).abs() / 1e6);
        }
    }
    let mut ttft_abs: Vec<f64> = ttft.iter().map(|e: &f64| e.abs()).collect();
    ttft_abs.sort_by(f64::total_cmp);
    ttft.sort_by(f64::total_cmp);
    itl.sort_by(f64::total_cmp);
    let p = |v: &[f64]| (percentile_sorted(v, 50.0), percentile_sorted(v, 99.0));
    TimingError {
        streams,
        chunks,
        failed,
        ttft_excess_ms: p(&ttft),
        ttft_abs_error_p99_ms: percentile_sorted(&ttft_abs, 99.0),
        itl_error_ms: p(&itl),
    }
}

/// The records of the first wave (each stream's first request: in a cold
/// run, the one that opened its connection) and of the rest, by send time.
pub fn waves(streams: u32, records: &[RequestRecord]) -> (Vec<RequestRecord>, Vec<RequestRecord>) {
    let mut sorted: Vec<&RequestRecord> = records.iter().collect();
    sorted.sort_by_key(|r| r.sent_ns);
    let first = (streams as usize).min(sorted.len());
    let own = |v: &[&RequestRecord]| v.iter().map(|r| (*r).clone()).collect();
    (own(&sorted[..first]), own(&sorted[first..]))
}

/// The most requests in flight at once (sent, not yet ended).
pub fn peak_in_flight(records: &[RequestRecord]) -> usize {
    let mut edges: Vec<(u64, i32)> = records
        .iter()
        .filter_map(|r| Some([(r.sent_ns, 1), (r.end_ns?, -1)]))
        .flatten()
        .collect();
    // An end at the same instant as a start frees its slot first.
    edges.sort();
    let (mut now, mut peak) = (0i64, 0i64);
    for (_, d) in edges {
        now += i64::from(d);
        peak = peak.max(now);
    }
    peak as usize
}

/// Drives a simulator at a fixed concurrency: `streams` closed-loop
/// streams, each request asking for a fixed number of tokens.
pub struct Probe {
    client: HttpClient,
    workers: Arc<Workers>,
    url: String,
    streams: u32,
    ramp_up: Duration,
}

impl Probe {
    /// A probe of the simulator at `url`, starting its streams evenly over
    /// `ramp_up`.
    pub fn new(url: String, streams: u32, ramp_up: Duration) -> anyhow::Result<Probe> {
        Probe::with_tls(url, streams, ramp_up, &TlsOptions::default())
    }

    /// [`Probe::new`], trusting an `https://` simulator as `tls` says.
    pub fn with_tls(
        url: String,
        streams: u32,
        ramp_up: Duration,
        tls: &TlsOptions,
    ) -> anyhow::Result<Probe> {
        Ok(Probe {
            client: http_client_with(Duration::from_secs(10), streams as usize, tls)?,
            workers: Workers::per_core()?,
            url,
            streams,
            ramp_up,
        })
    }

    /// The load's threads.
    pub fn workers(&self) -> &Arc<Workers> {
        &self.workers
    }

    /// Opens the connections with one one-token request per stream:
    /// connection set-up belongs to a real first request's TTFT, but it is
    /// not the client's timing error.
    pub fn warm_up(&self, runtime: &tokio::runtime::Runtime) -> anyhow::Result<()> {
        self.run(runtime, 1, self.streams, None).map(|_| ())
    }

    /// `requests` requests of `tokens` tokens each; their records.
    pub fn measure(
        &self,
        runtime: &tokio::runtime::Runtime,
        tokens: u32,
        requests: u32,
    ) -> anyhow::Result<Vec<RequestRecord>> {
        self.run(runtime, tokens, requests, None)
    }

    /// [`Probe::measure`], stopping at `duration` if the requests are not
    /// all sent by then.
    pub fn measure_within(
        &self,
        runtime: &tokio::runtime::Runtime,
        tokens: u32,
        requests: u32,
        duration: Duration,
    ) -> anyhow::Result<Vec<RequestRecord>> {
        self.run(runtime, tokens, requests, Some(duration))
    }

    fn run(
        &self,
        runtime: &tokio::runtime::Runtime,
        tokens: u32,
        requests: u32,
        duration: Option<Duration>,
    ) -> anyhow::Result<Vec<RequestRecord>> {
        let driver = Arc::new(Driver {
            client: self.client.clone(),
            target: Target {
                base_url: self.url.clone(),
                model: "tokenpace-sim".into(),
                api_key: None,
                headers: Vec::new(),
                request_id: None,
                h2c: false,
                tls: Default::default(),
            },
            backend: Arc::new(OpenAiChat),
            workload: Arc::new(Workload {
                lang: tokenpace_corpus::TextLang::Zh,
                prompt_tokens: 16,
                shared_prefix: 0,
                prefix_groups: 0,
                max_tokens: tokens,
                ignore_eos: true,
                per_chunk_usage: false,
                seed: 7,
                salt: 0,
                tokenizer: None,
                cuts: None,
            }),
            timeouts: Timeouts {
                first_token: Duration::from_secs(60),
                total: Duration::from_secs(120),
                idle: Duration::from_secs(120),
                max_event_bytes: tokenpace_client::sse::DEFAULT_MAX_EVENT_BYTES,
                leaving: None,
                retry_throttled: None,
            },
            clock: RunClock::start(),
            sessions: None,
            trace: None,
            workers: Some(self.workers.clone()),
            run_end: Default::default(),
        });
        let plan = LoadPlan {
            load: Load::Closed {
                concurrency: self.streams,
            },
            requests: u64::from(requests),
            duration,
            seed: 7,
            ramp_up: self.ramp_up,
            shard: tokenpace_core::shard::Shard::WHOLE,
        };
        let options = RunOptions {
            records_file: None,
            grace: Duration::from_secs(1),
            repeat: None,
        };
        Ok(runtime
            .block_on(bench::run(driver, plan, options, |_| {
                bench::AfterRequest::Continue
            }))?
            .records)
    }
}

/// Runs the self-check: the simulator in this process on its own thread,
/// `streams` concurrent streams of `tokens` tokens at `decode` tokens/s,
/// started evenly over `ramp_up`.
pub fn run(
    runtime: &tokio::runtime::Runtime,
    streams: u32,
    decode: f64,
    tokens: u32,
    ramp_up: Duration,
) -> anyhow::Result<TimingError> {
    let dir = tempfile_dir()?;
    let truth_path = dir.join("truth.jsonl");
    let (sim_runtime, sim) = simulator(&truth_path, streams, 50.0, decode, tokens)?;
    let probe = Probe::new(sim.url(), streams, ramp_up)?;
    probe.warm_up(runtime)?;
    let records = probe.measure(runtime, tokens, streams)?;
    sim_runtime.block_on(sim.shutdown())?;
    let result = compare(streams, &records, &truth_path);
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// The simulator on its own thread, writing its truth to `truth`.
pub(crate) fn simulator(
    truth: &Path,
    streams: u32,
    ttft_ms: f64,
    decode: f64,
    tokens: u32,
) -> anyhow::Result<(tokio::runtime::Runtime, tokenpace_sim::SimHandle)> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .context("could not start the simulator's runtime")?;
    let mut config = tokenpace_sim::SimConfig {
        port: 0,
        truth: Some(truth.to_path_buf()),
        ..Default::default()
    };
    config.timing.ttft_ms = ttft_ms;
    config.timing.decode = decode;
    config.timing.max_batch = streams.max(1) as usize;
    config.timing.output_tokens = u64::from(tokens);
    let sim = rt.block_on(tokenpace_sim::SimServer::start(config))?;
    Ok((rt, sim))
}

fn tempfile_dir() -> anyhow::Result<std::path::PathBuf> {
    let dir = std::env::temp_dir().join(format!("tokenpace-self-check-{}", std::process::id()));
    std::fs::create_dir_all(&dir)
        .with_context(|| format!("could not create '{}'", dir.display()))?;
    Ok(dir)
}
