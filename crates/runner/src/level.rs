//! One level of a run: its warm-up, its requests (each repeat of them, the
//! records flushed to disk as they finish), optional server-metrics
//! scrapes around it, and its summary and grade.

use crate::plan::{BenchPlan, LevelPlan};
use crate::progress::{Progress, ProgressLevel};
use crate::runner::Runner;
use crate::seeds::{level_seed, repeat_seed, WARMUP_SEED};
use anyhow::bail;
use std::cell::{Cell, RefCell};
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::bench::{self, AfterRequest, BenchOutcome, RepeatTag, RunOptions};
use tokenpace_client::clock::RunClock;
use tokenpace_client::load::{Driver, LoadPlan};
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::precision::{Precision, PrecisionWatch};
use tokenpace_core::record::RequestRecord;
use tokenpace_core::repeats::{tier_spans, TierSpan};
use tokenpace_core::server_metrics::{Decomposition, Scrape};
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_rundir::RunDir;

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
    pub level: LevelPlan,
    /// Its name (`c8`, `p512`, …).
    pub label: String,
    /// "c8 (2/4)" on the progress line, in a sweep.
    pub position: Option<String>,
    /// Its run directory (`run.json`, `requests.jsonl`, `warmup.jsonl`),
    /// if results are written.
    pub dir: Option<&'a RunDir>,
}

/// The records of a level's repeats, on one timeline.
struct Measured {
    records: Vec<RequestRecord>,
    partial: bool,
    /// With `--until-precise`: how it ended.
    precision: Option<Precision>,
}

