//! TTFT against the turn (or step) index of a conversation run: p50 and
//! p90 per index, over the TTFT tier zones, so a reader sees whether a
//! growing context (or a warm prefix cache) moves the first token.

use super::{series, tier_bands_y};
use crate::lang::Lang;
use crate::svg::{Axis, Plot};
use tokenpace_core::conversation::TurnStats;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Rule;
use tokenpace_present::labels::{self, Figure};

/// The chart, or `None` when no turn has a TTFT. `index` names the x axis
/// (turn or step); `title` is the chart's accessible title.
pub fn ttft(
    turns: &[TurnStats],
    index: Figure,
    rule: Option<&Rule>,
    title: &str,
    lang: Lang,
) -> Option<String> {
    let pick = |f: fn(&tokenpace_core::stats::Stats) -> f64| -> Vec<(f64, f64)> {
        turns
            .iter()
            .filter_map(|t| Some((f64::from(t.turn), f(t.ttft_s.as_ref()?))))
            .collect()
    };
    let (p50, p90) = (pick(|s| s.p50), pick(|s| s.p90));
    let (first, last) = (p50.first()?.0, p50.last()?.0);
    // Indices are few and whole: label each, or about ten when there are
    // many.
    let every = ((last - first) / 10.0).ceil().max(1.0) as usize;
    let ticks: Vec<(f64, String)> = turns
        .iter()
        .step_by(every)
        .map(|t| (f64::from(t.turn), t.turn.to_string()))
        .collect();
    let x = Axis {
        min: first - 0.3,
        max: last + 0.3,
        label: labels::figure(lang, index).into(),
    };
    let floor = rule.map_or(0.0, |r| r.a * 1.15);
    let y = Axis::from_zero(
        p50.iter().chain(&p90).map(|p| p.1),
        floor,
        &format!("{} ({})", lang.metric(Metric::TtftS), Metric::TtftS.unit()),
    );
    let (lo, hi) = (y.min, y.max);
    let mut plot = Plot::new(x, y).x_labels(ticks);
    if let Some(rule) = rule {
        tier_bands_y(&mut plot, Metric::TtftS, rule, lo, hi);
    }
    for (i, (pts, name)) in [(&p50, "p50"), (&p90, "p90")].into_iter().enumerate() {
        plot.line(pts, &format!("curve {}", series(i)));
        plot.dots(pts, &format!("dot {}", series(i)));
        plot.legend(series(i), name);
    }
    Some(plot.finish(title))
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::stats::Stats;

    fn turn(turn: u32, ttft: &[f64]) -> TurnStats {
        TurnStats {
            turn,
            requests: ttft.len() as u64,
            ok: ttft.len() as u64,
            ttft_s: Stats::from_values(&mut ttft.to_vec()),
            prefill_tok_s: None,
            prompt_tokens: None,
            cached_share: None,
            first_tool_s: None,
            tool_chars: None,
            tool_call_share: None,
        }
    }

    #[test]
    fn one_point_per_turn_and_statistic() {
        let turns = [turn(0, &[0.4, 0.6]), turn(1, &[0.2, 0.3]), turn(2, &[])];
        let svg = ttft(&turns, Figure::Turn, None, "<t>", Lang::En).unwrap();
        // Two turns with a TTFT, two statistics.
        assert_eq!(svg.matches("<circle").count(), 4, "{svg}");
        assert!(svg.contains("&lt;t&gt;") && svg.contains(">turn<"));
        assert!(ttft(&[turn(0, &[])], Figure::Turn, None, "t", Lang::En).is_none());
    }
}
