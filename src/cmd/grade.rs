//! `tokenpace grade`: grade numbers or a run summary on a profile.

use crate::cli::{Format, GradeArgs};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use tokenpace_core::grade::{Grade, MetricGrade, Tier};
use tokenpace_core::metric::{Direction, Metric};
use tokenpace_core::profile::Profile;
use tokenpace_present::number;
use tokenpace_present::Lang;

/// Runs `tokenpace grade`.
pub fn run(args: GradeArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let (grade, unmeasured) = match &args.summary {
        Some(path) => {
            let summary = input::run_summary(path)?;
            let grade = profile.grade(|m, st| summary.get(m, st), false)?;
            let unmeasured: Vec<Metric> = profile
                .metrics
                .keys()
                .filter(|m| !summary.metrics.contains_key(m))
                .copied()
                .collect();
            (grade, unmeasured)
        }
        None => {
            let values: Vec<(Metric, f64)> = [
                (Metric::TtftS, args.ttft),
                (Metric::PrefillTokS, args.prefill),
                (Metric::DecodeTokS, args.decode),
                (Metric::OutputCharsS, args.chars_per_s),
            ]
            .into_iter()
            .filter_map(|(m, v)| v.map(|v| (m, v)))
            .collect();
            if values.is_empty() {
                bail!("nothing to grade: give at least one of --ttft, --prefill, --decode, --chars-per-s, or --summary FILE (see tokenpace grade --help)");
            }
            let ungraded: Vec<&str> = values
                .iter()
                .filter(|(m, _)| !profile.metrics.contains_key(m))
                .map(|(m, _)| m.id())
                .collect();
            if !ungraded.is_empty() {
                bail!(
                    "profile '{}' does not grade {}: add [metrics.<id>] tables for them or drop those flags",
                    profile.name,
                    ungraded.join(", ")
                );
            }
            (profile.grade_values(&values)?, Vec::new())
        }
    };

    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => serde_json::to_string_pretty(&grade)? + "\n",
        Format::Table => render(&grade, &profile, &unmeasured, lang, &Terminal, false),
        Format::Markdown => render(&grade, &profile, &unmeasured, lang, &Markdown, true),
    };
    out.write_all(text.as_bytes())?;

    Ok(match args.fail_below {
        Some(tier) if grade.any_below(tier.into()) => Status::BelowTier,
        _ => Status::Ok,
    })
}

/// The grade as a table with a title and an overall line.
pub fn render(
    grade: &Grade,
    profile: &Profile,
    unmeasured: &[Metric],
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let mut out = String::new();
    let title = match &profile.description {
        Some(d) => format!(
            "{} {} ({d})",
            lang.pick("profile", "评级标准"),
            profile.name
        ),
        None => format!("{} {}", lang.pick("profile", "评级标准"), profile.name),
    };
    out.push_str(&if markdown {
        format!("**tokenpace grade** · {title}\n\n")
    } else {
        format!("{title}\n\n")
    });
    out.push_str(&render_body(grade, unmeasured, lang, format, markdown));
    out
}

/// The grade table and the overall line, without a title.
pub fn render_body(
    grade: &Grade,
    unmeasured: &[Metric],
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let mut out = format.render(&table(grade, lang));
    out.push('\n');
    if !unmeasured.is_empty() {
        let ids: Vec<&str> = unmeasured.iter().map(|m| lang.metric(*m)).collect();
        out.push_str(&format!(
            "{}: {}\n",
            lang.pick("not measured in this run", "本次运行未测得"),
            ids.join(", ")
        ));
    }
    let overall = match grade.overall {
        Some(t) => t.to_string(),
        None => "-".into(),
    };
    let label = lang.pick("overall tier", "综合等级");
    out.push_str(&if markdown {
        format!("**{label}: {overall}** {}\n", overall_note(grade, lang))
    } else {
        format!("{label}: {overall} {}\n", overall_note(grade, lang))
    });
    out
}

/// "(worst: decode)" — which metrics set the overall tier.
fn overall_note(grade: &Grade, lang: Lang) -> String {
    let Some(worst) = grade.overall else {
        return String::new();
    };
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
    format!("({}: {})", lang.pick("set by", "取决于"), names.join(", "))
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
        let value = match m.statistic {
            Some(st) => format!("{} ({st})", number::with_unit(m.metric, m.value)),
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
