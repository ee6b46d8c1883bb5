//! Measuring a plan one level at a time: the protocol, HTTP client, model
//! name and prompts are set up once ([`Runner::new`]); each level then runs
//! its warm-up, its requests (records flushed to disk as they finish),
//! optional server-metrics scrapes, and is summarised and graded.

use crate::plan::{BenchPlan, Level};
use anyhow::{bail, Context};
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::Backend;
use tokenpace_client::bench::{self, RepeatTag, RunOptions};
use tokenpace_client::clock::RunClock;
use tokenpace_client::conversations::{ConversationSource, FileConversations};
use tokenpace_client::dataset::Dataset;
use tokenpace_client::load::{Driver, Load, LoadPlan};
use tokenpace_client::request::{h2c_client, http_client, HttpClient, Target};
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::trace::TraceScan;
use tokenpace_client::workers::Workers;
use tokenpace_client::workload::PromptSource;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::repeats::{tier_spans, TierSpan};
use tokenpace_core::server_metrics::{Decomposition, Scrape};
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_rundir::RunDir;

/// Mixed into the seed of warm-up prompts so they differ from measured ones.
const WARMUP_SEED: u64 = 0x5741_524d_5550;

/// Shows requests finishing (a terminal progress line, or nothing).
pub trait Progress {
    /// A level of `requests` requests starts; `label` names it in a sweep.
    fn level(&self, requests: u64, label: Option<String>) -> Box<dyn ProgressLevel>;
    /// The load waits `wait` for `--start-at` (RFC 3339 `until`).
    fn waiting(&self, _until: &str, _wait: Duration) {}
}

/// Progress of one level.
pub trait ProgressLevel {
    /// A request finished.
    fn record(&self, record: &RequestRecord);
    /// The level is done.
    fn finish(&self);
}

/// No progress shown (tests, scripts).
pub struct Quiet;

impl Progress for Quiet {
    fn level(&self, _: u64, _: Option<String>) -> Box<dyn ProgressLevel> {
        Box::new(Quiet)
    }
}

impl ProgressLevel for Quiet {
    fn record(&self, _: &RequestRecord) {}
    fn finish(&self) {}
}

/// A finished level.
#[derive(Debug, Clone)]
pub struct LevelResult {
    /// Its name (`c8`, `p512`, …).
    pub label: String,
    /// Every request sent, successful or not.
    pub records: Vec<RequestRecord>,
    /// The summary.
    pub summary: RunSummary,
    /// The grade on the run's profile.
    pub grade: Grade,
    /// The server's histograms against the client's TTFT.
    pub server: Option<Decomposition>,
    /// Warm-up requests that failed.
    pub warmup_failed: usize,
    /// With repeats: the tiers each graded metric's interval spans.
    pub tier_spans: Vec<TierSpan>,
}

/// One level to run: which, its name, where it stands in the run (for the
/// progress line), and where its files go.
pub struct LevelRun<'a> {
    /// The level.
    pub level: Level,
    /// Its name (`c8`, `p512`, …).
    pub label: String,
    /// "c8 (2/4)" on the progress line, in a sweep.
    pub position: Option<String>,
    /// Its run directory (`run.json`, `requests.jsonl`, `warmup.jsonl`),
    /// if results are written.
    pub dir: Option<&'a RunDir>,
}

/// What every level of a run shares: the runtime, HTTP client, protocol,
/// model name and prompt sources.
pub struct Runner {
    /// The async runtime the levels run on.
    pub runtime: tokio::runtime::Runtime,
    /// The profile levels are graded on.
    pub profile: Profile,
    pub(crate) client: HttpClient,
    pub(crate) target: Target,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) tokenizer: Option<Arc<ModelTokenizer>>,
    /// What requests carry and what counts their tokens.
    pub(crate) prompts: crate::prompts::PromptSetup,
    pub(crate) dataset: Option<Arc<dyn PromptSource>>,
    pub(crate) conversations: Option<Arc<dyn ConversationSource>>,
    /// The conversations a `--conversations` file holds.
    pub(crate) conversation_count: Option<u64>,
    pub(crate) trace: Option<TraceScan>,
    /// Set once a level's load has started: only the first waits for
    /// `--start-at`.
    pub(crate) started: std::sync::atomic::AtomicBool,
    /// Drivers made so far: each after the first sends request ids of its
    /// own (a sweep's levels and the warm-up number records from 0 again).
    pub(crate) drivers: std::sync::atomic::AtomicU32,
    /// The single-threaded runtimes the streams run on, one per core.
    pub(crate) workers: Arc<Workers>,
}

