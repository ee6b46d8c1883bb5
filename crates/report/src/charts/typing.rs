//! What a reader sees: the characters of one typical stream arriving over
//! time, beside the line of a comfortable reading speed, and a replay of
//! the arrival with placeholder glyphs (the records hold timestamps and
//! character counts, never the text).

use crate::format::escape;
use crate::lang::Lang;
use crate::svg::{Axis, Plot};
use std::fmt::Write;
use tokenpace_core::record::RequestRecord;
use tokenpace_core::request_metrics::{MetricOptions, RequestMetrics};

/// Most glyphs the replay shows; longer answers are cut there.
const MAX_GLYPHS: u32 = 400;

/// The successful stream whose output speed is the median of the run's
/// (the lower middle for an even count), with that speed.
pub fn median_stream<'a>(
    records: impl IntoIterator<Item = &'a RequestRecord>,
    opts: &MetricOptions,
) -> Option<(&'a RequestRecord, f64)> {
    let mut by_speed: Vec<(&RequestRecord, f64)> = records
        .into_iter()
        .filter(|r| r.is_ok())
        .filter_map(|r| RequestMetrics::of(r, opts).output_chars_s.map(|s| (r, s)))
        .collect();
    by_speed.sort_by(|a, b| a.1.total_cmp(&b.1));
    by_speed.get(by_speed.len().saturating_sub(1) / 2).copied()
}

/// Characters shown against seconds since the request was sent, with the
/// reading line of `reading_cps` characters per second from the first
/// visible character.
pub fn chart(r: &RequestRecord, reading_cps: f64, lang: Lang) -> String {
    let secs = |ns: u64| ns.saturating_sub(r.sent_ns) as f64 / 1e9;
    let mut shown = 0u32;
    let mut points = vec![(0.0, 0.0)];
    for c in r.chunks.iter().filter(|c| c.chars > 0) {
        shown += c.chars;
        points.push((secs(c.at_ns), f64::from(shown)));
    }
    let end = r.end_ns.map_or(points.last().map_or(1.0, |p| p.0), secs);
    points.push((end, f64::from(shown)));
    let x = Axis::from_zero(
        [end],
        0.0,
        lang.pick("seconds since the request was sent", "自请求发出起的秒数"),
    );
    let y = Axis::from_zero(
        [f64::from(shown)],
        1.0,
        lang.pick("characters shown", "已显示字数"),
    );
    let (xmax, ymax) = (x.max, y.max);
    let mut plot = Plot::new(x, y).height(260.0);
    if let Some(&(t0, c0)) = points.get(1) {
        plot.vline(t0, "boundary", lang.pick("first character", "首字"));
        // The reading line runs until it leaves the chart.
        let t1 = (t0 + (ymax - c0) / reading_cps).min(xmax);
        plot.line(&[(t0, c0), (t1, c0 + (t1 - t0) * reading_cps)], "reading");
        plot.legend(
            "reading",
            &format!(
                "{} {reading_cps} {}",
                lang.pick("reading at", "阅读速度"),
                lang.pick("chars/s", "字/秒")
            ),
        );
    }
    plot.step(&points, "curve s0");
    plot.legend("s0", lang.pick("text arriving", "文本到达"));
    plot.finish(lang.pick(
        "characters arriving in the median stream",
        "中位数流的字符到达过程",
    ))
}

/// The stream replayed: one placeholder glyph per character, each chunk's
/// glyphs appearing at its arrival time (a CSS animation; no script). Shows
/// the whole text at once when printing or with reduced motion.
pub fn replay(r: &RequestRecord, lang: Lang) -> String {
    let glyph = if lang == Lang::Zh { "▆" } else { "▃" };
    let mut out = String::from(r#"<div class="replay" aria-hidden="true">"#);
    let mut shown = 0u32;
    for c in r.chunks.iter().filter(|c| c.chars > 0) {
        if shown >= MAX_GLYPHS {
            break;
        }
        let n = c.chars.min(MAX_GLYPHS - shown);
        shown += n;
        let delay = c.at_ns.saturating_sub(r.sent_ns) as f64 / 1e9;
        let _ = write!(
            out,
            r#"<span style="animation-delay:{delay:.3}s">{}</span>"#,
            escape(&glyph.repeat(n as usize))
        );
    }
    out.push_str("</div>");
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::tests::level;

    #[test]
    fn picks_the_median_and_replays_every_chunk() {
        let mut r = level("a", 5, 100, 20);
        // Make stream 3 the slowest and stream 1 the fastest.
        for c in r.records[3].chunks.iter_mut().skip(1) {
            c.at_ns += 1_000_000_000;
        }
        let (m, speed) = median_stream(&r.records, &MetricOptions::default()).unwrap();
        assert!((speed - 38.0 / 0.38).abs() < 1e-6, "{speed}");
        assert_ne!(m.id, 3);
        let html = replay(m, Lang::En);
        assert_eq!(html.matches("<span").count(), 20);
        assert!(html.contains("animation-delay:0.100s") || html.contains("animation-delay:0.1"));
        let svg = chart(m, 25.0, Lang::En);
        assert!(svg.contains("class=\"reading\"") && svg.contains("reading at 25 chars/s"));
    }
}
