//! `tokenpace capacity`'s search as a loop over real levels: concurrency
//! doubles until a level falls to tier C or reaches the maximum, then the
//! tier-A and tier-B boundaries are bisected (the decisions are pure, in
//! [`tokenpace_core::capacity`]; this runs the levels they ask for, within
//! a time budget and a request budget).

use crate::plan::{BenchPlan, Level};
use crate::runner::{LevelResult, LevelRun, Progress, Runner};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use tokenpace_client::load::Load;
use tokenpace_core::capacity::{bracket, level_tier, meets_targets, next_level, Bracket};
use tokenpace_core::grade::Tier;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::request_metrics::MetricOptions;
use tokenpace_rundir::RunDir;

/// What the search varies.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum SearchAxis {
    /// Closed-loop concurrency (users, with sessions): level n runs n
    /// streams.
    Concurrency,
    /// A trace's replay speed: level n replays it at n × `step` times its
    /// own pace, so bisection stops at adjacent multiples of `step`.
    TraceSpeed {
        /// The speed of level 1, and the search's resolution.
        step: f64,
    },
}

impl SearchAxis {
    /// Level `n`'s load.
    pub fn load(self, n: u32) -> Load {
        match self {
            SearchAxis::Concurrency => Load::Closed { concurrency: n },
            SearchAxis::TraceSpeed { step } => Load::Trace {
                speed: self.speed(n).unwrap_or(step),
            },
        }
    }

    /// Level `n`'s replay speed (trace searches only), rounded so that
    /// steps like 0.1 print as 0.3, not 0.30000000000000004.
    pub fn speed(self, n: u32) -> Option<f64> {
        match self {
            SearchAxis::Concurrency => None,
            SearchAxis::TraceSpeed { step } => Some((f64::from(n) * step * 1e6).round() / 1e6),
        }
    }

    /// Level `n`'s name: `c8`, or `t2.5` (as bench names its levels).
    pub fn label(self, n: u32) -> String {
        match self.speed(n) {
            Some(speed) => format!("t{speed}"),
            None => format!("c{n}"),
        }
    }
}

/// The search's limits.
#[derive(Debug, Clone, Copy)]
pub struct SearchLimits {
    /// What the levels vary.
    pub axis: SearchAxis,
    /// Highest level to try: a concurrency, or a number of speed steps.
    pub max_concurrency: u32,
    /// Stop after this long (the level running then is cut short).
    pub time_budget: Duration,
    /// Requests per level; `None`: 3 × the concurrency, at least 8 (a
    /// trace: its window).
    pub requests_per_level: Option<u64>,
    /// Stop once this many requests were sent in all.
    pub max_requests: u64,
}

/// One measured level of the search.
#[derive(Debug, Clone)]
pub struct SearchLevel {
    /// Its concurrency (a trace search: its number of speed steps).
    pub concurrency: u32,
    /// A trace search: the replay speed.
    pub trace_speed: Option<f64>,
    /// The tier it held (tier C when more than 1 % of requests failed).
    pub tier: Tier,
    /// What was measured.
    pub result: LevelResult,
    /// Requests/s that met every tier-A target, and every tier-B target.
    pub goodput: (f64, f64),
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// Measured levels, by concurrency.
    pub levels: Vec<SearchLevel>,
    /// Levels where every request failed while the target still answered
    /// (counted as tier C), with the reason.
    pub refused: BTreeMap<u32, String>,
    /// The tier-A boundary.
    pub tier_a: Bracket,
    /// The tier-B boundary.
    pub tier_b: Bracket,
    /// Why the search ended before it was complete, if it did.
    pub stopped: Option<String>,
    /// Warnings from the levels.
    pub warnings: Vec<String>,
}

/// Requests per second of `records` that met every target of `tier` on
/// their own.
pub fn goodput(
    records: &[RequestRecord],
    duration_s: f64,
    profile: &Profile,
    opts: &MetricOptions,
    tier: Tier,
) -> f64 {
    if duration_s <= 0.0 {
        return 0.0;
    }
    let n = records
        .iter()
        .filter(|r| meets_targets(r, profile, opts, tier))
        .count();
    n as f64 / duration_s
}

