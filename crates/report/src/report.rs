//! The report of one run (one level or a sweep) as a single HTML page: the
//! verdict first, then what a reader sees, the distributions, the prefill
//! line, the per-turn (per-step) and prefix-cache views, the streams over
//! time, the sweep, errors, settings and definitions. [`Html`] is the
//! page's exporter.

use crate::charts::{cdf, per_second, prefill, sweep, timeline, typing};
use crate::format::{escape, with_unit};
use crate::lang::Lang;
use crate::level::Level;
use crate::page::{document, section};
use crate::{conversation, sections, verdict};
use std::fmt::Write;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::regression::PrefillFit;
use tokenpace_core::stats::Statistic;
use tokenpace_present::{ExportError, Exporter};

pub use crate::charts::cdf::itl_rule;

/// The HTML report of a run: `Html { .. }.export(&levels)` is one
/// self-contained page (inline styles and SVG, no network needed) of the
/// levels, in the order they ran (one for a plain run). `tokenpace report`
/// and `bench --html` write it.
#[derive(Debug, Clone, Copy)]
pub struct Html<'a> {
    /// The language of the labels.
    pub lang: Lang,
    /// The run's name in the page title (plain text; it is escaped).
    pub title: &'a str,
    /// The thresholds graded against.
    pub profile: &'a Profile,
}

impl Exporter<[Level]> for Html<'_> {
    fn export(&self, levels: &[Level]) -> Result<String, ExportError> {
        Ok(self.render(levels))
    }
}

/// The prefill line, when the levels asked for two or more prompt lengths
/// (`bench --prompt-tokens 128,512,2048`), with the points it was fitted
/// on. Prompts of one asked length vary by a few tokens; a line through
/// them would mean nothing.
pub fn prefill_fit(levels: &[Level]) -> Option<(Vec<(f64, f64)>, PrefillFit)> {
    let mut asked: Vec<u32> = levels
        .iter()
        .filter_map(|r| r.summary.settings.prompt_tokens)
        .collect();
    asked.sort_unstable();
    asked.dedup();
    if asked.len() < 2 {
        return None;
    }
    let points = PrefillFit::points(levels.iter().flat_map(|l| &l.records));
    PrefillFit::fit(&points).ok().map(|f| (points, f))
}

impl Html<'_> {
    /// The whole page.
    pub fn render(&self, levels: &[Level]) -> String {
        let (lang, profile) = (self.lang, self.profile);
        // Top to bottom; a section without content is left out.
        let parts = [
            ("verdict", Some(verdict_section(levels, profile, lang))),
            ("typing", typing_section(levels, profile, lang)),
            ("distributions", Some(distributions(levels, profile, lang))),
            ("prefill", prefill_section(levels, profile, lang)),
            ("turns", conversation::turns_section(levels, profile, lang)),
            ("cache", conversation::cache_section(levels, lang)),
            ("per_second", per_second_section(levels, lang)),
            ("timeline", timeline_section(levels, lang)),
            ("sweep", sweep_section(levels, profile, lang)),
            ("statistics", Some(statistics(levels, lang))),
            ("errors", Some(sections::errors(levels, lang))),
            ("settings", Some(sections::settings(levels, lang))),
            ("definitions", Some(sections::definitions(lang))),
        ];
        let body: String = parts
            .iter()
            .filter_map(|(id, content)| Some(section(id, heading(id, lang), content.as_ref()?)))
            .collect();
        document(
            lang,
            &format!("tokenpace · {}", self.title),
            &subtitle(levels, profile, lang),
            &body,
            &format!(
                "tokenpace {} · {}",
                env!("CARGO_PKG_VERSION"),
                lang.pick(
                    "self-contained report: no network needed to view or print it",
                    "独立报告：查看或打印无需联网"
                )
            ),
        )
    }
}

/// The heading of the section `id`.
fn heading(id: &str, lang: Lang) -> &'static str {
    let (en, zh) = match id {
        "verdict" => ("Verdict", "结论"),
        "typing" => ("What the user sees", "用户看到的效果"),
        "distributions" => ("Latency distributions", "延迟分布"),
        "prefill" => ("TTFT versus prompt length", "首字延迟与提示长度"),
        "turns" => ("Per turn and per step", "按轮次与步骤"),
        "cache" => ("Prefix cache", "前缀缓存"),
        "per_second" => ("The run second by second", "逐秒运行情况"),
        "timeline" => ("Tokens over time", "token 随时间到达"),
        "sweep" => ("Load sweep", "负载扫描"),
        "statistics" => ("Statistics", "统计"),
        "errors" => ("Errors by kind", "错误分类"),
        "settings" => ("Settings and machine", "设置与机器"),
        _ => ("How each metric is computed", "各指标的计算方法"),
    };
    lang.pick(en, zh)
}