impl Runner {
    /// Runs one level of `plan` (after its warm-up), writing its files where
    /// `run` says; warnings go to `warnings`.
    pub fn run_level(
        &self,
        plan: &BenchPlan,
        run: LevelRun<'_>,
        progress: &dyn Progress,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<LevelResult> {
        if let Some(d) = run.dir {
            d.create()?;
        }
        let warmup_failed = self.warm_up(plan, &run, progress)?;
        let before = plan
            .server_metrics
            .as_ref()
            .map(|u| self.scrape(u, warnings));
        self.await_start(plan, progress)?;
        // The run clock starts with the driver, right after the wall-clock
        // stamp (merge lines shards up by it).
        let environment = crate::environment::current();
        let requests = self.level_requests(plan);
        let cpu = crate::ceiling::CpuMeter::start(&self.workers);
        let measured = self.measure_repeats(plan, &run, requests, progress, warnings)?;
        let stall_s = self.profile.stall_threshold_ms / 1000.0;
        let mut settings = plan.settings(run.level, &self.target.model, stall_s);
        settings.requests = Some(requests);
        self.prompts.describe(&mut settings, self.synthetic(plan));
        settings.http_version = Some(self.client.http_version().label().into());
        warnings.extend(self.prompts.off_length(plan, run.level, &measured.records));
        warnings.extend(crate::prompts::PromptSetup::primed_trace(
            self.trace,
            &measured.records,
        ));
        let mut summary = RunSummary::from_records(&measured.records, settings, environment);
        summary.partial = measured.partial;
        summary.precision = measured.precision;
        let cpu = cpu.stop();
        let client = crate::ceiling::judge(plan, run.level, &measured.records, &summary, cpu);
        summary.client = Some(client);
        if let Some(d) = run.dir {
            d.write_summary(&summary)?;
        }
        if summary.counts.ok == 0 {
            bail!(
                "{}",
                crate::reach::all_failed(&measured.records, &plan.target_label)
            );
        }
        let mut grade = self.profile.grade_run(|m, st| summary.get(m, st), None)?;
        tokenpace_core::ceiling::cap(&mut grade, summary.client.as_ref());
        let server = self.server_split(plan, before.flatten(), &summary, warnings);
        let tier_spans = summary
            .repeats
            .as_ref()
            .map(|r| tier_spans(&self.profile, r))
            .unwrap_or_default();
        Ok(LevelResult {
            tier_spans,
            label: run.label,
            records: measured.records,
            summary,
            grade,
            server,
            warmup_failed,
        })
    }

    /// The level's load, as this shard sends it.
    fn load_plan(plan: &BenchPlan, level: LevelPlan) -> LoadPlan {
        LoadPlan {
            load: plan.shard_load(level.load),
            requests: plan.requests,
            duration: plan.duration,
            seed: plan.seed,
            ramp_up: plan.ramp_up,
            shard: plan.shard,
        }
    }

    /// Sends the level's warm-up requests, if any (other prompts than the
    /// measured ones, so no prefix cache is primed); how many failed.
    fn warm_up(
        &self,
        plan: &BenchPlan,
        run: &LevelRun<'_>,
        progress: &dyn Progress,
    ) -> anyhow::Result<usize> {
        if plan.warmup == 0 {
            return Ok(0);
        }
        let warm = LoadPlan {
            requests: plan.warmup,
            duration: None,
            ..Self::load_plan(plan, run.level)
        };
        let options = RunOptions {
            records_file: run.dir.map(RunDir::warmup_path),
            grace: Duration::from_secs(5),
            repeat: None,
        };
        let seed = level_seed(plan.seed, run.level) ^ WARMUP_SEED;
        let driver = self.driver(plan, run.level, seed, plan.warmup, RunClock::start())?;
        let total = Self::expected_requests(plan, &driver, plan.warmup);
        let bar = progress.level(total, Some(format!("{} warm-up", run.label)));
        let outcome = self.drive(driver, warm, options, bar, None)?;
        if outcome.partial {
            bail!("interrupted during the warm-up; nothing was measured");
        }
        Ok(outcome.records.iter().filter(|r| !r.is_ok()).count())
    }

    /// Waits for `--start-at` before the first level's load.
    fn await_start(&self, plan: &BenchPlan, progress: &dyn Progress) -> anyhow::Result<()> {
        if let Some(at) = plan.start_at {
            if !self
                .started
                .swap(true, std::sync::atomic::Ordering::Relaxed)
            {
                sleep_until(at, progress)?;
            }
        }
        Ok(())
    }

    /// Requests per repeat of a level: a trace's window, or a conversations
    /// file, holds its own count (capped by the plan's).
    fn level_requests(&self, plan: &BenchPlan) -> u64 {
        match (self.trace, self.conversation_count) {
            (Some(t), _) => t.requests.min(plan.requests),
            (None, Some(n)) => n.min(plan.requests),
            (None, None) => plan.requests,
        }
    }

    /// Runs each repeat of a level (until one is interrupted), every record
    /// on one clock.
    fn measure_repeats(
        &self,
        plan: &BenchPlan,
        run: &LevelRun<'_>,
        requests: u64,
        progress: &dyn Progress,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<Measured> {
        let repeats = plan.statistics.repeat.max(1);
        // Ids of repeat k start at k·stride, a multiple of the shard count.
        let shards = u64::from(plan.shard.count.max(1));
        let stride = requests.div_ceil(shards).saturating_mul(shards);
        // One clock for every repeat, so their records share one timeline.
        let clock = RunClock::start();
        let mut measured = Measured {
            records: Vec::new(),
            partial: false,
            precision: None,
        };
        let watch = (plan.statistics.until_precise).map(|p| RefCell::new(PrecisionWatch::new(p)));
        for k in 0..repeats {
            let seed = repeat_seed(level_seed(plan.seed, run.level), k);
            let options = RunOptions {
                records_file: run.dir.map(RunDir::requests_path),
                grace: Duration::from_secs(5),
                repeat: (repeats > 1).then(|| RepeatTag {
                    index: k,
                    id_offset: stride.saturating_mul(u64::from(k)),
                }),
            };
            let driver = self.driver(plan, run.level, seed, requests, clock)?;
            let at = match (&run.position, repeats) {
                (_, 1) => run.position.clone(),
                (Some(p), _) => Some(format!("{p} repeat {}/{repeats}", k + 1)),
                (None, _) => Some(format!("repeat {}/{repeats}", k + 1)),
            };
            let bar = progress.level(Self::expected_requests(plan, &driver, requests), at);
            let trace = driver.trace.clone();
            let load = LoadPlan {
                seed: repeat_seed(plan.seed, k),
                ..Self::load_plan(plan, run.level)
            };
            let outcome = self.drive(driver, load, options, bar, watch.as_ref())?;
            warnings.extend(outcome.warnings.iter().cloned());
            if let Some(e) = trace.and_then(|t| t.take_error()) {
                warnings.push(format!(
                    "the replay stopped early: {e} (the file changed after it was checked?); the requests sent before it are in the results"
                ));
            }
            measured.records.extend(outcome.records);
            measured.partial = outcome.partial;
            if measured.partial {
                break;
            }
        }
        measured.precision = watch.map(|w| w.borrow().outcome());
        Ok(measured)
    }

    /// Runs `driver`'s load, each finished request shown on `bar` (and
    /// counted by `precise`, which ends the run once it is precise); fails
    /// when the server refused an argument tokenpace added.
    fn drive(
        &self,
        driver: Arc<Driver>,
        load: LoadPlan,
        options: RunOptions,
        bar: Box<dyn ProgressLevel>,
        precise: Option<&RefCell<PrecisionWatch>>,
    ) -> anyhow::Result<BenchOutcome> {
        let refused = Cell::new(None);
        let outcome = self
            .runtime
            .block_on(bench::run(driver, load, options, |r| {
                bar.record(r);
                match self.prompts.watch(r, &refused) {
                    AfterRequest::Continue
                        if precise.is_some_and(|w| w.borrow_mut().observe_record(r)) =>
                    {
                        AfterRequest::Enough
                    }
                    next => next,
                }
            }));
        bar.finish();
        let outcome = outcome?;
        if let Some(why) = refused.take() {
            bail!("{why}");
        }
        Ok(outcome)
    }

    /// Requests this process sends for `units` units of `driver`'s load.
    fn expected_requests(plan: &BenchPlan, driver: &Driver, units: u64) -> u64 {
        match &driver.sessions {
            Some(s) => s.requests((0..plan.shard.requests(units)).map(|k| plan.shard.id(k))),
            None => plan.shard.requests(units),
        }
    }

    /// The server's histograms over the level against the client's TTFT,
    /// when its metrics were scraped before and can be after.
    fn server_split(
        &self,
        plan: &BenchPlan,
        before: Option<Scrape>,
        summary: &RunSummary,
        warnings: &mut Vec<String>,
    ) -> Option<Decomposition> {
        let (Some(u), Some(before)) = (&plan.server_metrics, before) else {
            return None;
        };
        self.scrape(u, warnings).map(|after| {
            let ttft = summary.get(Metric::TtftS, Statistic::Mean);
            tokenpace_core::server_metrics::decompose(
                &before,
                &after,
                ttft.unwrap_or(0.0),
                summary.counts.ok,
            )
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
