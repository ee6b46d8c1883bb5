//! The comparison page: runs side by side, each change with its p-value,
//! tier changes highlighted, and the distributions overlaid.

use crate::charts::cdf;
use crate::compare::{CompareOptions, Comparison, Verdict};
use crate::format::{escape, with_interval};
use crate::lang::Lang;
use crate::level::Level;
use crate::page::{document, section};
use crate::verdict;
use std::fmt::Write;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::setting::Setting;
use tokenpace_present::{ExportError, Exporter};

/// A change as a cell: "-20.1 %" (never "-0.0 %"), as the terminal table
/// shows it.
pub fn change_text(c: Option<f64>) -> String {
    c.map_or("-".into(), tokenpace_present::number::percent_change)
}

/// A p-value as a cell: three significant digits, or "< 1e-12".
pub fn p_text(p: Option<f64>) -> String {
    match p {
        None => "-".into(),
        Some(p) if p < 1e-12 => "< 1e-12".into(),
        Some(p) if p < 0.001 => format!("{p:.2e}"),
        Some(p) => format!("{p:.3}"),
    }
}

/// The words of a verdict.
pub fn verdict_text(v: Verdict, lang: Lang) -> &'static str {
    match v {
        Verdict::Better => lang.pick("better", "更好"),
        Verdict::Worse => lang.pick("worse", "更差"),
        Verdict::Same => lang.pick("no significant change", "无显著变化"),
    }
}

/// The table of one comparison, rows coloured by verdict.
pub fn comparison_table(c: &Comparison, lang: Lang) -> String {
    let too_few = lang.pick("n too small", "样本太少");
    let mut s = String::from("<div class=\"scroll\"><table><thead><tr>");
    for h in [
        lang.pick("metric", "指标"),
        &c.base,
        &c.run,
        lang.pick("change", "变化"),
        "p",
        lang.pick("verdict", "结论"),
        lang.pick("tier", "等级"),
    ] {
        let _ = write!(s, "<th>{}</th>", escape(h));
    }
    s.push_str("</tr></thead><tbody>");
    let mut unsettled = Vec::new();
    for ch in &c.changes {
        let class = match ch.verdict {
            Verdict::Worse => " class=\"worse\"",
            Verdict::Better => " class=\"better\"",
            Verdict::Same => "",
        };
        let badge = |t| {
            format!(
                "<span class=\"tier {}\">{}</span>",
                verdict::tier_class(t),
                ch.tier_text(t, lang)
            )
        };
        let mut tier = match (ch.base_tier, ch.tier) {
            (Some(a), Some(b)) if a != b => format!("{} → {}", badge(a), badge(b)),
            (Some(a), Some(_)) => badge(a),
            _ => String::new(),
        };
        for (name, span) in [(&c.base, &ch.base_span), (&c.run, &ch.span)] {
            if let Some(sp) = span {
                let line = tokenpace_present::span::percentile_span_line(sp, lang);
                unsettled.push(format!("{name}: {line}"));
            }
        }
        if ch.base_span.is_some() || ch.span.is_some() {
            // Said under the table: an interval spans a tier boundary.
            tier.push_str(" ?");
        }
        let _ = write!(
            s,
            "<tr{class} data-metric=\"{}\"><td>{} ({}, {})</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{tier}</td></tr>",
            ch.metric.id(),
            escape(lang.metric(ch.metric)),
            ch.statistic,
            escape(ch.metric.unit()),
            escape(&with_interval(ch.metric, ch.base, ch.base_interval.as_ref(), too_few)),
            escape(&with_interval(ch.metric, ch.value, ch.interval.as_ref(), too_few)),
            change_text(ch.change_pct),
            p_text(ch.p_value()),
            escape(verdict_text(ch.verdict, lang)),
        );
    }
    s.push_str("</tbody></table></div>");
    for line in unsettled {
        let _ = write!(s, "<p class=\"note\">? {}</p>", escape(&line));
    }
    s
}

