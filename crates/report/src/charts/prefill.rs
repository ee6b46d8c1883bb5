//! TTFT against prompt length, one dot per request, with the fitted line
//! TTFT ≈ overhead + n ÷ prefill rate and the TTFT tier boundaries.

use super::tier_bands_y;
use crate::lang::Lang;
use crate::svg::{Axis, Plot};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Rule;
use tokenpace_core::regression::PrefillFit;

/// The scatter of `(prompt tokens, TTFT s)` points and the line `fit`.
pub fn chart(
    points: &[(f64, f64)],
    fit: &PrefillFit,
    ttft_rule: Option<&Rule>,
    lang: Lang,
) -> String {
    let x = Axis::from_zero(
        points.iter().map(|p| p.0),
        1.0,
        lang.pick("prompt tokens", "提示 token 数"),
    );
    let floor = ttft_rule.map_or(0.0, |r| r.a * 0.5);
    let y = Axis::from_zero(
        points.iter().map(|p| p.1),
        floor,
        lang.pick("time to first token (s)", "首字延迟 (s)"),
    );
    let (xmax, ymin, ymax) = (x.max, y.min, y.max);
    let mut plot = Plot::new(x, y);
    if let Some(rule) = ttft_rule {
        tier_bands_y(&mut plot, Metric::TtftS, rule, ymin, ymax);
    }
    plot.dots(points, "dot s0");
    plot.line(&[(0.0, fit.ttft_s(0.0)), (xmax, fit.ttft_s(xmax))], "fit");
    plot.legend("s0", lang.pick("requests", "请求"));
    plot.legend(
        "fit",
        &format!(
            "{} {:.3} s + n ÷ {:.0} tok/s (R² {:.3})",
            lang.pick("fit:", "拟合："),
            fit.overhead_s,
            fit.prefill_tok_s,
            fit.r2
        ),
    );
    plot.finish(lang.pick("TTFT versus prompt length", "首字延迟与提示长度"))
}
