//! `tokenpace capacity`'s result: each level's tier and graded metrics, the
//! tier-A and tier-B boundaries, and why each boundary lies where it does.

use serde::Serialize;
use std::collections::BTreeMap;
use tokenpace_core::capacity::Bracket;
use tokenpace_core::grade::{Grade, Tier};
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};

/// One measured level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapacityLevel {
    /// Concurrent streams.
    pub concurrency: u32,
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
}

/// The search's result.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CapacityOutput {
    /// The largest concurrency that held tier A (0: none did).
    pub tier_a_max_concurrency: u32,
    /// The smallest concurrency that fell below tier A, if any was tried.
    pub tier_a_first_failing: Option<u32>,
    /// The largest concurrency that held tier B (0: none did).
    pub tier_b_max_concurrency: u32,
    /// The smallest concurrency that fell below tier B, if any was tried.
    pub tier_b_first_failing: Option<u32>,
    /// Why the search ended early, if it did.
    pub stopped: Option<String>,
    /// Measured levels, by concurrency.
    pub levels: Vec<CapacityLevel>,
    /// Levels where every request failed (tier C), with the reason.
    pub failed_levels: BTreeMap<u32, String>,
    /// The highest concurrency the search could try.
    #[serde(skip)]
    pub max_concurrency: u32,
    /// Show the goodput columns.
    #[serde(skip)]
    pub show_goodput: bool,
}

impl CapacityOutput {
    fn bracket(&self, tier: Tier) -> Bracket {
        match tier {
            Tier::A => Bracket {
                last_holding: self.tier_a_max_concurrency,
                first_failing: self.tier_a_first_failing,
            },
            _ => Bracket {
                last_holding: self.tier_b_max_concurrency,
                first_failing: self.tier_b_first_failing,
            },
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
        for (c, why) in &self.failed_levels {
            d.line(format!(
                "c{c}: {} ({why})",
                lang.pick(
                    "every request failed; counted as tier C",
                    "所有请求失败，按 C 级计"
                )
            ));
        }
        for tier in [Tier::A, Tier::B] {
            d.line(self.boundary_line(tier, lang));
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
            .map(|l| (format!("c{}", l.concurrency), &l.summary, &l.grade))
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
                format!("c{}", l.concurrency),
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
            if a.last_holding == l.concurrency && a.first_failing.is_some() {
                mark.push(lang.pick("← knee: last A", "← 拐点：最后一个 A"));
            }
            if b.last_holding == l.concurrency && b.first_failing.is_some() {
                mark.push(lang.pick("← last B", "← 最后一个 B"));
            }
            row.push(mark.join(" "));
            t.row(row);
        }
        t
    }

    /// "tier A holds up to concurrency 9; at 10: decode 28.8 tok/s (B)".
    fn boundary_line(&self, tier: Tier, lang: Lang) -> String {
        let br = self.bracket(tier);
        let held = if br.last_holding == 0 {
            format!(
                "{} {tier} {}",
                lang.pick("tier", "等级"),
                lang.pick(
                    "is not reached even at concurrency 1",
                    "在并发 1 时也达不到"
                )
            )
        } else {
            format!(
                "{} {tier} {} {}",
                lang.pick("tier", "等级"),
                lang.pick("holds up to concurrency", "最高可承受并发"),
                br.last_holding
            )
        };
        let why = match br.first_failing {
            Some(c) => {
                let reasons: Vec<String> = self
                    .levels
                    .iter()
                    .find(|l| l.concurrency == c)
                    .map(|l| {
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
                                Lang::En => {
                                    format!("{} of {} requests failed", counts.failed, counts.sent)
                                }
                                Lang::Zh => {
                                    format!("{} 个请求中 {} 个失败", counts.sent, counts.failed)
                                }
                            });
                        }
                        r
                    })
                    .unwrap_or_default();
                format!("; {} {c}: {}", lang.pick("at", "并发"), reasons.join(", "))
            }
            None if br.last_holding >= self.max_concurrency => {
                format!(
                    "; {} (--max-concurrency)",
                    lang.pick("the most tried", "已达上限")
                )
            }
            None => String::new(),
        };
        format!("{held}{why}")
    }
}
