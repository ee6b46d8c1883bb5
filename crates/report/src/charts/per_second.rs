//! The run second by second ([`tokenpace_core::timeline`]): output tok/s,
//! requests completed per second beside the mean in-flight count, and the
//! median TTFT of the requests that started in each second, with the
//! steady-state windows shaded.

use super::series;
use crate::lang::Lang;
use crate::svg::{Axis, Plot};
use tokenpace_core::steady_state::Window;
use tokenpace_core::timeline::Second;

/// Three charts over one time axis; `None` without a timeline.
pub fn charts(timeline: &[Second], windows: &[Window], lang: Lang) -> Option<String> {
    if timeline.is_empty() {
        return None;
    }
    let x_label = lang.pick("seconds since the run started", "自运行开始起的秒数");
    // Each second's value drawn at its middle.
    let at = |s: &Second| f64::from(s.t_s) + 0.5;
    let end = timeline.last().map_or(1.0, |s| f64::from(s.t_s) + 1.0);
    let x = || Axis::from_zero([end], 1.0, x_label);
    let shade = |plot: &mut Plot| {
        for w in windows {
            plot.band_x(w.start_s, w.end_s, "tier-a");
        }
    };
    let mut out = String::new();

    let tokens: Vec<(f64, f64)> = timeline
        .iter()
        .map(|s| (at(s), s.output_tokens as f64))
        .collect();
    let mut plot = Plot::new(
        x(),
        Axis::from_zero(
            tokens.iter().map(|p| p.1),
            1.0,
            lang.pick("output tok/s", "输出 tok/s"),
        ),
    )
    .height(220.0);
    shade(&mut plot);
    plot.line(&tokens, &format!("curve {}", series(0)));
    out.push_str(&plot.finish(lang.pick("output tokens per second", "每秒输出 token")));

    let done: Vec<(f64, f64)> = timeline
        .iter()
        .map(|s| (at(s), f64::from(s.completed)))
        .collect();
    let flight: Vec<(f64, f64)> = timeline.iter().map(|s| (at(s), s.in_flight)).collect();
    let y = Axis::from_zero(
        done.iter().chain(&flight).map(|p| p.1),
        1.0,
        lang.pick("requests", "请求数"),
    );
    let mut plot = Plot::new(x(), y).height(220.0);
    shade(&mut plot);
    plot.line(&flight, &format!("curve {}", series(1)));
    plot.line(&done, &format!("curve {}", series(2)));
    plot.legend(
        series(1),
        lang.pick("in flight (mean over the second)", "在途（该秒平均）"),
    );
    plot.legend(series(2), lang.pick("completed per second", "每秒完成"));
    out.push_str(&plot.finish(lang.pick("requests in flight and completed", "在途与完成的请求")));

    let ttft: Vec<(f64, f64)> = timeline
        .iter()
        .filter_map(|s| s.ttft_p50_s.map(|t| (at(s), t)))
        .collect();
    if !ttft.is_empty() {
        let y = Axis::from_zero(
            ttft.iter().map(|p| p.1),
            0.01,
            lang.pick("TTFT p50 (s)", "首字延迟 p50（秒）"),
        );
        let mut plot = Plot::new(x(), y).height(220.0);
        shade(&mut plot);
        plot.line(&ttft, &format!("curve thin {}", series(3)));
        plot.dots(&ttft, &format!("dot {}", series(3)));
        out.push_str(&plot.finish(lang.pick(
            "median TTFT of the requests started in each second",
            "每秒发出请求的首字延迟中位数",
        )));
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn three_charts_with_the_window_shaded() {
        let second = |t: u32, ttft| Second {
            t_s: t,
            output_tokens: 100 * u64::from(t),
            completed: t,
            failed: 0,
            in_flight: 4.0,
            ttft_p50_s: ttft,
        };
        let t = vec![second(0, Some(0.2)), second(1, None), second(2, Some(0.3))];
        let w = [Window {
            repeat: None,
            start_s: 0.5,
            end_s: 2.5,
        }];
        let svg = charts(&t, &w, Lang::En).unwrap();
        assert_eq!(svg.matches("<svg").count(), 3);
        assert_eq!(svg.matches("class=\"tier-a\"").count(), 3);
        assert!(svg.contains("in flight"));
        assert!(charts(&[], &w, Lang::En).is_none());
    }
}
