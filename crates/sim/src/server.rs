//! The server: its shared state, starting and shutdown (the accept and
//! connection loops are the wire crate's; the routes are in `routes`).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::Context as _;
use tokenpace_core::setting::Setting;
use tokenpace_wire::server::serve;
use tokenpace_wire::tls::ServerTls;
use tokio::sync::watch;
use tokio::task::JoinHandle;

use crate::batch::Batcher;
use crate::config::{SimConfig, TimerKind};
use crate::metrics::Metrics;
use crate::prefix_cache::PrefixBlockCache;
use crate::timer::{PreciseTimer, TimerHandle};
use crate::timing::TimingModel;
use crate::truth::{TruthHeader, TruthLog};

/// How long in-flight requests get to finish after shutdown is asked for.
const SHUTDOWN_GRACE: Duration = Duration::from_secs(5);

/// State shared by every connection.
#[derive(Debug)]
pub(crate) struct Sim {
    pub config: SimConfig,
    pub model: TimingModel,
    pub batcher: Batcher,
    pub prefix_cache: PrefixBlockCache,
    pub metrics: Metrics,
    pub truth: Option<TruthLog>,
    pub timer: TimerHandle,
    pub start: Instant,
    pub start_unix_ns: u64,
    pub shutdown: watch::Receiver<bool>,
    seq: AtomicU64,
}

impl Sim {
    /// Nanoseconds from server start to `t`.
    pub fn ns(&self, t: Instant) -> u64 {
        t.saturating_duration_since(self.start).as_nanos() as u64
    }

    /// The next request's 1-based sequence number.
    pub fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed) + 1
    }
}

/// Starts simulators.
#[derive(Debug)]
pub struct SimServer;

impl SimServer {
    /// Validates `config`, binds, opens the truth file and starts serving in
    /// the background on the current tokio runtime.
    pub async fn start(config: SimConfig) -> anyhow::Result<SimHandle> {
        config.validate()?;
        let listener = tokenpace_wire::server::bind(&config.host, config.port).await?;
        let tls = match config.tls {
            true => Some(Arc::new(
                ServerTls::self_signed(&config.host).with_context(|| {
                    format!(
                        "could not make a self-signed certificate for {}",
                        Setting::Tls
                    )
                })?,
            )),
            false => None,
        };
        let addr = listener.local_addr()?;
        let (timer, timer_handle) = match config.timing.timer {
            TimerKind::Precise => {
                let timer = PreciseTimer::start(Duration::from_micros(config.timing.timer_spin_us))
                    .context("could not start the timer thread")?;
                let handle = timer.handle();
                (Some(timer), handle)
            }
            TimerKind::Tokio => (None, TimerHandle::tokio()),
        };
        let start = Instant::now();
        let start_unix_ns = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos() as u64);
        let truth = match &config.truth {
            Some(path) => Some(TruthLog::open(
                path,
                &TruthHeader {
                    kind: "header".into(),
                    version: 1,
                    server_start_unix_ns: start_unix_ns,
                    prompt_token_method: tokenpace_corpus::ESTIMATE_METHOD.into(),
                    config: redacted(&config),
                },
            )?),
            None => None,
        };
        let (tx, rx) = watch::channel(false);
        let rx_stop = rx.clone();
        let sim = Arc::new(Sim {
            model: TimingModel::new(config.timing.clone()),
            batcher: Batcher::new(config.timing.max_batch),
            prefix_cache: PrefixBlockCache::new(&config.prefix_cache),
            metrics: Metrics::default(),
            truth,
            timer: timer_handle,
            start,
            start_unix_ns,
            shutdown: rx,
            seq: AtomicU64::new(0),
            config,
        });
        let limits = sim.config.limits.clone();
        let stop = (rx_stop, SHUTDOWN_GRACE);
        let serving = serve(
            listener,
            Arc::clone(&sim),
            limits,
            tls.clone(),
            stop.0,
            stop.1,
        );
        let task = tokio::spawn(serving);
        Ok(SimHandle {
            addr,
            stop: tx,
            task,
            sim,
            tls,
            _timer: timer,
        })
    }
}

/// A running simulator.
#[derive(Debug)]
pub struct SimHandle {
    addr: SocketAddr,
    stop: watch::Sender<bool>,
    task: JoinHandle<()>,
    sim: Arc<Sim>,
    tls: Option<Arc<ServerTls>>,
    _timer: Option<PreciseTimer>,
}

impl SimHandle {
    /// The address it listens on.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// The base URL, `http://` (`https://` under TLS) and the bound
    /// address (append `/v1/...`).
    pub fn url(&self) -> String {
        match self.tls {
            Some(_) => format!("https://{}", self.addr),
            None => format!("http://{}", self.addr),
        }
    }

    /// The TLS certificate served (with `tls` set).
    pub fn tls(&self) -> Option<&ServerTls> {
        self.tls.as_deref()
    }

    /// The truth file, if one is being written.
    pub fn truth_path(&self) -> Option<PathBuf> {
        self.sim.config.truth.clone()
    }

    /// The instant the truth file's `*_ns` times count from, so an
    /// in-process client can put its own `Instant`s on the same axis.
    pub fn epoch(&self) -> Instant {
        self.sim.start
    }

    /// The wall-clock time (unix ns) the truth file's times count from.
    pub fn start_unix_ns(&self) -> u64 {
        self.sim.start_unix_ns
    }

    /// Stops accepting, lets in-flight requests end (streams stop at their
    /// next chunk and are recorded with outcome `shutdown`), then writes and
    /// closes the truth file.
    pub async fn shutdown(self) -> anyhow::Result<()> {
        let _ = self.stop.send(true);
        let _ = self.task.await;
        match &self.sim.truth {
            Some(t) => t.close(),
            None => Ok(()),
        }
    }
}

/// The configuration for the truth header, without the API key itself.
fn redacted(config: &SimConfig) -> serde_json::Value {
    let mut shown = config.clone();
    if shown.api_key.is_some() {
        shown.api_key = Some("<redacted>".into());
    }
    serde_json::to_value(&shown).unwrap_or_default()
}
