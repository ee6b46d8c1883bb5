//! `tokenpace capacity`'s result: each level's tier and graded metrics, the
//! tier-A and tier-B boundaries, and why each boundary lies where it does.

use serde::Serialize;
use std::collections::BTreeMap;
use tokenpace_core::capacity::Bracket;
use tokenpace_core::grade::{Grade, Tier};
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};
use tokenpace_rundir::{Capacity, CapacitySlo};
use tokenpace_runner::capacity::{SearchAxis, SearchOutcome};

pub use tokenpace_rundir::CapacityLevel;

/// The search's result: what `capacity.json` stores (and `--format json`
/// prints), with what the tables need besides.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapacityOutput {
    /// The result as `capacity.json` stores it.
    #[serde(flatten)]
    pub found: Capacity,
    /// Each level's search step (its concurrency, or its speed steps), in
    /// the order of `found.levels`.
    #[serde(skip)]
    pub steps: Vec<u32>,
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
    /// A search by an SLO: its boundary in levels of `axis`.
    #[serde(skip)]
    pub slo_bracket: Option<Bracket>,
}

impl CapacityOutput {
    /// The result of a search along `axis` with these boundaries, from its
    /// levels each with its search step: the summary fields filled for
    /// that axis.
    pub fn new(
        axis: SearchAxis,
        brackets: (Bracket, Bracket),
        levels: Vec<(u32, CapacityLevel)>,
        failed_levels: BTreeMap<String, String>,
        stopped: Option<String>,
    ) -> CapacityOutput {
        let (a, b) = brackets;
        let speed = |n: u32| axis.speed(n).unwrap_or(0.0);
        let is_trace = matches!(axis, SearchAxis::TraceSpeed { .. });
        let conc = |n: Option<u32>| if is_trace { None } else { n };
        let trace = |n: Option<u32>| if is_trace { n.map(speed) } else { None };
        let (steps, levels): (Vec<u32>, Vec<CapacityLevel>) = levels.into_iter().unzip();
        let found = Capacity {
            tier_a_max_concurrency: conc(Some(a.last_holding)),
            tier_a_first_failing: conc(a.first_failing),
            tier_b_max_concurrency: conc(Some(b.last_holding)),
            tier_b_first_failing: conc(b.first_failing),
            tier_a_max_trace_speed: trace(Some(a.last_holding)),
            tier_a_first_failing_trace_speed: trace(a.first_failing),
            tier_b_max_trace_speed: trace(Some(b.last_holding)),
            tier_b_first_failing_trace_speed: trace(b.first_failing),
            slo: None,
            stopped,
            levels,
            failed_levels,
        };
        CapacityOutput {
            found,
            steps,
            axis,
            brackets,
            max_level: 0,
            show_goodput: false,
            slo_bracket: None,
        }
    }

    /// Each measured level with its search step.
    fn levels(&self) -> impl Iterator<Item = (u32, &CapacityLevel)> {
        self.steps.iter().copied().zip(&self.found.levels)
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
        let Some(first) = self.found.levels.first() else {
            return d;
        };
        d.title(crate::output::run::target_and_model(&first.summary))
            .blank();
        d.table(self.table(lang)).blank();
        for (level, why) in &self.found.failed_levels {
            d.line(format!(
                "{level}: {} ({why})",
                lang.pick(
                    "every request failed; counted as tier C",
                    "所有请求失败，按 C 级计"
                )
            ));
        }
        match self.slo_line(lang) {
            Some(line) => {
                d.line(line);
            }
            None => {
                for tier in [Tier::A, Tier::B] {
                    d.line(self.boundary_line(tier, lang));
                }
            }
        }
        // Prompt lengths are the same at every level: say it once.
        if let Some(n) = self
            .found
            .levels
            .iter()
            .find_map(|l| l.grade.prefill_not_measurable.as_ref())
        {
            d.line(tokenpace_present::labels::prefill_not_measurable(lang, n));
        }
        if let Some(why) = &self.found.stopped {
            d.line(format!(
                "{}: {why}",
                lang.pick("search ended early", "搜索提前结束")
            ));
        }
        d
    }

    fn csv(&self) -> Option<Table> {
        let levels: Vec<(String, &RunSummary, &Grade)> = self
            .levels()
            .map(|(step, l)| (self.axis.label(step), &l.summary, &l.grade))
            .collect();
        Some(crate::output::run::csv_table(&levels))
    }
}

