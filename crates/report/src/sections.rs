//! The text sections of a report: statistics, errors, settings and
//! environment, and how each metric is computed.

use crate::format::{escape, value, with_interval};
use crate::lang::Lang;
use crate::level::Level;
use crate::page::table;
use std::collections::BTreeMap;
use tokenpace_core::metric::Metric;
use tokenpace_core::record::ErrorKind;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;

/// Mean, p50, p90, p99 (each with its 95 % interval from the run's
/// requests) and n of every measured metric of one level.
pub fn stats_table(s: &RunSummary, lang: Lang) -> String {
    let rows: Vec<Vec<String>> = Metric::ALL
        .into_iter()
        .filter_map(|m| {
            let st = s.metrics.get(&m)?;
            let too_few = lang.pick("n too small", "样本太少");
            let pct = |p| with_interval(m, st.get(p), st.interval(p).as_ref(), too_few);
            let name = match m.unit() {
                "" => lang.metric(m).to_string(),
                u => format!("{} ({u})", lang.metric(m)),
            };
            Some(vec![
                name,
                value(m, st.mean),
                pct(Statistic::P50),
                pct(Statistic::P90),
                pct(Statistic::P99),
                st.n.to_string(),
            ])
        })
        .collect();
    let caption = escape(lang.pick(
        "(a–b): each percentile's 95 % interval from this level's requests (order statistics, distribution-free); ≥ a: too few requests to bound it above.",
        "(a–b)：本档请求得到的各分位数 95 % 置信区间（次序统计量，不依赖分布）；≥ a：请求太少，无法给出上界。",
    ));
    let head = [
        lang.pick("metric", "指标"),
        "mean",
        "p50",
        "p90",
        "p99",
        "n",
    ];
    format!(
        "{}<p class=\"caption\">{caption}</p>",
        table(&head, &rows, &[])
    )
}

/// With repeats (`bench --repeat`): each metric's mean ± the half-width
/// of its 95 % interval (Student's t over the per-repeat means), the CV
/// across repeats and each repeat's mean.
pub fn repeats_table(s: &RunSummary, lang: Lang) -> Option<String> {
    let r = s.repeats.as_ref()?;
    let rows: Vec<Vec<String>> = r
        .means
        .iter()
        .map(|(&m, i)| {
            let name = match m.unit() {
                "" => lang.metric(m).to_string(),
                u => format!("{} ({u})", lang.metric(m)),
            };
            let each: Vec<String> = r
                .runs
                .iter()
                .filter_map(|run| run.aggregate.metrics.get(&m).map(|st| value(m, st.mean)))
                .collect();
            vec![
                name,
                format!("{} ± {}", value(m, i.mean), value(m, i.half_width())),
                i.cv.map_or("-".into(), |cv| format!("{:.1} %", cv * 100.0)),
                each.join(" "),
            ]
        })
        .collect();
    let caption = format!(
        "<p class=\"caption\">{}</p>",
        escape(&match lang {
            Lang::En => format!("{} repeats: mean ± 95 % interval (Student's t over the per-repeat means), coefficient of variation across repeats.", r.runs.len()),
            Lang::Zh => format!("{} 次重复：均值 ± 95 % 置信区间（按每次重复的均值，Student t），重复间变异系数。", r.runs.len()),
        })
    );
    let head = [
        lang.pick("metric", "指标"),
        lang.pick("mean ± 95 %", "均值 ± 95 %"),
        "CV",
        lang.pick("per repeat", "每次重复"),
    ];
    Some(table(&head, &rows, &[3]) + &caption)
}

/// Failures by kind over the levels, with the first message of each kind
/// (as the server or the client wrote it, escaped).
pub fn errors(runs: &[Level], lang: Lang) -> String {
    let mut by_kind: BTreeMap<ErrorKind, (u64, String)> = BTreeMap::new();
    for r in runs.iter().flat_map(|r| &r.records) {
        if let Some(e) = &r.error {
            let entry = by_kind.entry(e.kind).or_insert((0, String::new()));
            entry.0 += 1;
            if entry.1.is_empty() {
                entry.1 = first_message(e.status, &e.message);
            }
        }
    }
    let sent: u64 = runs.iter().map(|r| r.summary.counts.sent).sum();
    let ok: u64 = runs.iter().map(|r| r.summary.counts.ok).sum();
    let mut s = format!(
        "<p>{sent} {}, {ok} ok, {} {}</p>",
        lang.pick("requests sent", "个请求已发送"),
        sent - ok,
        lang.pick("failed", "失败")
    );
    if by_kind.is_empty() {
        s.push_str(&format!(
            "<p class=\"note\">{}</p>",
            lang.pick("No request failed.", "没有失败的请求。")
        ));
        return s;
    }
    let rows: Vec<Vec<String>> = by_kind
        .into_iter()
        .map(|(k, (n, msg))| vec![k.id().to_string(), n.to_string(), msg])
        .collect();
    s.push_str(&table(
        &[
            lang.pick("error", "错误"),
            lang.pick("count", "次数"),
            lang.pick("first message", "首条消息"),
        ],
        &rows,
        &[2],
    ));
    s
}

/// An error's message with its HTTP status in front, once: the client
/// already writes most status messages as "HTTP 500: …".
fn first_message(status: Option<u16>, message: &str) -> String {
    match status {
        Some(s) if !message.starts_with(&format!("HTTP {s}")) => format!("HTTP {s}: {message}"),
        _ => message.to_string(),
    }
}

