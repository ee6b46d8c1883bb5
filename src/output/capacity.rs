//! `tokenpace capacity`'s result: each level's tier and graded metrics, the
//! tier-A and tier-B boundaries, and why each boundary lies where it does.

use serde::Serialize;
use std::collections::BTreeMap;
use tokenpace_core::capacity::Bracket;
use tokenpace_core::grade::{Grade, Tier};
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};
use tokenpace_runner::capacity::SearchAxis;

/// One measured level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapacityLevel {
    /// Concurrent streams (absent in a trace search).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// A trace search: how many times faster than the trace it was replayed.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub trace_speed: Option<f64>,
    /// The tier it held (C when more than 1 % of requests failed).
    pub tier: Tier,
    /// Requests/s that met every tier-A target on their own.
    pub goodput_a_per_s: f64,
    /// Requests/s that met every tier-B target on their own.
    pub goodput_b_per_s: f64,
    /// What was measured.
    pub summary: RunSummary,
    /// The grade on the profile.
    pub grade: Grade,
    /// The search's level number (its concurrency, or its speed steps).
    #[serde(skip)]
    pub step: u32,
}

/// The search's result. A concurrency search fills the `*_concurrency`
/// fields, a trace search the `*_trace_speed` ones.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapacityOutput {
    /// The largest concurrency that held tier A (0: none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_a_max_concurrency: Option<u32>,
    /// The smallest concurrency that fell below tier A, if any was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_a_first_failing: Option<u32>,
    /// The largest concurrency that held tier B (0: none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_b_max_concurrency: Option<u32>,
    /// The smallest concurrency that fell below tier B, if any was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_b_first_failing: Option<u32>,
    /// The fastest replay of the trace that held tier A (0: none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_a_max_trace_speed: Option<f64>,
    /// The slowest replay that fell below tier A, if any was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_a_first_failing_trace_speed: Option<f64>,
    /// The fastest replay of the trace that held tier B (0: none did).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_b_max_trace_speed: Option<f64>,
    /// The slowest replay that fell below tier B, if any was tried.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tier_b_first_failing_trace_speed: Option<f64>,
    /// Why the search ended early, if it did.
    pub stopped: Option<String>,
    /// Measured levels, by load.
    pub levels: Vec<CapacityLevel>,
    /// Levels where every request failed (tier C), with the reason, by
    /// level name (`c8`, or `t2.5` for a trace at 2.5×).
    pub failed_levels: BTreeMap<String, String>,
    /// What the search varied.
    #[serde(skip)]
    pub axis: SearchAxis,
    /// The tier-A and tier-B boundaries in levels of `axis`.
    #[serde(skip)]
    pub brackets: (Bracket, Bracket),
    /// The highest level the search could try.
    #[serde(skip)]
    pub max_level: u32,
    /// Show the goodput columns.
    #[serde(skip)]
    pub show_goodput: bool,
}

impl CapacityOutput {
    /// The result of a search along `axis` with these boundaries: the
    /// summary fields filled for that axis.
    pub fn new(
        axis: SearchAxis,
        brackets: (Bracket, Bracket),
        levels: Vec<CapacityLevel>,
        failed_levels: BTreeMap<String, String>,
        stopped: Option<String>,
    ) -> CapacityOutput {
        let (a, b) = brackets;
        let speed = |n: u32| axis.speed(n).unwrap_or(0.0);
        let is_trace = matches!(axis, SearchAxis::TraceSpeed { .. });
        let conc = |n: Option<u32>| if is_trace { None } else { n };
        let trace = |n: Option<u32>| if is_trace { n.map(speed) } else { None };
        CapacityOutput {
            tier_a_max_concurrency: conc(Some(a.last_holding)),
            tier_a_first_failing: conc(a.first_failing),
            tier_b_max_concurrency: conc(Some(b.last_holding)),
            tier_b_first_failing: conc(b.first_failing),
            tier_a_max_trace_speed: trace(Some(a.last_holding)),
            tier_a_first_failing_trace_speed: trace(a.first_failing),
            tier_b_max_trace_speed: trace(Some(b.last_holding)),
            tier_b_first_failing_trace_speed: trace(b.first_failing),
            stopped,
            levels,
            failed_levels,
            axis,
            brackets,
            max_level: 0,
            show_goodput: false,
        }
    }

    fn bracket(&self, tier: Tier) -> Bracket {
        match tier {
            Tier::A => self.brackets.0,
            _ => self.brackets.1,
        }
    }
}

impl Output for CapacityOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        let Some(first) = self.levels.first() else {
            return d;
        };
        d.title(crate::output::run::target_and_model(&first.summary))
            .blank();
        d.table(self.table(lang)).blank();
        for (level, why) in &self.failed_levels {
            d.line(format!(
                "{level}: {} ({why})",
                lang.pick(
                    "every request failed; counted as tier C",
                    "所有请求失败，按 C 级计"
                )
            ));
        }
        for tier in [Tier::A, Tier::B] {
            d.line(self.boundary_line(tier, lang));
        }
        // Prompt lengths are the same at every level: say it once.
        if let Some(n) = self
            .levels
            .iter()
            .find_map(|l| l.grade.prefill_not_measurable.as_ref())
        {
            d.line(tokenpace_present::labels::prefill_not_measurable(lang, n));
        }
        if let Some(why) = &self.stopped {
            d.line(format!(
                "{}: {why}",
                lang.pick("search ended early", "搜索提前结束")
            ));
        }
        d
    }

    fn csv(&self) -> Option<Table> {
        let levels: Vec<(String, &RunSummary, &Grade)> = self
            .levels
            .iter()
            .map(|l| (self.axis.label(l.step), &l.summary, &l.grade))
            .collect();
        Some(crate::output::run::csv_table(&levels))
    }
}

