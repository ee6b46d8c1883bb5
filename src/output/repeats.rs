//! How a repeated level reads (`bench --repeat N`): every metric as mean
//! ± 95 % interval and CV across the repeats, each repeat's value, and for
//! every graded metric the tiers its interval spans.

use tokenpace_core::confidence::Interval;
use tokenpace_core::metric::Metric;
use tokenpace_core::repeats::{Repeats, TierSpan};
use tokenpace_core::summary::{RunSummary, Throughput};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang};

/// The repeats of `summary` and the tiers of `spans`; empty without
/// repeats.
pub fn section(
    summary: &RunSummary,
    spans: &[TierSpan],
    level: Option<&str>,
    lang: Lang,
) -> Document {
    let mut d = Document::new();
    let Some(r) = &summary.repeats else {
        return d;
    };
    d.blank().heading(format!(
        "{} {}{}",
        r.runs.len(),
        lang.pick(
            "repeats: mean ± 95 % interval (Student's t over the per-repeat means), CV across repeats",
            "次重复：均值 ± 95 % 置信区间（按每次重复的均值，Student t），重复间变异系数"
        ),
        level.map_or(String::new(), |l| format!(" ({l})"))
    ));
    d.table(table(r, lang));
    for s in spans {
        d.line(span_line(s, lang));
    }
    d
}

/// One figure of a repeat's throughput.
type ThroughputOf = fn(&Throughput) -> f64;

fn table(r: &Repeats, lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("metric", "指标"), Align::Left),
        (lang.pick("mean ± 95 %", "均值 ± 95 %"), Align::Right),
        ("CV", Align::Right),
        (lang.pick("per repeat", "每次重复"), Align::Left),
    ]);
    let shown = Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::PromptTokens | Metric::OutputTokens));
    for m in shown {
        let Some(i) = r.means.get(&m) else {
            continue;
        };
        let each: Vec<String> = r
            .runs
            .iter()
            .map(|run| {
                run.aggregate
                    .metrics
                    .get(&m)
                    .map_or("-".into(), |s| number::value(m, s.mean))
            })
            .collect();
        t.row(row(
            labels::metric_with_unit(lang, m),
            i,
            &|v| number::value(m, v),
            each,
        ));
    }
    let rates: [(&str, Option<&Interval>, ThroughputOf); 2] = [
        ("req/s", r.requests_per_s.as_ref(), |t| t.requests_per_s),
        (
            lang.pick("output tok/s (all streams)", "输出 tok/s（所有流）"),
            r.output_tok_s.as_ref(),
            |t| t.output_tok_s,
        ),
    ];
    for (label, i, get) in rates {
        if let Some(i) = i {
            let each = r
                .runs
                .iter()
                .map(|run| format!("{:.2}", get(&run.aggregate.throughput)))
                .collect();
            t.row(row(label.to_string(), i, &|v| format!("{v:.2}"), each));
        }
    }
    t
}

fn row(label: String, i: &Interval, fmt: &dyn Fn(f64) -> String, each: Vec<String>) -> Vec<String> {
    vec![
        label,
        format!("{} ± {}", fmt(i.mean), fmt(i.half_width())),
        i.cv.map_or("-".into(), number::share),
        each.join(" "),
    ]
}

/// "decode: B or A — not separable with 3 repeats (95 % interval 27.1–31.4
/// tok/s)", or "TTFT: A with 5 repeats (…)".
pub fn span_line(s: &TierSpan, lang: Lang) -> String {
    let m = s.metric;
    let range = format!(
        "{} {}–{}",
        lang.pick("95 % interval", "95 % 区间"),
        number::value(m, s.interval.low.max(0.0)),
        number::with_unit(m, s.interval.high)
    );
    let name = labels::short(lang, m);
    let n = s.interval.n;
    if s.separable() {
        match lang {
            Lang::En => format!("{name}: {} with {n} repeats ({range})", s.best),
            Lang::Zh => format!("{name}：{n} 次重复均为 {}（{range}）", s.best),
        }
    } else {
        match lang {
            Lang::En => format!(
                "{name}: {} or {}: not separable with {n} repeats ({range})",
                s.worst, s.best
            ),
            Lang::Zh => format!(
                "{name}：{} 或 {}：{n} 次重复无法区分（{range}）",
                s.worst, s.best
            ),
        }
    }
}

pub use tokenpace_present::span::percentile_span_line;

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::grade::Tier;
    use tokenpace_core::repeats::PercentileSpan;
    use tokenpace_core::stats::Statistic;

    fn span(values: &[f64], best: Tier, worst: Tier) -> TierSpan {
        TierSpan {
            metric: Metric::DecodeTokS,
            statistic: Statistic::Mean,
            interval: Interval::of(values).unwrap(),
            best,
            worst,
        }
    }

    /// An interval across a tier boundary is said to be one of two tiers,
    /// never graded as either; one inside a tier is that tier.
    #[test]
    fn an_interval_across_a_boundary_is_not_separable() {
        let across = span(&[27.0, 29.5, 32.0], Tier::A, Tier::B);
        let line = span_line(&across, Lang::En);
        assert!(
            line.starts_with("decode: B or A: not separable with 3 repeats (95 % interval"),
            "{line}"
        );
        assert!(span_line(&across, Lang::Zh).contains("无法区分"));
        let inside = span(&[40.0, 41.0, 42.0], Tier::A, Tier::A);
        let line = span_line(&inside, Lang::En);
        assert!(
            line.starts_with("decode: A with 3 repeats") && !line.contains("separable"),
            "{line}"
        );
    }

    /// One run's percentile across a boundary reads as the repeats' do.
    #[test]
    fn a_percentile_across_a_boundary_says_so_in_the_repeats_words() {
        let s = PercentileSpan {
            metric: Metric::TtftS,
            statistic: Statistic::P99,
            n: 1000,
            low: 1.98,
            high: 2.02,
            best: Tier::A,
            worst: Tier::B,
        };
        let line = percentile_span_line(&s, Lang::En);
        assert!(
            line.starts_with(
                "TTFT p99: B or A: not separable with 1000 requests (95 % interval 1.98–2.02 s)"
            ),
            "{line}"
        );
        assert!(percentile_span_line(&s, Lang::Zh).contains("无法区分"));
    }
}