/// The values of one setting over the levels, joined ("1, 4, 16").
fn over_levels<T: ToString>(
    runs: &[Level],
    get: impl Fn(&RunSummary) -> Option<T>,
) -> Option<String> {
    let mut vals: Vec<String> = Vec::new();
    for v in runs
        .iter()
        .filter_map(|r| get(&r.summary))
        .map(|v| v.to_string())
    {
        if !vals.contains(&v) {
            vals.push(v);
        }
    }
    (!vals.is_empty()).then(|| vals.join(", "))
}

/// What was measured and where: settings (per level where they differ),
/// tool and machine.
pub fn settings(runs: &[Level], lang: Lang) -> String {
    let Some(first) = runs.first() else {
        return String::new();
    };
    let s = &first.summary;
    let st = &s.settings;
    let env = &s.environment;
    let opt = |v: Option<String>| v.unwrap_or_else(|| "-".into());
    let duration: f64 = runs.iter().map(|r| r.summary.throughput.duration_s).sum();
    let partial = runs.iter().any(|r| r.summary.partial);
    let rows = vec![
        vec![lang.pick("target", "目标").into(), opt(st.target.clone())],
        vec![lang.pick("model", "模型").into(), opt(st.model.clone())],
        vec![lang.pick("backend", "接口").into(), opt(st.backend.clone())],
        vec![
            lang.pick("concurrency", "并发").into(),
            opt(over_levels(runs, |s| s.settings.concurrency)),
        ],
        vec![
            lang.pick("rate (req/s)", "速率 (req/s)").into(),
            opt(over_levels(runs, |s| s.settings.rate)),
        ],
        vec![
            lang.pick("requests", "请求数").into(),
            opt(over_levels(runs, |s| s.settings.requests)),
        ],
        vec![
            lang.pick("prompt tokens", "提示 token").into(),
            opt(over_levels(runs, |s| s.settings.prompt_tokens)),
        ],
        vec![
            "max_tokens".into(),
            opt(st.max_tokens.map(|c| c.to_string())),
        ],
        vec![
            lang.pick("scenario", "场景").into(),
            opt(st.scenario.clone()),
        ],
        vec![
            lang.pick("stall threshold", "停顿阈值").into(),
            format!("{} s", st.stall_threshold_s),
        ],
        vec![
            lang.pick("network overhead", "网络开销").into(),
            format!("{} s", st.network_overhead_s),
        ],
        vec![
            lang.pick("duration", "时长").into(),
            format!(
                "{:.2} s{}",
                duration,
                if partial {
                    lang.pick(" (interrupted)", "（已中断）")
                } else {
                    ""
                }
            ),
        ],
        vec![
            lang.pick("started", "开始时间").into(),
            opt(env.started_at.clone()),
        ],
        vec![
            lang.pick("tool", "工具").into(),
            format!("tokenpace {}", env.tool_version),
        ],
        vec![
            lang.pick("machine", "机器").into(),
            format!("{} {} · {} CPUs", env.os, env.arch, env.cpus),
        ],
    ];
    table(
        &[lang.pick("setting", "设置"), lang.pick("value", "值")],
        &rows,
        &[1],
    )
}

/// How each metric is computed, and how statistics and tiers are derived.
pub fn definitions(lang: Lang) -> String {
    let mut s = String::from("<dl>");
    for m in [
        Metric::TtftS,
        Metric::PrefillTokS,
        Metric::DecodeTokS,
        Metric::OutputCharsS,
        Metric::ItlS,
        Metric::E2eS,
        Metric::LongestStallS,
        Metric::CharsPerToken,
    ] {
        s.push_str(&format!(
            "<dt>{} <code>{}</code></dt><dd>{}</dd>",
            escape(lang.metric(m)),
            m.id(),
            escape(lang.definition(m))
        ));
    }
    s.push_str("</dl>");
    s.push_str(&format!("<p class=\"note\">{}</p>", escape(lang.pick(
        "Times are taken where the bytes arrive, in nanoseconds on a monotonic clock. Latency and rate metrics cover successful requests only. Percentiles interpolate linearly between closest ranks (numpy's default). A metric's tier is judged on the profile's statistic (the mean by default); rates reach a boundary at its value, latencies must be strictly below it; the overall tier is the worst. Full definitions: docs/metrics.md.",
        "时间在字节到达处以单调时钟（纳秒）记录。延迟与速度指标只统计成功的请求。分位数按最近秩线性插值（与 numpy 默认一致）。等级按评级标准规定的统计量（默认均值）判定；速度达到边界即达到该等级，延迟须严格低于边界；综合等级取最差者。完整定义见 docs/metrics.md。",
    ))));
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::tests::level;
    use tokenpace_core::record::RequestError;

    fn failing(status: Option<u16>, message: &str) -> Level {
        let mut l = level("a", 1, 100, 10);
        l.records[0].error = Some(RequestError {
            kind: ErrorKind::HttpStatus,
            status,
            message: message.into(),
        });
        l
    }

    #[test]
    fn the_status_is_written_once() {
        let html = errors(&[failing(Some(500), "HTTP 500: boom")], Lang::En);
        assert!(html.contains("HTTP 500: boom"), "{html}");
        assert!(!html.contains("HTTP 500: HTTP 500"), "{html}");
        // A message without the status still gets it.
        let html = errors(&[failing(Some(503), "busy")], Lang::En);
        assert!(html.contains("HTTP 503: busy"), "{html}");
        let html = errors(&[failing(None, "connection reset")], Lang::En);
        assert!(
            html.contains("connection reset") && !html.contains("HTTP"),
            "{html}"
        );
    }
}
