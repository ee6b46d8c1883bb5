//! A sweep of load levels as one table, and the prefill line a sweep of
//! prompt lengths fits (`bench` with several levels, the default mix).

use super::{no_answer, FitOutput, LevelOutput};
use tokenpace_core::metric::Metric;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang};

/// "target · model": what a sweep or a search measured.
pub fn target_and_model(summary: &RunSummary) -> String {
    let s = &summary.settings;
    format!(
        "{} · {}",
        s.target.as_deref().unwrap_or("-"),
        s.model.as_deref().unwrap_or("-")
    )
}

/// One row per level, then the prefill line when prompt lengths were swept.
pub fn sweep_section(
    levels: &[LevelOutput],
    fit: Option<&FitOutput>,
    notes: &[String],
    lang: Lang,
) -> Document {
    let mut d = Document::new();
    if let Some(first) = levels.first() {
        d.title(target_and_model(&first.summary)).blank();
    }
    d.table(levels_table(levels, lang));
    d.line(super::interval_note(lang));
    for l in levels {
        if let Some(line) = no_answer(&l.summary.counts, lang) {
            d.line(format!("{}: {line}", l.label));
        }
        d.append(crate::output::throttling::section(
            &l.summary,
            Some(&l.label),
            lang,
        ));
    }
    prefill_line(&mut d, fit, lang);
    for n in notes {
        d.note(n.clone());
    }
    d
}

/// One row per level: requests answered, the prompt length the server
/// counted, every graded metric, throughput and the tier.
fn levels_table(levels: &[LevelOutput], lang: Lang) -> Table {
    // The graded metrics are all columns, so the tier column never names a
    // cause the reader cannot see.
    let columns: [(Metric, Statistic); 6] = [
        (Metric::TtftS, Statistic::Mean),
        (Metric::TtftS, Statistic::P99),
        (Metric::PrefillTokS, Statistic::Mean),
        (Metric::DecodeTokS, Statistic::Mean),
        (Metric::OutputCharsS, Statistic::Mean),
        (Metric::ItlS, Statistic::P99),
    ];
    let headers: Vec<String> = columns
        .iter()
        .map(|(m, st)| format!("{} {st}", labels::short(lang, *m)))
        .collect();
    let mut cols: Vec<(&str, Align)> = vec![
        (lang.pick("level", "档位"), Align::Left),
        ("ok", Align::Right),
        (lang.pick("prompt tok", "提示 tok"), Align::Right),
    ];
    cols.extend(headers.iter().map(|h| (h.as_str(), Align::Right)));
    cols.extend([
        ("req/s", Align::Right),
        (lang.pick("out tok/s", "输出 tok/s"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let mut t = Table::new(&cols);
    for l in levels {
        let s = &l.summary;
        // The prompt tokens the server counted, not the length asked for.
        let prompt = s
            .get(Metric::PromptTokens, Statistic::Mean)
            .map_or("-".to_string(), |n| format!("{n:.0}"));
        let mut row = vec![
            l.label.clone(),
            format!("{}/{}", s.counts.ok, s.counts.sent),
            prompt,
        ];
        row.extend(columns.iter().map(|&(m, st)| {
            match s.metrics.get(&m) {
                Some(stats) if st != Statistic::Mean => number::percentile(m, stats, st, lang),
                _ => s
                    .get(m, st)
                    .map_or("-".to_string(), |v| number::value(m, v)),
            }
        }));
        row.extend([
            format!("{:.2}", s.throughput.requests_per_s),
            format!("{:.0}", s.throughput.output_tok_s),
            l.grade.overall.map_or("-".into(), |t| t.to_string()),
        ]);
        t.row(row);
    }
    t
}

/// The prefill line a prompt-length sweep fitted (with its caveat when
/// drawn through the origin), or why there is none.
fn prefill_line(d: &mut Document, fit: Option<&FitOutput>, lang: Lang) {
    let label = lang.pick("prefill line", "prefill 拟合");
    match fit {
        Some(FitOutput::Fit(f)) => {
            d.blank().line(format!(
                "{label}: TTFT ≈ {:.3} s + n / {:.0} tok/s (R² {:.3}, {} {})",
                f.overhead_s,
                f.prefill_tok_s,
                f.r2,
                f.n,
                lang.pick("requests", "个请求"),
            ));
            if f.through_origin {
                d.line(lang.pick(
                    "note: TTFT grew faster than linearly with the prompt (attention's cost per token rises with the context): a free line would put the fixed part below zero, so the line goes through the origin; the fixed part is below what this sweep resolves, and the rate is the sweep's average",
                    "注意：首字延迟随提示长度增长快于线性（注意力的每 token 开销随上下文增加）：自由拟合会得到负的固定部分，因此直线过原点；固定部分低于本次扫描的分辨率，速度为扫描的平均值",
                ));
            }
        }
        Some(FitOutput::Error { error }) => {
            d.blank().line(format!("{label}: {error}"));
        }
        None => {}
    }
}