impl CapacityOutput {
    fn table(&self, lang: Lang) -> Table {
        let graded = &self.levels[0].grade.metrics;
        let mut header: Vec<(String, Align)> = vec![
            (lang.pick("level", "负载").into(), Align::Left),
            ("ok".into(), Align::Right),
        ];
        for g in graded {
            let st = g.statistic.map_or(String::new(), |s| format!(" {s}"));
            header.push((
                format!("{}{st}", labels::short(lang, g.metric)),
                Align::Right,
            ));
        }
        header.push(("req/s".into(), Align::Right));
        if self.show_goodput {
            header.push((lang.pick("goodput A", "达标吞吐 A").into(), Align::Right));
            header.push((lang.pick("goodput B", "达标吞吐 B").into(), Align::Right));
        }
        header.push((lang.pick("tier", "等级").into(), Align::Left));
        header.push((String::new(), Align::Left));
        let cols: Vec<(&str, Align)> = header.iter().map(|(h, al)| (h.as_str(), *al)).collect();
        let mut t = Table::new(&cols);
        let (a, b) = (self.bracket(Tier::A), self.bracket(Tier::B));
        for l in &self.levels {
            let s = &l.summary;
            let mut row = vec![
                self.axis.label(l.step),
                format!("{}/{}", s.counts.ok, s.counts.sent),
            ];
            for g0 in graded {
                let v = l.grade.metrics.iter().find(|g| g.metric == g0.metric);
                row.push(v.map_or("-".into(), |g| number::value(g.metric, g.value)));
            }
            row.push(format!("{:.2}", s.throughput.requests_per_s));
            if self.show_goodput {
                row.push(format!("{:.2}", l.goodput_a_per_s));
                row.push(format!("{:.2}", l.goodput_b_per_s));
            }
            row.push(l.tier.to_string());
            let mut mark = Vec::new();
            if a.last_holding == l.step && a.first_failing.is_some() {
                mark.push(lang.pick("← knee: last A", "← 拐点：最后一个 A"));
            }
            if b.last_holding == l.step && b.first_failing.is_some() {
                mark.push(lang.pick("← last B", "← 最后一个 B"));
            }
            row.push(mark.join(" "));
            t.row(row);
        }
        t
    }

    /// "tier A holds up to concurrency 9; at 10: decode 28.8 tok/s (B)", or
    /// for a trace "tier A holds up to trace speed ×2.5; at ×2.75: …".
    fn boundary_line(&self, tier: Tier, lang: Lang) -> String {
        let br = self.bracket(tier);
        let trace = matches!(self.axis, SearchAxis::TraceSpeed { .. });
        let held = match (br.last_holding, trace) {
            (0, false) => format!(
                "{} {tier} {}",
                lang.pick("tier", "等级"),
                lang.pick(
                    "is not reached even at concurrency 1",
                    "在并发 1 时也达不到"
                )
            ),
            (0, true) => format!(
                "{} {tier} {} {}",
                lang.pick("tier", "等级"),
                lang.pick(
                    "is not reached even replaying the trace at",
                    "在轨迹回放速度最低时也达不到："
                ),
                self.level_name(1)
            ),
            (n, false) => format!(
                "{} {tier} {} {n}",
                lang.pick("tier", "等级"),
                lang.pick("holds up to concurrency", "最高可承受并发"),
            ),
            (n, true) => format!(
                "{} {tier} {} {}",
                lang.pick("tier", "等级"),
                lang.pick("holds up to trace speed", "最高可承受轨迹回放速度"),
                self.level_name(n)
            ),
        };
        let why = match br.first_failing {
            Some(c) => {
                let word = match trace {
                    false => lang.pick("at", "并发"),
                    true => lang.pick("at", "速度"),
                };
                let reasons = self.shortfalls(c, tier, lang);
                format!("; {word} {}: {}", self.level_name(c), reasons.join(", "))
            }
            None if br.last_holding >= self.max_level => {
                let flag = match trace {
                    false => "--max-concurrency",
                    true => "--max-trace-speed",
                };
                format!("; {} ({flag})", lang.pick("the most tried", "已达上限"))
            }
            None => String::new(),
        };
        format!("{held}{why}")
    }

    /// How level `n` reads after "at" / "up to": `×2.5` for a trace speed,
    /// else the concurrency.
    fn level_name(&self, n: u32) -> String {
        match self.axis.speed(n) {
            Some(x) => format!("×{x}"),
            None => n.to_string(),
        }
    }

    /// Why level `step` fell below `tier`: each metric graded worse, with
    /// its value and tier, and the failed requests if any.
    fn shortfalls(&self, step: u32, tier: Tier, lang: Lang) -> Vec<String> {
        let Some(l) = self.levels.iter().find(|l| l.step == step) else {
            return Vec::new();
        };
        let counts = &l.summary.counts;
        let mut r: Vec<String> = l
            .grade
            .metrics
            .iter()
            .filter(|g| g.tier > tier)
            .map(|g| {
                format!(
                    "{} {} ({})",
                    lang.metric(g.metric),
                    number::with_unit(g.metric, g.value),
                    g.tier
                )
            })
            .collect();
        if counts.failed > 0 {
            r.push(match lang {
                Lang::En => format!("{} of {} requests failed", counts.failed, counts.sent),
                Lang::Zh => format!("{} 个请求中 {} 个失败", counts.sent, counts.failed),
            });
        }
        r
    }
}
