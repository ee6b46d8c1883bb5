//! The search's loop: the levels [`tokenpace_core::capacity::next_level`]
//! asks for, each run on the [`Runner`] within the time and request
//! budgets, until the tier-A and tier-B boundaries are bracketed.

use super::{
    goodput, SearchAxis, SearchLevel, SearchLimits, SearchOutcome, SloBoundary, SloTarget,
};
use crate::level::{LevelResult, LevelRun};
use crate::plan::{BenchPlan, LevelPlan};
use crate::progress::Progress;
use crate::runner::Runner;
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokenpace_core::capacity::{bracket, level_tier, next_level};
use tokenpace_core::grade::Tier;
use tokenpace_core::request_metrics::MetricOptions;
use tokenpace_core::setting::Setting;
use tokenpace_core::slo::Attainment;
use tokenpace_rundir::RunDir;

/// A search under way.
struct Search<'a> {
    runner: &'a Runner,
    plan: &'a BenchPlan,
    limits: SearchLimits,
    slo: Option<&'a SloTarget>,
    opts: MetricOptions,
    prompt_tokens: u32,
    started: Instant,
    /// What the search bisects: each level's tier, or with an SLO, A
    /// where it attained it and C where it did not.
    tested: BTreeMap<u32, Tier>,
    levels: Vec<SearchLevel>,
    refused: BTreeMap<u32, String>,
    sent: u64,
    warnings: Vec<String>,
}

/// Searches `plan`'s target (its first level's prompt length; its load is
/// replaced by the search's) with `runner`. Each level's files go to
/// the level `cN` of `out` when it is given. With `slo`, the search
/// bisects the boundary of its attainment instead of the tiers'.
pub fn search(
    runner: &Runner,
    plan: &BenchPlan,
    limits: SearchLimits,
    slo: Option<&SloTarget>,
    out: Option<&RunDir>,
    progress: &dyn Progress,
) -> anyhow::Result<SearchOutcome> {
    let mut s = Search {
        runner,
        plan,
        limits,
        slo,
        opts: MetricOptions {
            stall_threshold_s: runner.profile.stall_threshold_ms / 1000.0,
            network_overhead_s: plan.network_overhead_s,
        },
        prompt_tokens: plan.levels.first().map_or(256, |l| l.prompt_tokens),
        started: Instant::now(),
        tested: BTreeMap::new(),
        levels: Vec::new(),
        refused: BTreeMap::new(),
        sent: 0,
        warnings: Vec::new(),
    };
    let mut stopped = None;
    while let Some(c) = next_level(&s.tested, limits.max_concurrency) {
        stopped = s.step(c, out, progress);
        if stopped.is_some() {
            break;
        }
    }
    s.levels.sort_by_key(|m| m.concurrency);
    let tiers: BTreeMap<u32, Tier> = match slo {
        Some(_) => (s.levels.iter().map(|l| (l.concurrency, l.tier)))
            .chain(s.refused.keys().map(|&c| (c, Tier::C)))
            .collect(),
        None => s.tested.clone(),
    };
    Ok(SearchOutcome {
        limits,
        tier_a: bracket(&tiers, Tier::A),
        tier_b: bracket(&tiers, Tier::B),
        slo: slo.map(|target| s.slo_boundary(target)),
        levels: s.levels,
        refused: s.refused,
        stopped,
        warnings: s.warnings,
    })
}