impl Runner {
    /// Prepares `plan` (checked) with up to `max_in_flight` requests at
    /// once: asks the server for its model when none was given.
    pub fn new(plan: &BenchPlan, profile: Profile, max_in_flight: usize) -> anyhow::Result<Runner> {
        plan.check()?;
        // Every line checked before the server is asked anything: a bad
        // line stops the run before a request is sent.
        let trace = match &plan.workload.trace {
            Some(spec) => Some(tokenpace_client::trace::scan(spec)?),
            None => None,
        };
        let backend = tokenpace_client::backend::by_id(&plan.protocol)
            .ok_or_else(|| anyhow::anyhow!("unknown --backend '{}'", plan.protocol))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("could not start the async runtime")?;
        let workers = Workers::per_core().context("could not start the load's threads")?;
        let client = match plan.target.h2c {
            true => h2c_client(plan.timeouts.connect, max_in_flight)?,
            false => http_client(plan.timeouts.connect, max_in_flight)?,
        };
        let mut target = plan.target.clone();
        let first_token = plan.timeouts.first_token;
        let listed =
            crate::prompts::list(&runtime, &client, &target, backend.as_ref(), first_token);
        if target.model.is_empty() {
            target.model = match &listed {
                Ok(l) => l.model.clone(),
                Err(e) => {
                    let e = anyhow::anyhow!("{e:#}");
                    return Err(crate::reach::explain(
                        e,
                        &runtime,
                        &target,
                        plan.timeouts.connect,
                    ));
                }
            };
        }
        let tokenizer = match &plan.workload.tokenizer {
            Some(path) => Some(Arc::new(ModelTokenizer::from_file(path)?)),
            None => None,
        };
        let prompts = crate::prompts::setup(
            &runtime,
            &client,
            &target,
            backend.as_ref(),
            plan.server_kind,
            listed.as_ref().ok(),
            plan.workload.ignore_eos,
            tokenizer.clone(),
        );
        let ignore_eos = prompts.ignore_eos;
        let dataset: Option<Arc<dyn PromptSource>> = match &plan.workload.dataset {
            Some(path) => Some(Arc::new(Dataset::load(
                path,
                plan.workload.max_tokens,
                ignore_eos,
            )?)),
            None => None,
        };
        let file = match plan
            .sessions
            .as_ref()
            .and_then(|s| s.conversations.as_ref())
        {
            Some(path) => Some(FileConversations::load(
                path,
                plan.workload.max_tokens,
                ignore_eos,
            )?),
            None => None,
        };
        // Without --requests a conversations file is replayed once, whole.
        let conversation_count = file.as_ref().map(|f| f.len() as u64);
        let conversations = file.map(|f| Arc::new(f) as Arc<dyn ConversationSource>);
        Ok(Runner {
            conversations,
            conversation_count,
            runtime,
            profile,
            client,
            target,
            backend,
            tokenizer,
            prompts,
            dataset,
            trace,
            started: Default::default(),
            drivers: Default::default(),
            workers,
        })
    }

    /// The model asked for.
    pub fn model(&self) -> &str {
        &self.target.model
    }

    /// What the run's requests carry and what counts their tokens.
    pub fn prompts(&self) -> &crate::prompts::PromptSetup {
        &self.prompts
    }

    /// Whether the prompts are synthetic (cut from the corpus).
    pub fn synthetic(&self, plan: &BenchPlan) -> bool {
        self.dataset.is_none() && self.conversations.is_none() && plan.workload.trace.is_none()
    }

    /// The trace's requests in its window, when a trace is replayed.
    pub fn trace_requests(&self) -> Option<u64> {
        self.trace.map(|t| t.requests)
    }

    /// Fails before any load when nothing answers at the target.
    pub fn probe(&self) -> anyhow::Result<()> {
        crate::reach::probe(&self.runtime, &self.client, &self.target)
    }

    /// Requests this process sends for `units` units of `driver`'s load.
    fn expected_requests(plan: &BenchPlan, driver: &Driver, units: u64) -> u64 {
        match &driver.sessions {
            Some(s) => s.requests((0..plan.shard.requests(units)).map(|k| plan.shard.id(k))),
            None => plan.shard.requests(units),
        }
    }

