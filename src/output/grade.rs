//! `tokenpace grade`'s result, and the grade table every command that
//! grades shows (bench, plan bounds, plan scenario).

use serde::Serialize;
use tokenpace_core::grade::{Grade, MetricGrade, Tier};
use tokenpace_core::metric::{Direction, Metric};
use tokenpace_core::profile::Profile;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};

/// A grade on a profile.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct GradeOutput {
    /// Each metric's tier and the overall tier.
    pub grade: Grade,
    /// The profile graded against (shown in the title).
    #[serde(skip)]
    pub profile: Profile,
    /// Metrics the profile grades that the run did not measure.
    #[serde(skip)]
    pub unmeasured: Vec<Metric>,
}

impl Output for GradeOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        let title = profile_title(&self.profile, lang);
        d.title(format!("tokenpace grade · {title}")).blank();
        d.append(grade_section(&self.grade, &self.unmeasured, lang));
        d
    }
}

/// "profile default (…description…)".
pub fn profile_title(profile: &Profile, lang: Lang) -> String {
    let label = lang.pick("profile", "评级标准");
    match &profile.description {
        Some(d) => format!("{label} {} ({d})", profile.name),
        None => format!("{label} {}", profile.name),
    }
}

/// The grade table, the metrics not measured, and the overall verdict.
pub fn grade_section(grade: &Grade, unmeasured: &[Metric], lang: Lang) -> Document {
    let mut d = Document::new();
    d.table(table(grade, lang)).blank();
    if let Some(n) = &grade.prefill_not_measurable {
        d.line(labels::prefill_not_measurable(lang, n));
    }
    if !unmeasured.is_empty() {
        let ids: Vec<&str> = unmeasured.iter().map(|m| lang.metric(*m)).collect();
        d.line(format!(
            "{}: {}",
            lang.pick("not measured in this run", "本次运行未测得"),
            ids.join(", ")
        ));
    }
    let label = lang.pick("overall tier", "综合等级");
    match grade.overall {
        Some(t) => d.verdict(format!("{label}: {t}"), overall_note(grade, lang)),
        None => d.verdict(
            format!("{label}: -"),
            lang.pick("(nothing graded)", "（没有可评级的指标）"),
        ),
    };
    d
}

/// "(set by: decode)": which metrics set the overall tier.
fn overall_note(grade: &Grade, lang: Lang) -> String {
    let Some(worst) = grade.overall else {
        return String::new();
    };
    let capped = grade.client_limited && grade.metrics.iter().all(|m| m.tier == Tier::A);
    if capped {
        return lang
            .pick(
                "(capped below A: the client, not the server, limited this run)",
                "（上限低于 A：限制本次运行的是客户端而不是服务器）",
            )
            .into();
    }
    if worst == Tier::A {
        return lang
            .pick("(every metric in tier A)", "(所有指标均为 A)")
            .into();
    }
    let names: Vec<&str> = grade
        .metrics
        .iter()
        .filter(|m| m.tier == worst)
        .map(|m| lang.metric(m.metric))
        .collect();
    let limited = match grade.client_limited {
        true => lang.pick(
            "; not valid: the client, not the server, limited this run",
            "；无效：限制本次运行的是客户端而不是服务器",
        ),
        false => "",
    };
    format!(
        "({}: {}{limited})",
        lang.pick("set by", "取决于"),
        names.join(", ")
    )
}

fn table(grade: &Grade, lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("tier", "等级"), Align::Left),
        (lang.pick("metric", "指标"), Align::Left),
        (lang.pick("value", "数值"), Align::Right),
        (lang.pick("threshold", "阈值"), Align::Left),
        (lang.pick("margin", "差距"), Align::Left),
    ]);
    for m in &grade.metrics {
        let value = match labels::value_basis(lang, m.statistic, m.source) {
            Some(basis) => format!("{} ({basis})", number::with_unit(m.metric, m.value)),
            None => number::with_unit(m.metric, m.value),
        };
        t.row(vec![
            tier_cell(m, lang),
            lang.metric(m.metric).to_string(),
            value,
            format!(
                "{} {}",
                comparator(m.metric),
                number::with_unit(m.metric, m.threshold)
            ),
            margin_cell(m, lang),
        ]);
    }
    t
}

fn comparator(metric: Metric) -> &'static str {
    match metric.direction() {
        Some(Direction::LowerIsBetter) => "<",
        _ => "≥",
    }
}

fn tier_cell(m: &MetricGrade, lang: Lang) -> String {
    match m.pass {
        Some(true) => lang.pick("pass", "达标").into(),
        Some(false) => lang.pick("fail", "未达标").into(),
        None => m.tier.to_string(),
    }
}

fn margin_cell(m: &MetricGrade, lang: Lang) -> String {
    let delta = number::signed(m.metric, m.margin);
    match (m.next_tier, m.pass) {
        (None, _) => format!("{delta} {}", lang.pick("headroom", "余量")),
        (Some(_), Some(false)) => match lang {
            Lang::En => format!("needs {delta} to pass"),
            Lang::Zh => format!("还差 {delta} 达标"),
        },
        (Some(next), _) if m.metric.direction() == Some(Direction::LowerIsBetter) => {
            // Latency boundaries are strict: reaching the boundary is not enough.
            let below = number::with_unit(m.metric, m.value + m.margin);
            match (lang, m.margin == 0.0) {
                (Lang::En, false) => format!("needs < {below} for {next} ({delta})"),
                (Lang::En, true) => format!("needs < {below} for {next}"),
                (Lang::Zh, false) => format!("需低于 {below} 才到 {next}（{delta}）"),
                (Lang::Zh, true) => format!("需低于 {below} 才到 {next}"),
            }
        }
        (Some(next), _) => match lang {
            Lang::En => format!("needs {delta} for {next}"),
            Lang::Zh => format!("距 {next} 还差 {delta}"),
        },
    }
}
