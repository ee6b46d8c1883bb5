//! The levels of a run as CSV: one row each, at full precision.

use crate::output::conversation;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::Table;

/// One row per level: settings, counts, throughput, then mean, p50, p90 and
/// p99 of every metric (empty where not measured), at full precision.
pub fn csv_table(levels: &[(String, &RunSummary, &Grade)]) -> Table {
    const STATS: [Statistic; 4] = [
        Statistic::Mean,
        Statistic::P50,
        Statistic::P90,
        Statistic::P99,
    ];
    let mut header: Vec<String> = [
        "level",
        "concurrency",
        "rate",
        "prompt_tokens",
        "sent",
        "ok",
        "failed",
        "duration_s",
        "requests_per_s",
        "output_tok_s",
        "overall_tier",
    ]
    .map(String::from)
    .to_vec();
    for m in Metric::ALL {
        header.extend(STATS.map(|st| format!("{}_{st}", m.id())));
    }
    let mut t = Table {
        header,
        ..Table::default()
    };
    let opt = |v: Option<String>| v.unwrap_or_default();
    for (label, s, grade) in levels {
        let mut row = vec![
            label.clone(),
            opt(s.settings.concurrency.map(|c| c.to_string())),
            opt(s.settings.rate.map(|c| c.to_string())),
            opt(s.settings.prompt_tokens.map(|c| c.to_string())),
            s.counts.sent.to_string(),
            s.counts.ok.to_string(),
            s.counts.failed.to_string(),
            s.throughput.duration_s.to_string(),
            s.throughput.requests_per_s.to_string(),
            s.throughput.output_tok_s.to_string(),
            opt(grade.overall.map(|t| t.to_string())),
        ];
        for m in Metric::ALL {
            row.extend(STATS.map(|st| opt(s.get(m, st).map(|v| v.to_string()))));
        }
        t.row(row);
    }
    let summaries: Vec<&RunSummary> = levels.iter().map(|l| l.1).collect();
    conversation::extend_csv(&mut t, &summaries);
    t
}