    /// Runs one level of `plan` (after its warm-up), writing its files where
    /// `run` says; warnings go to `warnings`.
    pub fn run_level(
        &self,
        plan: &BenchPlan,
        run: LevelRun<'_>,
        progress: &dyn Progress,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<LevelResult> {
        let LevelRun {
            level,
            label,
            position,
            dir,
        } = run;
        if let Some(d) = dir {
            d.create()?;
        }
        let load = LoadPlan {
            load: plan.shard_load(level.load),
            requests: plan.requests,
            duration: plan.duration,
            seed: plan.seed,
            ramp_up: plan.ramp_up,
            shard: plan.shard,
        };
        // A request the server refused for an argument tokenpace added.
        let refused = std::cell::Cell::new(None);
        let mut warmup_failed = 0;
        if plan.warmup > 0 {
            // Other prompts than the measured ones, so no prefix cache is primed.
            let warm = LoadPlan {
                requests: plan.warmup,
                duration: None,
                ..load
            };
            let options = RunOptions {
                records_file: dir.map(RunDir::warmup_path),
                grace: Duration::from_secs(5),
                repeat: None,
            };
            let driver = self.driver(
                plan,
                level,
                level_seed(plan.seed, level) ^ WARMUP_SEED,
                plan.warmup,
                RunClock::start(),
            )?;
            let total = Self::expected_requests(plan, &driver, plan.warmup);
            let bar = progress.level(total, Some(format!("{label} warm-up")));
            let outcome = self
                .runtime
                .block_on(bench::run(driver, warm, options, |r| {
                    bar.record(r);
                    self.prompts.watch(r, &refused)
                }));
            bar.finish();
            let outcome = outcome?;
            if let Some(why) = refused.take() {
                bail!("{why}");
            }
            warmup_failed = outcome.records.iter().filter(|r| !r.is_ok()).count();
            if outcome.partial {
                bail!("interrupted during the warm-up; nothing was measured");
            }
        }
        let before = plan
            .server_metrics
            .as_ref()
            .map(|u| self.scrape(u, warnings));
        if let Some(at) = plan.start_at {
            if !self
                .started
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                sleep_until(at, progress)?;
            }
        }
        // The run clock starts with the driver, right after the wall-clock
        // stamp (merge lines shards up by it).
        let environment = crate::environment::current();
        // A trace's window holds its own count.
        let requests = match (self.trace, self.conversation_count) {
            (Some(t), _) => t.requests.min(plan.requests),
            (None, Some(n)) => n.min(plan.requests),
            (None, None) => plan.requests,
        };
        let repeats = plan.statistics.repeat.max(1);
        // Ids of repeat k start at k·stride, a multiple of the shard count.
        let shards = u64::from(plan.shard.count.max(1));
        let stride = requests.div_ceil(shards).saturating_mul(shards);
        // One clock for every repeat, so their records share one timeline.
        let clock = RunClock::start();
        let (mut records, mut partial) = (Vec::new(), false);
        for k in 0..repeats {
            let seed = repeat_seed(level_seed(plan.seed, level), k);
            let options = RunOptions {
                records_file: dir.map(RunDir::requests_path),
                grace: Duration::from_secs(5),
                repeat: (repeats > 1).then(|| RepeatTag {
                    index: k,
                    id_offset: stride.saturating_mul(u64::from(k)),
                }),
            };
            let driver = self.driver(plan, level, seed, requests, clock)?;
            let at = match (&position, repeats) {
                (_, 1) => position.clone(),
                (Some(p), _) => Some(format!("{p} repeat {}/{repeats}", k + 1)),
                (None, _) => Some(format!("repeat {}/{repeats}", k + 1)),
            };
            let bar = progress.level(Self::expected_requests(plan, &driver, requests), at);
            let trace = driver.trace.clone();
            let load = LoadPlan {
                seed: repeat_seed(plan.seed, k),
                ..load
            };
            let outcome = self
                .runtime
                .block_on(bench::run(driver, load, options, |r| {
                    bar.record(r);
                    self.prompts.watch(r, &refused)
                }));
            bar.finish();
            let outcome = outcome?;
            if let Some(why) = refused.take() {
                bail!("{why}");
            }
            warnings.extend(outcome.warnings.iter().cloned());
            if let Some(e) = trace.and_then(|t| t.take_error()) {
                warnings.push(format!(
                    "the replay stopped early: {e} (the file changed after it was checked?); the requests sent before it are in the results"
                ));
            }
            records.extend(outcome.records);
            partial = outcome.partial;
            if partial {
                break;
            }
        }
        let outcome = bench::BenchOutcome {
            records,
            partial,
            warnings: Vec::new(),
        };
        let stall_s = self.profile.stall_threshold_ms / 1000.0;
        let mut settings = plan.settings(level, &self.target.model, stall_s);
        settings.requests = Some(requests);
        self.prompts.describe(&mut settings, self.synthetic(plan));
        warnings.extend(self.prompts.off_length(plan, level, &outcome.records));
        warnings.extend(crate::prompts::PromptSetup::primed_trace(
            self.trace,
            &outcome.records,
        ));
        let mut summary = RunSummary::from_records(&outcome.records, settings, environment);
        summary.partial = outcome.partial;
        if let Some(d) = dir {
            d.write_summary(&summary)?;
        }
        if summary.counts.ok == 0 {
            bail!(
                "{}",
                crate::reach::all_failed(&outcome.records, &plan.target_label)
            );
        }
        let grade = self.profile.grade_run(|m, st| summary.get(m, st), None)?;
        let server = match (&plan.server_metrics, before.flatten()) {
            (Some(u), Some(before)) => self.scrape(u, warnings).map(|after| {
                let ttft = summary.get(Metric::TtftS, Statistic::Mean);
                tokenpace_core::server_metrics::decompose(
                    &before,
                    &after,
                    ttft.unwrap_or(0.0),
                    summary.counts.ok,
                )
            }),
            _ => None,
        };
        let tier_spans = summary
            .repeats
            .as_ref()
            .map(|r| tier_spans(&self.profile, r))
            .unwrap_or_default();
        Ok(LevelResult {
            tier_spans,
            label,
            records: outcome.records,
            summary,
            grade,
            server,
            warmup_failed,
        })
    }

