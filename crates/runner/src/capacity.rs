//! `tokenpace capacity`'s search as a loop over real levels: concurrency
//! doubles until a level falls to tier C or reaches the maximum, then the
//! tier-A and tier-B boundaries are bisected (the decisions are pure, in
//! [`tokenpace_core::capacity`]; this runs the levels they ask for, within
//! a time budget and a request budget).

use crate::level::LevelResult;
use crate::plan::BenchPlan;
use crate::progress::{Progress, Stage};
use crate::runner::Runner;
use anyhow::bail;
use std::collections::BTreeMap;
use std::time::Duration;
use tokenpace_client::load::Load;
use tokenpace_core::capacity::{meets_targets, Bracket};
use tokenpace_core::grade::Tier;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::request_metrics::MetricOptions;
use tokenpace_core::setting::Setting;
use tokenpace_core::slo::{Attainment, Slo, SloLimit};
use tokenpace_rundir::RunDir;

pub use search::search;

mod search;

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
    /// With an SLO: how the level's requests fared against it.
    pub attainment: Option<Attainment>,
}

/// An SLO to search by: a level holds when at least `attainment_pct` % of
/// its requests meet `slo` (DistServe's goodput).
#[derive(Debug, Clone)]
pub struct SloTarget {
    /// The per-request limits.
    pub slo: Slo,
    /// The share of requests that must meet them, percent.
    pub attainment_pct: f64,
}

/// Where the SLO's attainment ends.
#[derive(Debug, Clone)]
pub struct SloBoundary {
    /// What was searched by.
    pub target: SloTarget,
    /// The highest level attaining it, and the first that did not.
    pub bracket: Bracket,
    /// The limit the most requests missed at the first level that did not.
    pub binding: Option<SloLimit>,
}

/// What the search found.
#[derive(Debug, Clone)]
pub struct SearchOutcome {
    /// The limits it ran within (its axis and highest level).
    pub limits: SearchLimits,
    /// Measured levels, by concurrency.
    pub levels: Vec<SearchLevel>,
    /// Levels where every request failed while the target still answered
    /// (counted as tier C), with the reason.
    pub refused: BTreeMap<u32, String>,
    /// The tier-A boundary.
    pub tier_a: Bracket,
    /// The tier-B boundary.
    pub tier_b: Bracket,
    /// With an SLO: its boundary, which the search bisected instead of the
    /// tiers' (the tier brackets are then those of the levels measured).
    pub slo: Option<SloBoundary>,
    /// Why the search ended before it was complete, if it did.
    pub stopped: Option<String>,
    /// Warnings from the levels.
    pub warnings: Vec<String>,
}

impl SearchOutcome {
    /// Whether Ctrl-C (or SIGTERM) cut a level short.
    pub fn partial(&self) -> bool {
        self.levels.iter().any(|l| l.result.summary.partial)
    }
}

/// What `capacity` asks of a search, before it is checked.
#[derive(Debug, Clone)]
pub struct SearchAsk {
    /// The highest concurrency to try (also the most requests in flight,
    /// whatever the axis).
    pub max_concurrency: u32,
    /// A trace search: the highest replay speed to try.
    pub max_trace_speed: f64,
    /// A trace search: the speed of its first level, and its resolution.
    pub trace_speed_step: f64,
    /// Stop after this long.
    pub time_budget: Duration,
    /// Requests per level (see [`SearchLimits::requests_per_level`]).
    pub requests_per_level: Option<u64>,
    /// Stop once this many requests were sent in all.
    pub max_requests: u64,
    /// Search by this SLO's attainment instead of the tiers.
    pub slo: Option<SloTarget>,
}

impl SearchAsk {
    /// The limits of a search over concurrency, or over a trace's replay
    /// speed when `trace`.
    pub fn limits(&self, trace: bool) -> anyhow::Result<SearchLimits> {
        let axis = match trace {
            true => SearchAxis::TraceSpeed {
                step: self.trace_speed_step,
            },
            false => SearchAxis::Concurrency,
        };
        let max_level = match axis {
            SearchAxis::Concurrency => self.max_concurrency,
            SearchAxis::TraceSpeed { step } => speed_steps(self.max_trace_speed, step)?,
        };
        Ok(SearchLimits {
            axis,
            max_concurrency: max_level,
            time_budget: self.time_budget,
            requests_per_level: self.requests_per_level,
            max_requests: self.max_requests,
        })
    }
}

/// Speed steps up to `max` (at least one): the search's highest level.
fn speed_steps(max: f64, step: f64) -> anyhow::Result<u32> {
    let steps = (max / step + 1e-9).floor();
    if steps < 1.0 {
        bail!(
            "{} {max} is below {} {step}: raise it, or lower the step",
            Setting::MaxTraceSpeed,
            Setting::TraceSpeedStep
        );
    }
    if steps > 100_000.0 {
        bail!(
            "{} {max} is {steps} steps of {step}: at most 100000 (raise {})",
            Setting::MaxTraceSpeed,
            Setting::TraceSpeedStep
        );
    }
    Ok(steps as u32)
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

/// `tokenpace capacity`: searches `plan`'s target within what `ask` allows,
/// every level graded on `profile`; each level's files go to the level
/// `cN` of `plan.out` when it is set. Fails when nothing answers, and when
/// no level could be measured (saying why).
pub fn run(
    plan: &BenchPlan,
    profile: Profile,
    ask: &SearchAsk,
    progress: &dyn Progress,
) -> anyhow::Result<SearchOutcome> {
    let run_dir = plan.out.as_ref().map(RunDir::new);
    if let Some(dir) = &run_dir {
        dir.create()?;
    }
    let runner = Runner::new(plan, profile, ask.max_concurrency as usize)?;
    progress.stage(Stage::Ready {
        prompts: runner.prompts(),
        synthetic: runner.synthetic(plan),
        http: runner.http_version(),
    });
    runner.probe()?;
    let limits = ask.limits(plan.workload.trace.is_some())?;
    let found = search(
        &runner,
        plan,
        limits,
        ask.slo.as_ref(),
        run_dir.as_ref(),
        progress,
    )?;
    for w in &found.warnings {
        progress.warning(w);
    }
    if found.levels.is_empty() {
        let why = found
            .stopped
            .clone()
            .or_else(|| {
                found
                    .refused
                    .iter()
                    .next()
                    .map(|(c, e)| format!("at c{c}: {e}"))
            })
            .unwrap_or_else(|| "nothing to do".into());
        bail!("no level was measured: {why}");
    }
    Ok(found)
}