impl Search<'_> {
    /// Runs level `c` if the budgets allow; why the search stops, if it
    /// does.
    fn step(&mut self, c: u32, out: Option<&RunDir>, progress: &dyn Progress) -> Option<String> {
        let remaining = self
            .limits
            .time_budget
            .saturating_sub(self.started.elapsed());
        if remaining < Duration::from_millis(100) {
            return Some(format!(
                "the time budget ({} s) is spent",
                self.limits.time_budget.as_secs_f64()
            ));
        }
        let requests = self.requests(c);
        // A trace level sends its window (capped by --requests-per-level).
        let planned = requests.min(self.runner.trace_requests().unwrap_or(u64::MAX));
        if self.sent + planned > self.limits.max_requests {
            return Some(format!(
                "{} {} would be exceeded",
                Setting::MaxRequests,
                self.limits.max_requests
            ));
        }
        let level = LevelPlan {
            load: self.limits.axis.load(c),
            prompt_tokens: self.prompt_tokens,
        };
        let level_plan = BenchPlan {
            requests,
            duration: Some(remaining),
            levels: vec![level],
            ..self.plan.clone()
        };
        let label = self.limits.axis.label(c);
        let dir = out.map(|d| d.level(&label));
        let run = LevelRun {
            level,
            label,
            position: Some(format!(
                "{} (level {})",
                self.limits.axis.label(c),
                self.levels.len() + 1
            )),
            dir: dir.as_ref(),
        };
        match self
            .runner
            .run_level(&level_plan, run, progress, &mut self.warnings)
        {
            Ok(result) => self.measured(c, result),
            Err(e) => self.failed(c, &e, planned),
        }
    }

    /// Requests of level `c`: three rounds per stream (with sessions, of
    /// several turns each, one session per user already gives several
    /// rounds), at least 8; a trace level its whole window.
    fn requests(&self, c: u32) -> u64 {
        let rounds = if self.plan.sessions.is_some() { 1 } else { 3 };
        match (self.limits.axis, self.limits.requests_per_level) {
            (_, Some(n)) => n,
            (SearchAxis::Concurrency, None) => (rounds * u64::from(c)).max(8),
            (SearchAxis::TraceSpeed { .. }, None) => u64::MAX,
        }
    }

    /// Keeps level `c`'s result; the search stops when it was interrupted.
    fn measured(&mut self, c: u32, result: LevelResult) -> Option<String> {
        let profile = &self.runner.profile;
        let s = &result.summary;
        self.sent += s.counts.sent;
        let tier = level_tier(result.grade.overall, s.counts.sent);
        let d = s.throughput.duration_s;
        let goodput = (
            goodput(&result.records, d, profile, &self.opts, Tier::A),
            goodput(&result.records, d, profile, &self.opts, Tier::B),
        );
        let partial = s.partial;
        let attainment = self
            .slo
            .map(|t| Attainment::of(&result.records, d, &t.slo, &self.opts));
        let held = match (&attainment, self.slo) {
            (Some(a), Some(t)) if a.attains(t.attainment_pct) => Tier::A,
            (Some(_), _) => Tier::C,
            _ => tier,
        };
        self.tested.insert(c, held);
        self.levels.push(SearchLevel {
            concurrency: c,
            trace_speed: self.limits.axis.speed(c),
            tier,
            result,
            goodput,
            attainment,
        });
        partial.then(|| "interrupted".into())
    }

    /// Every request of level `c` failed: a dead target ends the search
    /// with what it has; a live one that refuses this load is tier C there.
    fn failed(&mut self, c: u32, e: &anyhow::Error, planned: u64) -> Option<String> {
        self.tested.insert(c, Tier::C);
        if let Err(down) = self.runner.probe() {
            let label = self.limits.axis.label(c);
            return Some(format!("level {label} failed entirely ({e:#}); {down:#}"));
        }
        self.sent += planned;
        self.refused.insert(c, format!("{e:#}"));
        None
    }

    /// The SLO's boundary among the levels tested, and the limit the most
    /// requests missed at the first level that did not attain it.
    fn slo_boundary(&self, target: &SloTarget) -> SloBoundary {
        let bracket = bracket(&self.tested, Tier::A);
        let binding = bracket.first_failing.and_then(|c| {
            let level = self.levels.iter().find(|l| l.concurrency == c)?;
            level.attainment.as_ref()?.most_missed()
        });
        SloBoundary {
            target: target.clone(),
            bracket,
            binding,
        }
    }
}