/// The comparison page: `CompareHtml { .. }.export(&(runs, comparisons))`
/// is one self-contained page of the runs (the first is the baseline) and
/// each run's [`Comparison`] with it.
#[derive(Debug, Clone, Copy)]
pub struct CompareHtml<'a> {
    /// The language of the labels.
    pub lang: Lang,
    /// The thresholds graded against.
    pub profile: &'a Profile,
    /// When a change counted as significant.
    pub options: CompareOptions,
}

impl<'r> Exporter<(&'r [Level], &'r [Comparison])> for CompareHtml<'_> {
    fn export(&self, input: &(&'r [Level], &'r [Comparison])) -> Result<String, ExportError> {
        Ok(render(
            input.0,
            input.1,
            self.profile,
            self.lang,
            &self.options,
        ))
    }
}

fn render(
    runs: &[Level],
    comparisons: &[Comparison],
    profile: &Profile,
    lang: Lang,
    options: &CompareOptions,
) -> String {
    let (alpha, min_change_pct) = (options.alpha, options.min_change_pct);
    let mut body = String::new();
    let mut changes = String::new();
    for c in comparisons {
        let _ = write!(changes, "<h3>{} → {}</h3>", escape(&c.base), escape(&c.run));
        changes.push_str(&comparison_table(c, lang));
    }
    let _ = write!(changes, "<p class=\"caption\">{}</p>", escape(&match lang {
        Lang::En => format!("Significant: Mann-Whitney U test on per-request values (two-sided, normal approximation, tie-corrected) with p < {alpha} and a change of more than {min_change_pct} % in the statistic. With repeats in both runs (bench {}), Welch's t-test on the per-repeat values decides instead. Change is relative to the first run.", Setting::Repeat),
        Lang::Zh => format!("显著：对逐请求数值做 Mann-Whitney U 检验（双侧、正态近似、含结校正），p < {alpha} 且统计量变化超过 {min_change_pct} %。两个运行都有重复（bench {}）时，改用每次重复数值的 Welch t 检验。变化相对于第一个运行。", Setting::Repeat),
    }));
    if (comparisons.iter().flat_map(|c| &c.changes)).any(|ch| ch.interval.is_some()) {
        let _ = write!(changes, "<p class=\"caption\">{}</p>", lang.pick(
            "(a–b): a percentile's 95 % interval from that run's requests (order statistics, distribution-free); ≥ a: too few requests to bound it above.",
            "(a–b)：该运行的请求得到的分位数 95 % 置信区间（次序统计量，不依赖分布）；≥ a：请求太少，无法给出上界。",
        ));
    }
    body.push_str(&section("changes", lang.pick("Changes", "变化"), &changes));
    let mut verdicts = String::new();
    for r in runs {
        if let Ok(g) = profile.grade_run(|m, st| r.summary.get(m, st), None) {
            let _ = write!(
                verdicts,
                "<div class=\"level\"><h3>{}</h3>{}</div>",
                escape(&r.name),
                verdict::block(&g, lang)
            );
        }
    }
    body.push_str(&section(
        "verdict",
        lang.pick("Verdict per run", "各运行的结论"),
        &verdicts,
    ));
    let mut charts = String::new();
    for m in [
        Metric::TtftS,
        Metric::ItlS,
        Metric::DecodeTokS,
        Metric::OutputCharsS,
    ] {
        charts.push_str(&cdf::of_levels(m, runs, profile, lang).unwrap_or_default());
    }
    body.push_str(&section(
        "distributions",
        lang.pick("Distributions overlaid", "分布叠加"),
        &charts,
    ));
    let names: Vec<&str> = runs.iter().map(|r| r.name.as_str()).collect();
    document(
        lang,
        &format!("tokenpace · {}", lang.pick("comparison", "对比")),
        &[names.join(" · ")],
        &body,
        &format!("tokenpace {}", env!("CARGO_PKG_VERSION")),
    )
}
