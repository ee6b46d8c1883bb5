//! `tokenpace compare`'s result: each run against the first, metric by
//! metric, and the regressions beyond `--fail-on-regression`.
//!
//! One sign convention everywhere: a change is the relative change of the
//! statistic, (run − baseline) ÷ baseline, so decode 40 → 32 tok/s is
//! `-20.0 %` in the table, in the gate line and in `change_pct`.

use serde::Serialize;
use tokenpace_core::metric::Metric;
use tokenpace_core::repeats::PercentileSpan;
use tokenpace_present::number::{percent_change, with_interval};
use tokenpace_present::{Align, Document, Lang, Output, Table};
use tokenpace_report::compare::{CompareOptions, Comparison, Verdict};
use tokenpace_report::compare_page::{change_text, p_text, verdict_text};
use tokenpace_report::Level;

/// Runs side by side against a baseline.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CompareOutput {
    /// When a change counts as significant.
    pub options: CompareOptions,
    /// Each run after the first against the first.
    pub comparisons: Vec<Comparison>,
    /// Graded metrics significantly worse than the baseline by more than
    /// `--fail-on-regression` percent (empty without that flag).
    pub regressions: Vec<Regression>,
    /// The `--fail-on-regression` threshold, percent.
    #[serde(skip)]
    pub fail_on_regression: Option<f64>,
    /// Who each run is (the lines above the tables).
    #[serde(skip)]
    pub runs: Vec<RunLine>,
    /// Workload settings that differ between the runs.
    #[serde(skip)]
    pub workload_differences: Vec<String>,
}

/// A graded metric that got worse beyond the gate.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Regression {
    /// The run that regressed.
    pub run: String,
    /// The metric.
    pub metric: Metric,
    /// (run − baseline) ÷ baseline, percent: the change as the table shows it.
    pub change_pct: f64,
    /// The change with its sign turned so that positive is worse.
    pub worse_pct: f64,
}

/// One run as the lines above the tables show it.
#[derive(Debug, Clone)]
pub struct RunLine {
    /// The name given on the command line.
    pub name: String,
    /// What was measured.
    pub target: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// When it started.
    pub started_at: Option<String>,
    /// Requests that succeeded.
    pub ok: u64,
    /// Requests sent.
    pub sent: u64,
}

impl RunLine {
    /// The line of `level`.
    pub fn of(level: &Level) -> RunLine {
        let s = &level.summary;
        RunLine {
            name: level.name.clone(),
            target: s.settings.target.clone(),
            model: s.settings.model.clone(),
            started_at: s.environment.started_at.clone(),
            ok: s.counts.ok,
            sent: s.counts.sent,
        }
    }
}

impl CompareOutput {
    /// The regressions of `comparisons` beyond `pct` percent.
    pub fn regressions(comparisons: &[Comparison], pct: f64) -> Vec<Regression> {
        comparisons
            .iter()
            .flat_map(|c| {
                c.regressions(pct).into_iter().map(|ch| Regression {
                    run: c.run.clone(),
                    metric: ch.metric,
                    change_pct: ch.change_pct.unwrap_or(0.0),
                    worse_pct: ch.worse_pct.unwrap_or(0.0),
                })
            })
            .collect()
    }
}

