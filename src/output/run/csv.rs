//! The levels of a run as CSV: one row each, at full precision.

use crate::output::conversation;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::Table;

/// One row per level: settings, counts, throughput, then mean, p50, p90 and
/// p99 of every metric, each percentile with its 95 % interval's ends
/// (`_ci_low`, `_ci_high`; empty where not measured or too few requests
/// bound it), at full precision.
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
        for st in STATS {
            header.push(format!("{}_{st}", m.id()));
            if st != Statistic::Mean {
                header.push(format!("{}_{st}_ci_low", m.id()));
                header.push(format!("{}_{st}_ci_high", m.id()));
            }
        }
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
            for st in STATS {
                row.push(opt(s.get(m, st).map(|v| v.to_string())));
                if st != Statistic::Mean {
                    // An end too few requests bound is left empty.
                    let iv = s.metrics.get(&m).and_then(|x| x.interval(st));
                    row.push(opt(iv.and_then(|i| i.low).map(|v| v.to_string())));
                    row.push(opt(iv.and_then(|i| i.high).map(|v| v.to_string())));
                }
            }
        }
        t.row(row);
    }
    let summaries: Vec<&RunSummary> = levels.iter().map(|l| l.1).collect();
    conversation::extend_csv(&mut t, &summaries);
    t
}
