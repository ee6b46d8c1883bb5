//! The words for a graded percentile whose 95 % interval from one run
//! holds a tier boundary: said alike by `bench`, `compare` and the pages.

use crate::{labels, number, Lang};
use tokenpace_core::repeats::PercentileSpan;

/// "TTFT p99: B or A: not separable with 1000 requests (95 % interval
/// 1.98–2.02 s)": a graded percentile of one run whose interval holds a
/// tier boundary, in the words the repeats use.
pub fn percentile_span_line(s: &PercentileSpan, lang: Lang) -> String {
    let m = s.metric;
    let range = format!(
        "{} {}–{}",
        lang.pick("95 % interval", "95 % 区间"),
        number::value(m, s.low),
        number::with_unit(m, s.high)
    );
    let (name, st, n) = (labels::short(lang, m), s.statistic, s.n);
    match lang {
        Lang::En => format!(
            "{name} {st}: {} or {}: not separable with {n} requests ({range})",
            s.worst, s.best
        ),
        Lang::Zh => format!(
            "{name} {st}：{} 或 {}：{n} 个请求无法区分（{range}）",
            s.worst, s.best
        ),
    }
}
