//! The verdict: the overall tier, then one badge per graded metric with its
//! value, the threshold it was judged against and the margin to the next
//! tier (or the headroom in tier A).

use crate::format::{escape, signed, with_unit};
use crate::lang::Lang;
use std::fmt::Write;
use tokenpace_core::grade::{Grade, MetricGrade, Tier};
use tokenpace_core::metric::Direction;
use tokenpace_present::labels;

/// A tier badge's text: A, B, C, or pass/fail for a pass/fail metric.
pub fn tier_text(g: &MetricGrade, lang: Lang) -> String {
    match g.pass {
        Some(true) => lang.pick("pass", "达标").into(),
        Some(false) => lang.pick("fail", "未达标").into(),
        None => g.tier.to_string(),
    }
}

/// "≥ 20.0 tok/s" or "< 2.00 s".
pub fn threshold_text(g: &MetricGrade) -> String {
    let op = if g.metric.direction() == Some(Direction::LowerIsBetter) {
        "<"
    } else {
        "≥"
    };
    format!("{op} {}", with_unit(g.metric, g.threshold))
}

/// How far the value is from the next tier, or its headroom in tier A.
pub fn margin_text(g: &MetricGrade, lang: Lang) -> String {
    let delta = signed(g.metric, g.margin);
    match (g.next_tier, g.pass) {
        (None, _) => format!("{delta} {}", lang.pick("headroom", "余量")),
        (Some(_), Some(false)) => match lang {
            Lang::En => format!("needs {delta} to pass"),
            Lang::Zh => format!("还差 {delta} 达标"),
        },
        (Some(next), _) if g.metric.direction() == Some(Direction::LowerIsBetter) => {
            let below = with_unit(g.metric, g.value + g.margin);
            match lang {
                Lang::En => format!("needs < {below} for {next} ({delta})"),
                Lang::Zh => format!("需低于 {below} 才到 {next}（{delta}）"),
            }
        }
        (Some(next), _) => match lang {
            Lang::En => format!("needs {delta} for {next}"),
            Lang::Zh => format!("距 {next} 还差 {delta}"),
        },
    }
}

/// The overall tier and the badges of one graded level.
pub fn block(grade: &Grade, lang: Lang) -> String {
    let mut s = String::new();
    let overall = grade.overall.map_or("-".to_string(), |t| t.to_string());
    let class = grade.overall.map_or("", tier_class);
    let set_by: Vec<&str> = grade
        .metrics
        .iter()
        .filter(|m| Some(m.tier) == grade.overall)
        .map(|m| lang.metric(m.metric))
        .collect();
    let why = match grade.overall {
        None => lang.pick("nothing graded", "没有可评级的指标").to_string(),
        Some(Tier::A) => lang
            .pick("every metric in tier A", "所有指标均为 A")
            .to_string(),
        Some(_) => format!("{}: {}", lang.pick("set by", "取决于"), set_by.join(", ")),
    };
    let _ = write!(
        s,
        r#"<div class="overall"><span class="tier {class}" data-overall="{overall}">{overall}</span><div><b>{}</b><div class="note">{}</div></div></div><div class="badges">"#,
        lang.pick("overall tier", "综合等级"),
        escape(&why)
    );
    for g in &grade.metrics {
        let stat = labels::value_basis(lang, g.statistic, g.source)
            .map_or(String::new(), |b| format!(" ({b})"));
        let _ = write!(
            s,
            r#"<div class="badge {}" data-metric="{}"><div class="name">{} <span class="tier {}">{}</span></div><div class="value">{}<small>{}</small></div><div class="detail">{} {} · {}</div></div>"#,
            tier_class(g.tier),
            g.metric.id(),
            escape(lang.metric(g.metric)),
            tier_class(g.tier),
            escape(&tier_text(g, lang)),
            escape(&with_unit(g.metric, g.value)),
            escape(&stat),
            lang.pick("threshold", "阈值"),
            escape(&threshold_text(g)),
            escape(&margin_text(g, lang)),
        );
    }
    s.push_str("</div>");
    if let Some(n) = &grade.prefill_not_measurable {
        let _ = write!(
            s,
            r#"<p class="note">{}</p>"#,
            escape(&labels::prefill_not_measurable(lang, n))
        );
    }
    s
}

/// The CSS class of a tier.
pub fn tier_class(t: Tier) -> &'static str {
    match t {
        Tier::A => "tier-A",
        Tier::B => "tier-B",
        Tier::C => "tier-C",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::metric::Metric;
    use tokenpace_core::profile::Profile;

    #[test]
    fn badges_say_value_threshold_and_margin() {
        let g = Profile::builtin()
            .grade_values(&[
                (Metric::TtftS, 2.4),
                (Metric::DecodeTokS, 22.0),
                (Metric::OutputCharsS, 24.0),
            ])
            .unwrap();
        let html = block(&g, Lang::En);
        assert!(html.contains("data-overall=\"C\""), "{html}");
        assert!(html.contains("needs &lt; 2.00 s for A (-0.40 s)"), "{html}");
        assert!(html.contains("needs +8.0 tok/s for A"), "{html}");
        assert!(html.contains("needs +1.0 chars/s to pass"), "{html}");
        let zh = block(&g, Lang::Zh);
        assert!(
            zh.contains("综合等级") && zh.contains("距 A 还差 +8.0 tok/s"),
            "{zh}"
        );
    }
}