    /// The server's metrics now, or a warning.
    fn scrape(&self, url: &str, warnings: &mut Vec<String>) -> Option<Scrape> {
        crate::scrape::scrape(&self.runtime, &self.client, url, warnings)
    }
}

/// Sleeps until the wall-clock instant `at` (rechecking the clock, which
/// may be stepped meanwhile); fails when it passed long before this shard
/// was ready (the warm-up, say, ran past it).
fn sleep_until(at: std::time::SystemTime, progress: &dyn Progress) -> anyhow::Result<()> {
    use tokenpace_core::wall_clock;
    let mut told = false;
    loop {
        let wait = wall_clock::wait_until(at, std::time::SystemTime::now()).map_err(|e| {
            anyhow::anyhow!("this shard was ready only after the start: {e}; nothing was measured")
        })?;
        if wait.is_zero() {
            return Ok(());
        }
        if !told {
            progress.waiting(&wall_clock::format(at), wait);
            told = true;
        }
        std::thread::sleep(wait.min(Duration::from_millis(500)));
    }
}

/// The prompt seed of `level`: each level of a run draws its own prompts, so
/// a server's prefix cache cannot serve a later level (or a longer prompt
/// that starts like a shorter one) from an earlier level's requests. Shards
/// of one run agree on it, and split the request ids.
pub fn level_seed(seed: u64, level: Level) -> u64 {
    let load = match level.load {
        Load::Closed { concurrency } => u64::from(concurrency),
        Load::Open { rate, .. } => rate.to_bits() ^ (1 << 63),
        Load::Trace { speed } => speed.to_bits() ^ (1 << 62),
    };
    // SplitMix64's finaliser over the level's parameters.
    let mut z =
        seed ^ load.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(level.prompt_tokens) << 32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The seed of repeat `k` of a level (`bench --repeat`): the level's own
/// for the first, so a single run is unchanged, and fresh prompts (and
/// arrival times) for each further one.
pub fn repeat_seed(seed: u64, k: u32) -> u64 {
    if k == 0 {
        return seed;
    }
    let mut z = seed ^ u64::from(k).wrapping_mul(0xD1B5_4A32_D192_ED03);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_draw_their_own_prompts() {
        let l = |c, p| Level {
            load: Load::Closed { concurrency: c },
            prompt_tokens: p,
        };
        assert_ne!(level_seed(0, l(1, 256)), level_seed(0, l(2, 256)));
        assert_ne!(level_seed(0, l(1, 256)), level_seed(0, l(1, 512)));
        assert_eq!(level_seed(7, l(4, 64)), level_seed(7, l(4, 64)));
        // Repeats draw fresh prompts; the first keeps the level's own.
        assert_eq!(repeat_seed(9, 0), 9);
        assert_ne!(repeat_seed(9, 1), repeat_seed(9, 2));
        assert_ne!(repeat_seed(9, 1), 9);
    }
}