impl Output for CompareOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        let dash = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
        for r in &self.runs {
            d.item(format!(
                "{}: {} · {} · {} · {}/{} ok",
                r.name,
                dash(&r.target),
                dash(&r.model),
                dash(&r.started_at),
                r.ok,
                r.sent
            ));
        }
        for note in &self.workload_differences {
            d.note(format!(
                "{}: {note}",
                lang.pick("the workloads differ", "负载设置不同")
            ));
        }
        for c in &self.comparisons {
            d.blank().table(table(c, lang));
            for (name, span) in unsettled(c) {
                let line = crate::output::repeats::percentile_span_line(span, lang);
                d.line(format!("? {name}: {line}"));
            }
        }
        let intervals = (self.comparisons.iter().flat_map(|c| &c.changes))
            .any(|ch| ch.base_interval.is_some() || ch.interval.is_some());
        if intervals {
            d.line(crate::output::run::interval_note(lang));
        }
        let o = &self.options;
        d.blank().line(match lang {
            Lang::En => format!(
                "significant: Mann-Whitney U on per-request values, two-sided, p < {} and |change| > {} %",
                o.alpha, o.min_change_pct
            ),
            Lang::Zh => format!(
                "显著：逐请求数值的 Mann-Whitney U 检验（双侧），p < {} 且 |变化| > {} %",
                o.alpha, o.min_change_pct
            ),
        });
        let repeated = self
            .comparisons
            .iter()
            .flat_map(|c| &c.changes)
            .find_map(|ch| ch.repeats);
        if let Some(r) = repeated {
            d.line(match lang {
                Lang::En => format!(
                    "both runs were repeated ({} and {} repeats): their p-values are Welch's t-test on the per-repeat values",
                    r.base.n, r.run.n
                ),
                Lang::Zh => format!(
                    "两个运行都有重复（{} 次与 {} 次）：p 值为每次重复数值的 Welch t 检验",
                    r.base.n, r.run.n
                ),
            });
        }
        if let (Some(pct), false) = (self.fail_on_regression, self.regressions.is_empty()) {
            let list: Vec<String> = self
                .regressions
                .iter()
                .map(|r| {
                    format!(
                        "{} {} {}",
                        r.run,
                        lang.metric(r.metric),
                        percent_change(r.change_pct)
                    )
                })
                .collect();
            d.verdict(
                format!("{} {pct} %:", lang.pick("regression beyond", "退化超过")),
                list.join(", "),
            );
        }
        d
    }

    /// One row per run and metric, every value at full precision.
    fn csv(&self) -> Option<Table> {
        let mut t = Table::new(
            &[
                "base",
                "run",
                "metric",
                "statistic",
                "base_value",
                "value",
                "change_pct",
                "p_value",
                "significant",
                "verdict",
                "base_tier",
                "tier",
                "base_low",
                "base_high",
                "low",
                "high",
                "base_tiers_spanned",
                "tiers_spanned",
            ]
            .map(|h| (h, Align::Left)),
        );
        let opt = |v: Option<String>| v.unwrap_or_default();
        for c in &self.comparisons {
            for ch in &c.changes {
                t.row(vec![
                    c.base.clone(),
                    c.run.clone(),
                    ch.metric.id().to_string(),
                    ch.statistic.to_string(),
                    ch.base.to_string(),
                    ch.value.to_string(),
                    opt(ch.change_pct.map(|v| v.to_string())),
                    opt(ch.p_value().map(|p| p.to_string())),
                    ch.significant.to_string(),
                    match ch.verdict {
                        Verdict::Better => "better",
                        Verdict::Worse => "worse",
                        Verdict::Same => "same",
                    }
                    .to_string(),
                    opt(ch.base_tier.map(|t| t.to_string())),
                    opt(ch.tier.map(|t| t.to_string())),
                    opt(ch.base_interval.and_then(|i| i.low).map(|v| v.to_string())),
                    opt(ch.base_interval.and_then(|i| i.high).map(|v| v.to_string())),
                    opt(ch.interval.and_then(|i| i.low).map(|v| v.to_string())),
                    opt(ch.interval.and_then(|i| i.high).map(|v| v.to_string())),
                    opt(ch.base_span.map(|s| format!("{}-{}", s.best, s.worst))),
                    opt(ch.span.map(|s| format!("{}-{}", s.best, s.worst))),
                ]);
            }
        }
        Some(t)
    }
}

/// The runs of `c` (by name) whose graded percentile's interval spans a
/// tier boundary, with the span: one run does not settle that tier.
fn unsettled(c: &Comparison) -> Vec<(&str, &PercentileSpan)> {
    let mut out = Vec::new();
    for ch in &c.changes {
        out.extend(ch.base_span.as_ref().map(|s| (c.base.as_str(), s)));
        out.extend(ch.span.as_ref().map(|s| (c.run.as_str(), s)));
    }
    out
}

