//! How ramp-up, steady state and drain read apart: one row per phase, when
//! the run had more than a steady state.

use tokenpace_core::aggregate::Aggregate;
use tokenpace_core::metric::Metric;
use tokenpace_core::stats::Statistic;
use tokenpace_core::steady_state::SteadyState;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang};

/// The columns of each phase.
const COLUMNS: [(Metric, Statistic); 4] = [
    (Metric::TtftS, Statistic::Mean),
    (Metric::DecodeTokS, Statistic::Mean),
    (Metric::ItlS, Statistic::P99),
    (Metric::E2eS, Statistic::Mean),
];

/// The phases of `summary`; empty when it has none, or when every request
/// was in the steady state (nothing to tell apart).
pub fn section(summary: &RunSummary, level: Option<&str>, lang: Lang) -> Document {
    let mut d = Document::new();
    let Some(s) = &summary.steady_state else {
        return d;
    };
    if s.ramp_up.counts.sent + s.drain.counts.sent == 0 {
        return d;
    }
    d.blank().heading(format!(
        "{}{}",
        lang.pick("Ramp-up, steady state and drain", "爬升、稳态与收尾"),
        level.map_or(String::new(), |l| format!(" ({l})"))
    ));
    d.line(window_line(s, lang));
    let headers: Vec<String> = COLUMNS
        .iter()
        .map(|(m, st)| format!("{} {st}", labels::short(lang, *m)))
        .collect();
    let mut cols: Vec<(&str, Align)> = vec![
        (lang.pick("phase", "阶段"), Align::Left),
        ("ok", Align::Right),
    ];
    cols.extend(headers.iter().map(|h| (h.as_str(), Align::Right)));
    cols.push((lang.pick("out tok/s", "输出 tok/s"), Align::Right));
    let mut t = Table::new(&cols);
    for (name, a) in [
        (lang.pick("ramp-up", "爬升"), &s.ramp_up),
        (lang.pick("steady", "稳态"), &s.steady),
        (lang.pick("drain", "收尾"), &s.drain),
    ] {
        t.row(phase_row(name, a, lang));
    }
    d.table(t);
    d
}

fn phase_row(name: &str, a: &Aggregate, lang: Lang) -> Vec<String> {
    let mut row = vec![
        name.to_string(),
        format!("{}/{}", a.counts.ok, a.counts.sent),
    ];
    // Percentiles carry this phase's own 95 % interval, as the level's do.
    row.extend(COLUMNS.iter().map(|(m, st)| {
        a.metrics
            .get(m)
            .map_or("-".into(), |x| number::percentile(*m, x, *st, lang))
    }));
    row.push(if a.counts.sent > 0 {
        format!("{:.0}", a.throughput.output_tok_s)
    } else {
        "-".into()
    });
    row
}

/// "steady while ≥ 8 of 8 requests were in flight: 1.9–10.2 s".
fn window_line(s: &SteadyState, lang: Lang) -> String {
    let windows: Vec<String> = s
        .windows
        .iter()
        .map(|w| format!("{:.1}–{:.1} s", w.start_s, w.end_s))
        .collect();
    let windows = if windows.is_empty() {
        lang.pick("never reached", "从未达到").to_string()
    } else {
        windows.join(", ")
    };
    let trims = if s.trim_start_s > 0.0 || s.trim_end_s > 0.0 {
        format!(
            " ({} {} s / {} s)",
            lang.pick("trimmed start/end", "起止裁剪"),
            s.trim_start_s,
            s.trim_end_s
        )
    } else {
        String::new()
    };
    match (s.threshold, s.target, lang) {
        (Some(th), Some(t), Lang::En) => {
            format!("steady while ≥ {th} of {t} requests were in flight: {windows}{trims}")
        }
        (Some(th), Some(t), Lang::Zh) => {
            format!("稳态：在途请求 ≥ {th}/{t}：{windows}{trims}")
        }
        (_, _, Lang::En) => format!("steady window: {windows}{trims}"),
        (_, _, Lang::Zh) => format!("稳态窗口：{windows}{trims}"),
    }
}
