//! `tokenpace bench` without a URL, the default mix against the embedded
//! engine: the prefill line, the built-in scenarios measured at a quarter
//! of their size, the full-size scenarios predicted from the measured
//! rates, and the remedies for the one that falls short.

use crate::output::run::{csv_table, sweep_section, SweepOutput};
use serde::Serialize;
use tokenpace_core::grade::{Grade, MetricGrade};
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::ScenarioPlan;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_plan::remedies::{Remedy, Situation};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};

/// A built-in scenario measured at reduced size.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MixScenario {
    /// The scenario's name.
    pub name: String,
    /// Prompt tokens sent.
    pub prompt_tokens: u32,
    /// Answer tokens asked for.
    pub answer_tokens: u32,
    /// What was measured.
    pub summary: RunSummary,
    /// The grade on the profile.
    pub grade: Grade,
}

/// What the measured rates predict for the full-size scenarios.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MixPrediction {
    /// The prefill line's slope, tokens/s.
    pub prefill_tok_s: f64,
    /// The median per-stream decode rate over the scenarios, tokens/s.
    pub decode_tok_s: f64,
    /// The median visible characters per token over the scenarios.
    pub chars_per_token: f64,
    /// The prefill line's intercept (TTFT's fixed part), seconds.
    pub fixed_ttft_s: f64,
    /// Each built-in scenario at full size.
    pub scenarios: Vec<PredictedScenario>,
}

/// One scenario's prediction.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct PredictedScenario {
    /// The scenario's name.
    pub name: String,
    /// Its targets and predicted experience.
    pub plan: ScenarioPlan,
}

/// The remedies for the scenario that falls short.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MixRemedies {
    /// The scenario.
    pub scenario: String,
    /// Whether the weights' format was assumed (not read from the model).
    pub weights_assumed: bool,
    /// The rates and targets the remedies start from.
    pub situation: Situation,
    /// Each remedy's predicted effect.
    pub remedies: Vec<Remedy>,
}

/// The whole mix.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MixOutput {
    /// The prompt-length sweep (the prefill line).
    pub sweep: SweepOutput,
    /// The scenarios measured at reduced size.
    pub scenarios: Vec<MixScenario>,
    /// The scale of the measured scenarios (0.25: a quarter of the tokens).
    pub scale: f64,
    /// The full-size prediction, when the sweep gave a line and requests
    /// decoded.
    pub prediction: Option<MixPrediction>,
    /// Remedies for the scenario that falls short, if one does.
    pub remedies: Option<MixRemedies>,
}

impl Output for MixOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        heading(
            &mut d,
            1,
            lang.pick(
                "Prefill: time to first token against prompt length (1 stream)",
                "Prefill：首字时间与提示长度（单流）",
            ),
        );
        d.append(sweep_section(
            &self.sweep.levels,
            self.sweep.prefill_fit.as_ref(),
            &self.sweep.notes,
            lang,
        ));
        heading(
            &mut d,
            2,
            lang.pick(
                "The built-in scenarios at ¼ size, measured (1 stream, p50)",
                "内置场景（缩小到 ¼，实测，单流，p50）",
            ),
        );
        d.table(measured_table(&self.scenarios, lang));
        heading(
            &mut d,
            3,
            lang.pick(
                "Full-size scenarios predicted from the measured rates",
                "按实测速率预测的完整场景",
            ),
        );
        let Some(p) = &self.prediction else {
            d.line(lang.pick(
                "No prediction: the sweep gave no prefill line or no request decoded.",
                "无法预测：扫描未得出 prefill 直线，或没有请求完成解码。",
            ));
            return d;
        };
        d.line(format!(
            "{}: prefill {} · decode {} · {} {:.2} · {} {}",
            lang.pick("measured", "实测"),
            number::with_unit(Metric::PrefillTokS, p.prefill_tok_s),
            number::with_unit(Metric::DecodeTokS, p.decode_tok_s),
            labels::metric(lang, Metric::CharsPerToken),
            p.chars_per_token,
            lang.pick("fixed TTFT part", "TTFT 固定部分"),
            number::with_unit(Metric::TtftS, p.fixed_ttft_s),
        ))
        .blank();
        d.table(predicted_table(&p.scenarios, lang));
        if let Some(r) = &self.remedies {
            d.blank().line(format!(
                "{}: {}",
                lang.pick("What would fix", "如何改进"),
                r.scenario
            ));
            d.append(crate::output::plan::remedies::scenario_section(
                &r.situation,
                &r.remedies,
                r.weights_assumed,
                lang,
            ));
        }
        d
    }

    fn csv(&self) -> Option<Table> {
        let mut levels: Vec<(String, &RunSummary, &Grade)> = self
            .sweep
            .levels
            .iter()
            .map(|l| (l.label.clone(), &l.summary, &l.grade))
            .collect();
        levels.extend(
            self.scenarios
                .iter()
                .map(|s| (s.name.clone(), &s.summary, &s.grade)),
        );
        Some(csv_table(&levels))
    }
}