/// "target · model · started" and "profile NAME · c1, c4".
fn subtitle(levels: &[Level], profile: &Profile, lang: Lang) -> Vec<String> {
    let Some(s) = levels.first().map(|l| &l.summary) else {
        return Vec::new();
    };
    let names: Vec<&str> = levels.iter().map(|l| l.name.as_str()).collect();
    let mut lines = vec![
        format!(
            "{} · {} · {}",
            s.settings.target.as_deref().unwrap_or("-"),
            s.settings.model.as_deref().unwrap_or("-"),
            s.environment.started_at.as_deref().unwrap_or("-")
        ),
        format!(
            "{} {} · {}",
            lang.pick("profile", "评级标准"),
            profile.name,
            names.join(", ")
        ),
    ];
    if let Some(imported) = &s.settings.imported {
        lines.extend(tokenpace_present::imported::lines(imported, lang));
    }
    lines
}

/// The prefill line's chart and caption, for a prompt-length sweep.
fn prefill_section(levels: &[Level], profile: &Profile, lang: Lang) -> Option<String> {
    let (points, fit) = prefill_fit(levels)?;
    // The fit uses every request; the chart at most 2000 dots.
    let every = points.len().div_ceil(2000).max(1);
    let shown: Vec<(f64, f64)> = points.iter().step_by(every).copied().collect();
    let mut s = prefill::chart(&shown, &fit, profile.metrics.get(&Metric::TtftS), lang);
    let _ = write!(s, "<p class=\"caption\">{}</p>", escape(&match lang {
        Lang::En => format!("TTFT ≈ {:.3} s + n ÷ {:.0} tok/s over {} requests (R² {:.3}): the slope is the server's prefill rate, the intercept its fixed overhead (network, queueing, first decode step).", fit.overhead_s, fit.prefill_tok_s, fit.n, fit.r2),
        Lang::Zh => format!("首字延迟 ≈ {:.3} s + n ÷ {:.0} tok/s（{} 个请求，R² {:.3}）：斜率即服务器的预填充速度，截距为固定开销（网络、排队、首个解码步）。", fit.overhead_s, fit.prefill_tok_s, fit.n, fit.r2),
    }));
    Some(s)
}

/// Each level's timeline: throughput, in-flight count and TTFT per second.
fn per_second_section(levels: &[Level], lang: Lang) -> Option<String> {
    let mut out = String::new();
    for l in levels {
        let windows = l
            .summary
            .steady_state
            .as_ref()
            .map_or(&[][..], |s| s.windows.as_slice());
        let Some(svg) = per_second::charts(&l.summary.timeline, windows, lang) else {
            continue;
        };
        if levels.len() > 1 {
            let _ = write!(out, "<h3>{}</h3>", escape(&l.name));
        }
        out.push_str(&svg);
    }
    if out.is_empty() {
        return None;
    }
    let cap = lang.pick(
        "Shaded: the steady state (in flight ≥ 95 % of the target concurrency). Tokens are counted in the second they arrived; TTFT is the median of the requests sent in that second.",
        "阴影：稳态（在途请求 ≥ 目标并发的 95 %）。token 按到达的秒计；首字延迟为该秒发出请求的中位数。",
    );
    let _ = write!(out, "<p class=\"caption\">{}</p>", escape(cap));
    Some(out)
}

/// A sample of the last level's streams over time.
fn timeline_section(levels: &[Level], lang: Lang) -> Option<String> {
    let last = levels.last()?;
    let svg = timeline::chart(&last.records, lang)?;
    let cap = format!(
        "{} {}",
        lang.pick("A sample of streams from level", "抽样的流，来自档位"),
        last.name
    );
    Some(format!("{svg}<p class=\"caption\">{}</p>", escape(&cap)))
}

/// Throughput and the graded metrics against load, for a sweep.
fn sweep_section(levels: &[Level], profile: &Profile, lang: Lang) -> Option<String> {
    if levels.len() < 2 {
        return None;
    }
    let mut s = sweep::throughput(levels, lang);
    for m in [Metric::TtftS, Metric::DecodeTokS, Metric::OutputCharsS] {
        s.push_str(&sweep::metric(levels, m, profile, lang).unwrap_or_default());
    }
    Some(s)
}

/// Every level's statistics table (open when there is one level).
fn statistics(levels: &[Level], lang: Lang) -> String {
    let open = if levels.len() == 1 { " open" } else { "" };
    let mut stats = String::new();
    for l in levels {
        let _ = write!(
            stats,
            "<details{open}><summary>{}</summary>{}{}</details>",
            escape(&l.name),
            sections::stats_table(&l.summary, lang),
            sections::repeats_table(&l.summary, lang).unwrap_or_default()
        );
    }
    stats
}

