//! How a mixed run (`bench --model-mix`) reads per model: one row per
//! model beside the pooled run, each graded on the run's profile.

use serde::Serialize;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::model_mix::ModelShare;
use tokenpace_core::profile::Profile;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang};

/// The columns of each model.
const COLUMNS: [(Metric, Statistic); 4] = [
    (Metric::TtftS, Statistic::P50),
    (Metric::TtftS, Statistic::P99),
    (Metric::DecodeTokS, Statistic::P50),
    (Metric::E2eS, Statistic::P50),
];

/// One model of a mixed run, graded on the run's profile.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ModelGrade {
    /// The model the requests asked for.
    pub model: String,
    /// Its requests' grade.
    pub grade: Grade,
}

/// `share` graded on `profile` (`None` when nothing of it is gradable).
fn grade(share: &ModelShare, profile: &Profile) -> Option<Grade> {
    profile
        .grade_run(|m, st| share.aggregate.get(m, st), None)
        .ok()
}

/// Each model of `summary` graded on `profile`; empty unless the run
/// mixed models.
pub fn grades(summary: &RunSummary, profile: &Profile) -> Vec<ModelGrade> {
    summary
        .models
        .iter()
        .filter_map(|s| {
            Some(ModelGrade {
                model: s.model.clone(),
                grade: grade(s, profile)?,
            })
        })
        .collect()
}

/// The per-model table of `summary`, each model graded on `profile` when
/// given; empty unless its requests were spread over several models.
pub fn section(
    summary: &RunSummary,
    profile: Option<&Profile>,
    level: Option<&str>,
    lang: Lang,
) -> Document {
    let mut d = Document::new();
    if summary.models.is_empty() {
        return d;
    }
    d.blank().heading(format!(
        "{}{}",
        lang.pick("Per model", "按模型"),
        level.map_or(String::new(), |l| format!(" ({l})"))
    ));
    let headers: Vec<String> = COLUMNS
        .iter()
        .map(|(m, st)| format!("{} {st}", labels::short(lang, *m)))
        .collect();
    let mut cols: Vec<(&str, Align)> = vec![
        (lang.pick("model", "模型"), Align::Left),
        (lang.pick("share", "占比"), Align::Right),
        ("ok", Align::Right),
        (lang.pick("errors", "错误"), Align::Right),
    ];
    cols.extend(headers.iter().map(|h| (h.as_str(), Align::Right)));
    cols.push((lang.pick("out tok/s", "输出 tok/s"), Align::Right));
    if profile.is_some() {
        cols.push((lang.pick("tier", "等级"), Align::Right));
    }
    let mut t = Table::new(&cols);
    let sent = summary.counts.sent.max(1) as f64;
    for share in &summary.models {
        t.row(row(share, sent, profile));
    }
    let pooled = ModelShare {
        model: lang.pick("all", "全部").into(),
        aggregate: tokenpace_core::aggregate::Aggregate {
            counts: summary.counts.clone(),
            throughput: summary.throughput,
            metrics: summary.metrics.clone(),
        },
    };
    t.row(row(&pooled, sent, profile));
    d.table(t);
    d
}

fn row(share: &ModelShare, sent: f64, profile: Option<&Profile>) -> Vec<String> {
    let a = &share.aggregate;
    let mut row = vec![
        share.model.clone(),
        format!("{:.0} %", 100.0 * a.counts.sent as f64 / sent),
        format!("{}/{}", a.counts.ok, a.counts.sent),
        a.counts.failed.to_string(),
    ];
    row.extend(
        COLUMNS
            .iter()
            .map(|(m, st)| a.get(*m, *st).map_or("-".into(), |v| number::value(*m, v))),
    );
    row.push(match a.counts.ok {
        0 => "-".into(),
        _ => format!("{:.0}", a.throughput.output_tok_s),
    });
    if let Some(p) = profile {
        row.push(
            grade(share, p)
                .and_then(|g| g.overall)
                .map_or("-".into(), |t| t.to_string()),
        );
    }
    row
}
