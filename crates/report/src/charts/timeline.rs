//! Tokens over time for a sample of streams: when each was sent, when its
//! first token came, and how steadily the rest followed.

use super::series;
use crate::lang::Lang;
use crate::svg::{Axis, Plot};
use tokenpace_core::record::RequestRecord;

/// Streams drawn at most.
pub const SAMPLE: usize = 12;

/// Cumulative tokens against seconds since the run started, for up to
/// [`SAMPLE`] successful streams spread over the run. `None` without any.
pub fn chart(records: &[RequestRecord], lang: Lang) -> Option<String> {
    let ok: Vec<&RequestRecord> = records
        .iter()
        .filter(|r| r.is_ok() && !r.chunks.is_empty())
        .collect();
    if ok.is_empty() {
        return None;
    }
    let start = records.iter().map(|r| r.sent_ns).min().unwrap_or(0);
    let step = (ok.len() as f64 / SAMPLE as f64).max(1.0);
    let picked: Vec<&RequestRecord> = (0..SAMPLE.min(ok.len()))
        .map(|i| ok[((i as f64 * step) as usize).min(ok.len() - 1)])
        .collect();
    let secs = |ns: u64| ns.saturating_sub(start) as f64 / 1e9;
    let lines: Vec<Vec<(f64, f64)>> = picked
        .iter()
        .map(|r| {
            let mut all: Vec<_> = r.chunks.iter().chain(&r.reasoning_chunks).collect();
            all.sort_by_key(|c| c.at_ns);
            let mut n = 0u64;
            let mut pts = vec![(secs(r.sent_ns), 0.0)];
            for c in all {
                n += u64::from(c.tokens);
                pts.push((secs(c.at_ns), n as f64));
            }
            pts
        })
        .collect();
    let x = Axis::from_zero(
        lines.iter().flatten().map(|p| p.0),
        0.1,
        lang.pick("seconds since the run started", "自运行开始起的秒数"),
    );
    let y = Axis::from_zero(
        lines.iter().flatten().map(|p| p.1),
        1.0,
        lang.pick("tokens received", "已收到 token 数"),
    );
    let mut plot = Plot::new(x, y);
    for (i, pts) in lines.iter().enumerate() {
        plot.step(pts, &format!("curve thin {}", series(i)));
        plot.dots(&pts[..1], &format!("dot {}", series(i)));
    }
    Some(plot.finish(&format!(
        "{} ({} {})",
        lang.pick("tokens over time", "token 随时间到达"),
        picked.len(),
        lang.pick("streams", "个流")
    )))
}