fn verdict_section(runs: &[Level], profile: &Profile, lang: Lang) -> String {
    let mut s = String::new();
    // A prompt-length sweep grades prefill from its line.
    let line = prefill_fit(runs).map(|(_, f)| f);
    for r in runs {
        let grade = match profile.grade_run(|m, st| r.summary.get(m, st), line.as_ref()) {
            Ok(g) => g,
            Err(e) => {
                let _ = write!(s, "<p class=\"note\">{}</p>", escape(&e.to_string()));
                continue;
            }
        };
        s.push_str("<div class=\"level\">");
        if runs.len() > 1 {
            let _ = write!(s, "<h3>{}</h3>", escape(&r.name));
        }
        s.push_str(&verdict::block(&grade, lang));
        s.push_str("</div>");
    }
    s
}

fn typing_section(runs: &[Level], profile: &Profile, lang: Lang) -> Option<String> {
    let opts = runs.first()?.metric_options();
    let (stream, speed) = typing::median_stream(runs.iter().flat_map(|r| &r.records), &opts)?;
    let level = runs
        .iter()
        .find(|r| r.records.iter().any(|x| std::ptr::eq(x, stream)))?;
    let reading = profile
        .metrics
        .get(&Metric::OutputCharsS)
        .map_or(25.0, |r| r.a);
    let mean = level.summary.get(Metric::OutputCharsS, Statistic::Mean);
    let ttft = stream
        .first_visible_ns()
        .map(|t| t.saturating_sub(stream.sent_ns) as f64 / 1e9);
    let mut s = String::new();
    let fig = |s: &mut String, v: String, label: &str| {
        let _ = write!(
            s,
            "<div class=\"figure\"><b>{}</b><span>{}</span></div>",
            escape(&v),
            escape(label)
        );
    };
    s.push_str("<div class=\"figures\">");
    fig(
        &mut s,
        with_unit(Metric::OutputCharsS, speed),
        lang.pick("this stream (the median)", "该流（中位数）"),
    );
    if let Some(m) = mean {
        fig(
            &mut s,
            with_unit(Metric::OutputCharsS, m),
            lang.pick("mean over requests", "请求均值"),
        );
    }
    fig(
        &mut s,
        format!("{reading} chars/s"),
        lang.pick("comfortable reading", "舒适阅读速度"),
    );
    if let Some(t) = ttft {
        fig(
            &mut s,
            with_unit(Metric::TtftS, t),
            lang.pick("first character after", "首字出现于"),
        );
    }
    s.push_str("</div>");
    s.push_str(&typing::chart(stream, reading, lang));
    let _ = write!(
        s,
        "<h3>{} <button type=\"button\" data-replay=\"replay\">{}</button></h3><div id=\"replay\">{}</div><p class=\"caption\">{}</p>",
        lang.pick("Replay", "回放"),
        lang.pick("replay", "重播"),
        typing::replay(stream, lang),
        escape(&format!(
            "{} {} · {} #{} · {}",
            lang.pick("level", "档位"),
            level.name,
            lang.pick("request", "请求"),
            stream.id,
            lang.pick("each block is one character, shown when its chunk arrived (the records keep timings, not text)", "每个方块代表一个字符，在其数据块到达时显示（记录只保存时间，不保存文本）")
        ))
    );
    Some(s)
}

fn distributions(levels: &[Level], profile: &Profile, lang: Lang) -> String {
    let charts = [
        (
            Metric::TtftS,
            lang.pick(
                "Share of requests whose first token came within x seconds; shaded: the TTFT tiers.",
                "首个 token 在 x 秒内到达的请求占比；底色为首字延迟的等级区间。",
            ),
        ),
        (
            Metric::ItlS,
            lang.pick(
                "Share of token gaps up to x seconds, pooled over all streams; shaded: the decode tiers as gaps (1 ÷ tok/s).",
                "不超过 x 秒的 token 间隔占比（汇总所有流）；底色为解码速度等级换算成的间隔（1 ÷ tok/s）。",
            ),
        ),
        (
            Metric::DecodeTokS,
            lang.pick(
                "Share of streams decoding at up to x tokens/s; shaded: the decode tiers.",
                "解码速度不超过 x tok/s 的流占比；底色为解码速度等级区间。",
            ),
        ),
    ];
    let mut s = String::new();
    for (metric, caption) in charts {
        if let Some(svg) = cdf::of_levels(metric, levels, profile, lang) {
            let _ = write!(s, "{svg}<p class=\"caption\">{}</p>", escape(caption));
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::tests::level;

    #[test]
    fn the_html_exporter_writes_one_escaped_page_per_run() {
        let profile = Profile::builtin();
        let html = Html {
            lang: Lang::En,
            title: "<run>",
            profile: &profile,
        };
        let levels = [level("c1", 8, 200, 25), level("c4", 8, 300, 30)];
        let page = html.export(&levels).unwrap();
        assert!(page.contains("tokenpace · &lt;run&gt;"), "title");
        assert!(!page.contains("<run>"));
        for id in ["verdict", "distributions", "sweep", "statistics"] {
            assert!(page.contains(&format!("id=\"{id}\"")), "{id}");
        }
        // One level: no sweep section.
        let one = html.export(&levels[..1]).unwrap();
        assert!(!one.contains("id=\"sweep\""));
    }
}