fn table(c: &Comparison, lang: Lang) -> Table {
    let too_few = lang.pick("n too small", "样本太少");
    let mut t = Table::new(&[
        (lang.pick("metric", "指标"), Align::Left),
        (&c.base, Align::Right),
        (&c.run, Align::Right),
        (lang.pick("change", "变化"), Align::Right),
        ("p", Align::Right),
        (lang.pick("verdict", "结论"), Align::Left),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    for ch in &c.changes {
        let mut tier = match (ch.base_tier, ch.tier) {
            (Some(a), Some(b)) if a != b => {
                format!("{} → {} !", ch.tier_text(a, lang), ch.tier_text(b, lang))
            }
            (Some(a), Some(_)) => ch.tier_text(a, lang),
            _ => String::new(),
        };
        if ch.base_span.is_some() || ch.span.is_some() {
            // Said under the table: an interval spans a tier boundary.
            tier.push_str(" ?");
        }
        let unit = match ch.metric.unit() {
            "" => String::new(),
            u => format!(", {u}"),
        };
        t.row(vec![
            format!("{} ({}{unit})", lang.metric(ch.metric), ch.statistic),
            with_interval(ch.metric, ch.base, ch.base_interval.as_ref(), too_few),
            with_interval(ch.metric, ch.value, ch.interval.as_ref(), too_few),
            change_text(ch.change_pct),
            p_text(ch.p_value()),
            verdict_text(ch.verdict, lang).to_string(),
            tier,
        ]);
    }
    t
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::stats::Statistic;
    use tokenpace_report::compare::Change;

    #[test]
    fn table_and_gate_show_one_sign_and_the_label() {
        let decode = Change {
            metric: Metric::DecodeTokS,
            statistic: Statistic::Mean,
            base: 40.0,
            value: 32.0,
            base_interval: None,
            interval: None,
            base_span: None,
            span: None,
            change_pct: Some(-20.0),
            worse_pct: Some(20.0),
            test: None,
            repeats: None,
            significant: true,
            verdict: Verdict::Worse,
            graded: true,
            base_tier: None,
            tier: None,
            pass_fail: false,
        };
        let comparisons = vec![Comparison {
            base: "a".into(),
            run: "b".into(),
            changes: vec![decode],
        }];
        let out = CompareOutput {
            options: CompareOptions::default(),
            regressions: CompareOutput::regressions(&comparisons, 5.0),
            comparisons,
            fail_on_regression: Some(5.0),
            runs: Vec::new(),
            workload_differences: Vec::new(),
        };
        let text = out.document(Lang::En).to_terminal();
        let row = text.lines().find(|l| l.contains("decode (mean")).unwrap();
        assert!(row.contains("-20.0 %"), "{text}");
        assert!(
            text.contains("regression beyond 5 %: b decode -20.0 %"),
            "{text}"
        );
        assert_eq!(out.regressions[0].change_pct, -20.0);
    }

    #[test]
    fn a_percentile_shows_both_intervals_and_the_note_says_what_they_are() {
        use tokenpace_core::quantile_interval::QuantileInterval;
        let iv = |low, high| QuantileInterval {
            low: Some(low),
            high,
        };
        let ttft = Change {
            metric: Metric::TtftS,
            statistic: Statistic::P90,
            base: 0.5,
            value: 0.6,
            base_interval: Some(iv(0.45, Some(0.55))),
            interval: Some(iv(0.58, None)),
            base_span: None,
            span: None,
            change_pct: Some(20.0),
            worse_pct: Some(20.0),
            test: None,
            repeats: None,
            significant: false,
            verdict: Verdict::Same,
            graded: true,
            base_tier: None,
            tier: None,
            pass_fail: false,
        };
        let out = CompareOutput {
            options: CompareOptions::default(),
            regressions: Vec::new(),
            comparisons: vec![Comparison {
                base: "a".into(),
                run: "b".into(),
                changes: vec![ttft],
            }],
            fail_on_regression: None,
            runs: Vec::new(),
            workload_differences: Vec::new(),
        };
        let text = out.document(Lang::En).to_terminal();
        let row = text.lines().find(|l| l.contains("(p90")).unwrap();
        assert!(
            row.contains("0.50 (0.45–0.55)") && row.contains("0.60 (≥ 0.58)"),
            "{text}"
        );
        assert!(text.contains("95 % interval"), "{text}");
        let csv =
            tokenpace_present::export(&out, tokenpace_present::Format::Csv, Lang::En).unwrap();
        assert!(
            csv.lines()
                .next()
                .unwrap()
                .ends_with("base_low,base_high,low,high,base_tiers_spanned,tiers_spanned"),
            "{csv}"
        );
        assert!(
            csv.lines().nth(1).unwrap().ends_with("0.45,0.55,0.58,,,"),
            "{csv}"
        );
    }

    #[test]
    fn a_run_whose_interval_spans_a_tier_boundary_is_flagged_and_said() {
        use tokenpace_core::grade::Tier;
        use tokenpace_core::repeats::PercentileSpan;
        let span = PercentileSpan {
            metric: Metric::TtftS,
            statistic: Statistic::P90,
            n: 60,
            low: 1.9,
            high: 2.1,
            best: Tier::A,
            worst: Tier::B,
        };
        let ttft = Change {
            metric: Metric::TtftS,
            statistic: Statistic::P90,
            base: 1.0,
            value: 2.0,
            base_interval: None,
            interval: None,
            base_span: None,
            span: Some(span),
            change_pct: Some(100.0),
            worse_pct: Some(100.0),
            test: None,
            repeats: None,
            significant: true,
            verdict: Verdict::Worse,
            graded: true,
            base_tier: Some(Tier::A),
            tier: Some(Tier::B),
            pass_fail: false,
        };
        let out = CompareOutput {
            options: CompareOptions::default(),
            regressions: Vec::new(),
            comparisons: vec![Comparison {
                base: "a".into(),
                run: "b".into(),
                changes: vec![ttft],
            }],
            fail_on_regression: None,
            runs: Vec::new(),
            workload_differences: Vec::new(),
        };
        let text = out.document(Lang::En).to_terminal();
        let row = text.lines().find(|l| l.contains("(p90")).unwrap();
        assert!(row.contains("A → B ! ?"), "{text}");
        assert!(
            text.contains(
                "? b: TTFT p90: B or A: not separable with 60 requests (95 % interval 1.90–2.10 s)"
            ),
            "{text}"
        );
        let csv =
            tokenpace_present::export(&out, tokenpace_present::Format::Csv, Lang::En).unwrap();
        assert!(csv.lines().nth(1).unwrap().ends_with(",,A-B"), "{csv}");
    }
}