impl CapacityOutput {
    fn table(&self, lang: Lang) -> Table {
        let graded = &self.found.levels[0].grade.metrics;
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
        if self.slo_bracket.is_some() {
            header.push((lang.pick("SLO met", "达标率").into(), Align::Right));
            header.push((lang.pick("good req/s", "达标请求/s").into(), Align::Right));
        }
        header.push((lang.pick("tier", "等级").into(), Align::Left));
        header.push((String::new(), Align::Left));
        let cols: Vec<(&str, Align)> = header.iter().map(|(h, al)| (h.as_str(), *al)).collect();
        let mut t = Table::new(&cols);
        let (a, b) = (self.bracket(Tier::A), self.bracket(Tier::B));
        for (step, l) in self.levels() {
            let s = &l.summary;
            let mut row = vec![
                self.axis.label(step),
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
            if let Some(a) = &l.slo {
                row.push(format!("{:.0} %", a.met_pct()));
                row.push(format!("{:.2}", a.good_per_s));
            }
            row.push(l.tier.to_string());
            let mut mark = Vec::new();
            if let Some(br) = self.slo_bracket {
                if br.last_holding == step && br.first_failing.is_some() {
                    mark.push(lang.pick("← last meeting the SLO", "← 最后一个达标"));
                }
            }
            if self.slo_bracket.is_none() && a.last_holding == step && a.first_failing.is_some() {
                mark.push(lang.pick("← knee: last A", "← 拐点：最后一个 A"));
            }
            if self.slo_bracket.is_none() && b.last_holding == step && b.first_failing.is_some() {
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
        let Some((_, l)) = self.levels().find(|&(s, _)| s == step) else {
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

    /// A search by an SLO: "SLO mlperf-interactive:llama-3.1-8b (TTFT ≤
    /// 500 ms, TPOT ≤ 30 ms) met by ≥ 90 % of requests up to concurrency 9;
    /// at 10: 0 % met, most missed TPOT".
    fn slo_line(&self, lang: Lang) -> Option<String> {
        let (found, br) = (self.found.slo.as_ref()?, self.slo_bracket?);
        let held = match br.last_holding {
            0 => lang
                .pick("not even at the first level", "第一级也未达到")
                .to_string(),
            n => match self.axis {
                SearchAxis::Concurrency => {
                    format!("{} {n}", lang.pick("up to concurrency", "最高并发"))
                }
                SearchAxis::TraceSpeed { .. } => {
                    let up_to = lang.pick("up to trace speed", "最高轨迹回放速度");
                    format!("{up_to} {}", self.level_name(n))
                }
            },
        };
        let why = match br.first_failing {
            Some(c) => {
                let met = self
                    .levels()
                    .find(|&(s, _)| s == c)
                    .and_then(|(_, l)| l.slo.as_ref());
                let pct = met.map_or(String::new(), |a| format!(" {:.0} %", a.met_pct()));
                let binding = found.binding_limit.map_or(String::new(), |l| {
                    format!(", {} {l}", lang.pick("most missed", "最常超限："))
                });
                format!(
                    "; {} {}:{pct} {}{binding}",
                    lang.pick("at", "在"),
                    self.level_name(c),
                    lang.pick("met", "达标")
                )
            }
            None if br.last_holding >= self.max_level => {
                format!(
                    "; {} (--max-concurrency)",
                    lang.pick("the most tried", "已达上限")
                )
            }
            None => String::new(),
        };
        Some(format!(
            "SLO {} ({}) {} ≥ {} % {} {held}{why}",
            found.slo.name,
            crate::output::goodput::limits(&found.slo),
            lang.pick("met by", "达标率"),
            found.attainment_pct,
            lang.pick("of requests", "的请求"),
        ))
    }
}

impl CapacityOutput {
    /// The search as it is printed and written (`capacity.json`).
    pub fn from_search(found: SearchOutcome, show_goodput: bool) -> CapacityOutput {
        let axis = found.limits.axis;
        let levels = (found.levels.into_iter())
            .map(|l| {
                let level = CapacityLevel {
                    concurrency: l.trace_speed.is_none().then_some(l.concurrency),
                    trace_speed: l.trace_speed,
                    tier: l.tier,
                    goodput_a_per_s: l.goodput.0,
                    goodput_b_per_s: l.goodput.1,
                    summary: l.result.summary,
                    grade: l.result.grade,
                    slo: l.attainment,
                };
                (l.concurrency, level)
            })
            .collect();
        let failed = (found.refused.into_iter())
            .map(|(n, why)| (axis.label(n), why))
            .collect();
        let bounds = (found.tier_a, found.tier_b);
        let mut output = CapacityOutput::new(axis, bounds, levels, failed, found.stopped);
        if let Some(b) = found.slo {
            let load = |n: u32| axis.speed(n).unwrap_or(f64::from(n));
            output.found.slo = Some(CapacitySlo {
                attainment_pct: b.target.attainment_pct,
                slo: b.target.slo,
                max_load: load(b.bracket.last_holding),
                first_failing_load: b.bracket.first_failing.map(load),
                binding_limit: b.binding,
            });
            output.slo_bracket = Some(b.bracket);
        }
        output.max_level = found.limits.max_concurrency;
        output.show_goodput = show_goodput;
        output
    }
}