/// "1. Title" with a rule under it (a Markdown heading in Markdown).
fn heading(d: &mut Document, n: usize, text: &str) {
    d.blank().heading(format!("{n}. {text}")).blank();
}

fn tier(grade: &Grade, metric: Metric, lang: Lang) -> String {
    grade
        .metrics
        .iter()
        .find(|g| g.metric == metric)
        .map_or(String::new(), |g: &MetricGrade| {
            crate::output::run::tier_word(g, lang)
        })
}

fn measured_table(rows: &[MixScenario], lang: Lang) -> Table {
    let metrics = [
        Metric::TtftS,
        Metric::PrefillTokS,
        Metric::DecodeTokS,
        Metric::OutputCharsS,
    ];
    let mut columns = vec![
        (lang.pick("scenario", "场景"), Align::Left),
        (
            lang.pick("tokens in → out", "输入 → 输出 token"),
            Align::Right,
        ),
    ];
    for m in metrics {
        columns.push((labels::short(lang, m), Align::Right));
        columns.push(("", Align::Left));
    }
    columns.push((lang.pick("overall", "总评"), Align::Left));
    let mut t = Table::new(&columns);
    for m in rows {
        let s = &m.summary;
        let mut cells = vec![
            m.name.clone(),
            format!("{} → {}", m.prompt_tokens, m.answer_tokens),
        ];
        for metric in metrics {
            cells.push(
                s.get(metric, Statistic::P50)
                    .map_or("-".into(), |v| number::with_unit(metric, v)),
            );
            cells.push(tier(&m.grade, metric, lang));
        }
        cells.push(m.grade.overall.map_or("-".into(), |t| t.to_string()));
        t.row(cells);
    }
    t
}

fn predicted_table(plans: &[PredictedScenario], lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("scenario", "场景"), Align::Left),
        (
            lang.pick("tokens in → out", "输入 → 输出 token"),
            Align::Right,
        ),
        ("TTFT", Align::Right),
        (lang.pick("target", "目标"), Align::Right),
        (labels::short(lang, Metric::OutputCharsS), Align::Right),
        (lang.pick("target", "目标"), Align::Right),
        (lang.pick("answer done", "回答完成"), Align::Right),
        (lang.pick("meets both", "两项达标"), Align::Left),
    ]);
    for PredictedScenario { name, plan } in plans {
        let (s, p) = (&plan.scenario, &plan.predicted);
        let yes = p.meets_ttft_target && p.meets_chars_target;
        t.row(vec![
            name.clone(),
            format!("{:.0} → {:.0}", s.prompt_tokens, s.output_tokens),
            number::with_unit(Metric::TtftS, p.ttft_s),
            format!("< {}", number::with_unit(Metric::TtftS, s.ttft_target_s)),
            number::with_unit(Metric::OutputCharsS, p.output_chars_s),
            format!(
                "≥ {}",
                number::value(Metric::OutputCharsS, s.chars_per_s_target)
            ),
            number::with_unit(Metric::E2eS, p.total_s),
            lang.pick(
                if yes { "yes" } else { "no" },
                if yes { "是" } else { "否" },
            )
            .into(),
        ]);
    }
    t
}