/// Searches `plan`'s target (its first level's prompt length; its load is
/// replaced by the search's) with `runner`. Each level's files go to
/// the level `cN` of `out` when it is given.
pub fn search(
    runner: &Runner,
    plan: &BenchPlan,
    limits: SearchLimits,
    out: Option<&RunDir>,
    progress: &dyn Progress,
) -> anyhow::Result<SearchOutcome> {
    let profile = &runner.profile;
    let opts = MetricOptions {
        stall_threshold_s: profile.stall_threshold_ms / 1000.0,
        network_overhead_s: plan.network_overhead_s,
    };
    let prompt_tokens = plan.levels.first().map_or(256, |l| l.prompt_tokens);
    let started = Instant::now();
    let (mut tested, mut levels) = (BTreeMap::new(), Vec::<SearchLevel>::new());
    let (mut sent, mut stopped, mut warnings) = (0u64, None::<String>, Vec::new());
    let mut refused: BTreeMap<u32, String> = BTreeMap::new();
    while let Some(c) = next_level(&tested, limits.max_concurrency) {
        let remaining = limits.time_budget.saturating_sub(started.elapsed());
        if remaining < Duration::from_millis(100) {
            stopped = Some(format!(
                "the time budget ({} s) is spent",
                limits.time_budget.as_secs_f64()
            ));
            break;
        }
        // Three rounds of requests per stream; with sessions (several turns
        // each) one session per user already gives several rounds.
        let rounds = if plan.sessions.is_some() { 1 } else { 3 };
        let requests = match (limits.axis, limits.requests_per_level) {
            (_, Some(n)) => n,
            (SearchAxis::Concurrency, None) => (rounds * u64::from(c)).max(8),
            (SearchAxis::TraceSpeed { .. }, None) => u64::MAX,
        };
        // A trace level sends its window (capped by --requests-per-level).
        let planned = requests.min(runner.trace_requests().unwrap_or(u64::MAX));
        if sent + planned > limits.max_requests {
            stopped = Some(format!(
                "--max-requests {} would be exceeded",
                limits.max_requests
            ));
            break;
        }
        let level = Level {
            load: limits.axis.load(c),
            prompt_tokens,
        };
        let level_plan = BenchPlan {
            requests,
            duration: Some(remaining),
            levels: vec![level],
            ..plan.clone()
        };
        let label = limits.axis.label(c);
        let dir = out.map(|d| d.level(&label));
        let position = Some(format!("{label} (level {})", levels.len() + 1));
        let run = LevelRun {
            level,
            label,
            position,
            dir: dir.as_ref(),
        };
        match runner.run_level(&level_plan, run, progress, &mut warnings) {
            Ok(result) => {
                let s = &result.summary;
                sent += s.counts.sent;
                let tier = level_tier(result.grade.overall, s.counts.sent);
                let d = s.throughput.duration_s;
                let goodput = (
                    goodput(&result.records, d, profile, &opts, Tier::A),
                    goodput(&result.records, d, profile, &opts, Tier::B),
                );
                let partial = s.partial;
                tested.insert(c, tier);
                levels.push(SearchLevel {
                    concurrency: c,
                    trace_speed: limits.axis.speed(c),
                    tier,
                    result,
                    goodput,
                });
                if partial {
                    stopped = Some("interrupted".into());
                    break;
                }
            }
            // Every request failed: a dead target ends the search with what
            // we have; a live one that refuses this load is tier C there.
            Err(e) => {
                tested.insert(c, Tier::C);
                if let Err(down) = runner.probe() {
                    let label = limits.axis.label(c);
                    stopped = Some(format!("level {label} failed entirely ({e:#}); {down:#}"));
                    break;
                }
                sent += planned;
                refused.insert(c, format!("{e:#}"));
            }
        }
    }
    levels.sort_by_key(|m| m.concurrency);
    Ok(SearchOutcome {
        tier_a: bracket(&tested, Tier::A),
        tier_b: bracket(&tested, Tier::B),
        levels,
        refused,
        stopped,
        warnings,
    })
}
