//! How `bench` results read: the metrics table, sweep rows, CSV, JSON, and
//! the notes a reader needs to trust the numbers.

use super::options::max_tokens;
use super::LevelResult;
use crate::cli::BenchArgs;
use crate::table::{Align, Table, TableFormat};
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::{CountSource, ErrorKind, RequestRecord};
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::number;
use tokenpace_present::Lang;

/// One row per level: settings, counts, throughput, then mean, p50, p90 and
/// p99 of every metric (empty where not measured), at full precision.
pub(super) fn csv_table(results: &[LevelResult]) -> Table {
    const STATS: [Statistic; 4] = [
        Statistic::Mean,
        Statistic::P50,
        Statistic::P90,
        Statistic::P99,
    ];
    let mut header: Vec<String> = [
        "level",
        "concurrency",
        "rate",
        "prompt_tokens",
        "sent",
        "ok",
        "failed",
        "duration_s",
        "requests_per_s",
        "output_tok_s",
        "overall_tier",
    ]
    .map(String::from)
    .to_vec();
    for m in Metric::ALL {
        header.extend(STATS.map(|st| format!("{}_{st}", m.id())));
    }
    let mut t = Table {
        header,
        ..Table::default()
    };
    let opt = |v: Option<String>| v.unwrap_or_default();
    for r in results {
        let s = &r.summary;
        let mut row = vec![
            r.label.clone(),
            opt(s.settings.concurrency.map(|c| c.to_string())),
            opt(s.settings.rate.map(|c| c.to_string())),
            opt(s.settings.prompt_tokens.map(|c| c.to_string())),
            s.counts.sent.to_string(),
            s.counts.ok.to_string(),
            s.counts.failed.to_string(),
            s.throughput.duration_s.to_string(),
            s.throughput.requests_per_s.to_string(),
            s.throughput.output_tok_s.to_string(),
            opt(r.grade.overall.map(|t| t.to_string())),
        ];
        for m in Metric::ALL {
            row.extend(STATS.map(|st| opt(s.get(m, st).map(|v| v.to_string()))));
        }
        t.row(row);
    }
    t
}

pub(super) fn json_text(v: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

pub(super) fn sweep_json(
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
) -> serde_json::Value {
    let levels: Vec<serde_json::Value> = results
        .iter()
        .map(|r| {
            let mut v =
                serde_json::json!({"label": r.label, "summary": r.summary, "grade": r.grade});
            if let Some(d) = &r.server {
                v["server_metrics"] = serde_json::json!(d);
            }
            v
        })
        .collect();
    let fit = match fit {
        Some(Ok(f)) => serde_json::json!(f),
        Some(Err(e)) => serde_json::json!({"error": e.to_string()}),
        None => serde_json::Value::Null,
    };
    serde_json::json!({"levels": levels, "prefill_fit": fit})
}

/// One line saying why nothing succeeded, and what to try.
pub(super) fn all_failed(records: &[RequestRecord], url: &str) -> String {
    let Some(first) = records.iter().find_map(|r| r.error.as_ref()) else {
        return "no request was sent (the run was interrupted before the first one)".into();
    };
    let hint = match (first.kind, first.status) {
        (ErrorKind::Connect, _) => format!("is the server running at {url}?"),
        (ErrorKind::Dns, _) => "is the host name right?".into(),
        (ErrorKind::Tls, _) => "does the server speak TLS (https) on that port?".into(),
        (ErrorKind::HttpStatus, Some(401 | 403)) => {
            "the API key is missing or wrong (--api-key, TOKENPACE_API_KEY or OPENAI_API_KEY)"
                .into()
        }
        (ErrorKind::HttpStatus, Some(404)) => "wrong URL or model name? (--model, --api)".into(),
        (ErrorKind::Timeout, _) => {
            "the server did not answer in time (--first-token-timeout, --timeout)".into()
        }
        _ => "see requests.jsonl (--out) for every error".into(),
    };
    format!(
        "all {} requests failed; the first with {}: {} — {hint}",
        records.len(),
        first.kind.id(),
        first.message
    )
}

/// Things a reader must know to trust the numbers.
pub(super) fn notes(
    records: &[&RequestRecord],
    partial: bool,
    args: &BenchArgs,
    lang: Lang,
) -> Vec<String> {
    let mut notes = Vec::new();
    if partial {
        notes.push(
            lang.pick(
                "interrupted: these results cover the requests that finished before Ctrl-C",
                "已中断：结果只包含中断前完成的请求",
            )
            .to_string(),
        );
    }
    let ok: Vec<&RequestRecord> = records.iter().copied().filter(|r| r.is_ok()).collect();
    let by_chunks = ok
        .iter()
        .filter(|r| {
            r.output_tokens
                .is_some_and(|t| t.source == CountSource::ChunkCount)
        })
        .count();
    if by_chunks > 0 {
        notes.push(format!(
            "{by_chunks} {}",
            lang.pick("responses reported no usage: their output tokens are counted as streamed events (a lower bound if the server sends several tokens per event)", "个响应未返回 usage：输出 token 按流式事件数计（若服务器每个事件发送多个 token，则偏低）")
        ));
    }
    if !args.no_ignore_eos {
        let short = ok
            .iter()
            .filter(|r| r.output_tokens.is_some_and(|t| t.count < max_tokens(args)))
            .count();
        if short > 0 {
            notes.push(format!(
                "{short} {} {}",
                lang.pick(
                    "responses stopped before --max-tokens",
                    "个响应在 --max-tokens 之前结束"
                ),
                lang.pick(
                    "(the server may not honour ignore_eos)",
                    "（服务器可能不支持 ignore_eos）"
                )
            ));
        }
    }
    if ok.iter().any(|r| r.server_timings.is_none()) && args.network_overhead == 0.0 {
        notes.push(
            lang.pick(
                "prefill is prompt tokens ÷ TTFT: a lower bound, since TTFT also holds fixed costs (network, queueing, the first decode step); --prompt-tokens 128,512,2048 separates them by a fit",
                "prefill 为提示 token ÷ 首字延迟：这是下限，因为首字延迟还包含固定开销（网络、排队、首个解码步）；用 --prompt-tokens 128,512,2048 拟合可将其分离",
            )
            .to_string(),
        );
    }
    let server: Vec<f64> = ok
        .iter()
        .filter_map(|r| r.server_timings.and_then(|t| t.prefill_tok_s))
        .collect();
    if !server.is_empty() {
        notes.push(
            lang.pick(
                "prefill, server-reported, is the server's own prompt-evaluation rate; the client-derived prefill is prompt tokens ÷ TTFT, which also holds the network, the queue and fixed per-request costs, so it is lower: the gap is that overhead",
                "服务器报告的 prefill 仅计提示处理本身；客户端推算的 prefill 为提示 token ÷ 首字延迟，还包含网络、排队和每个请求的固定开销，因此更低：两者之差即这些开销",
            )
            .to_string(),
        );
    }
    let estimated = ok
        .iter()
        .filter(|r| {
            r.prompt_tokens
                .is_some_and(|t| t.source == CountSource::Estimate)
        })
        .count();
    if estimated > 0 {
        notes.push(format!(
            "{estimated} {}",
            lang.pick("responses reported no prompt tokens: prompt lengths (and client-side prefill) are estimates", "个响应未返回提示 token 数：提示长度（及客户端推算的 prefill）为估计值")
        ));
    }
    notes
}

pub(crate) fn render(
    summary: &RunSummary,
    grade: &Grade,
    profile: &Profile,
    notes: &[String],
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let mut out = String::new();
    let s = &summary.settings;
    let load = match (s.concurrency, s.rate) {
        (Some(c), _) => format!("{} {c}", lang.pick("concurrency", "并发")),
        (_, Some(r)) => format!("{} {r}/s", lang.pick("rate", "速率")),
        _ => String::new(),
    };
    out.push_str(&format!(
        "{} · {} · {load} · {:.1} s\n\n",
        s.target.as_deref().unwrap_or("-"),
        s.model.as_deref().unwrap_or("-"),
        summary.throughput.duration_s
    ));
    let mut t = Table::new(&[
        (lang.pick("metric", "指标"), Align::Left),
        ("mean", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let graded: std::collections::BTreeMap<Metric, &tokenpace_core::grade::MetricGrade> =
        grade.metrics.iter().map(|g| (g.metric, g)).collect();
    // Every per-request metric but the token counts, which are settings.
    let shown = Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::PromptTokens | Metric::OutputTokens));
    for m in shown {
        let Some(st) = summary.metrics.get(&m) else {
            continue;
        };
        let tier = graded.get(&m).map_or(String::new(), |g| match g.pass {
            Some(true) => lang.pick("pass", "达标").to_string(),
            Some(false) => lang.pick("fail", "未达标").to_string(),
            None => g.tier.to_string(),
        });
        t.row(vec![
            format!("{} ({})", lang.metric(m), m.unit()).replace(" ()", ""),
            number::value(m, st.mean),
            number::value(m, st.p50),
            number::value(m, st.p90),
            number::value(m, st.p99),
            tier,
        ]);
    }
    out.push_str(&format.render(&t));
    let c = &summary.counts;
    out.push_str(&format!(
        "\n{}: {} {}, {} ok, {} {}; {:.2} req/s, {:.1} {}\n",
        lang.pick("requests", "请求"),
        c.sent,
        lang.pick("sent", "已发送"),
        c.ok,
        c.failed,
        lang.pick("failed", "失败"),
        summary.throughput.requests_per_s,
        summary.throughput.output_tok_s,
        lang.pick("output tok/s over all streams", "输出 tok/s（所有流合计）"),
    ));
    if !c.by_kind.is_empty() {
        let mut e = Table::new(&[
            (lang.pick("error", "错误"), Align::Left),
            (lang.pick("count", "次数"), Align::Right),
        ]);
        for (kind, n) in &c.by_kind {
            e.row(vec![kind.id().to_string(), n.to_string()]);
        }
        out.push('\n');
        out.push_str(&format.render(&e));
    }
    for n in notes {
        out.push_str(&format!("{}{n}\n", if markdown { "> " } else { "note: " }));
    }
    out.push('\n');
    out.push_str(&crate::cmd::grade::render(
        grade,
        profile,
        &[],
        lang,
        format,
        markdown,
    ));
    out
}

/// One row per level, then the prefill line when prompt lengths were swept.
pub(super) fn render_sweep(
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
    notes: &[String],
    lang: Lang,
    format: &dyn TableFormat,
) -> String {
    let first = &results[0].summary.settings;
    let mut out = format!(
        "{} · {}\n\n",
        first.target.as_deref().unwrap_or("-"),
        first.model.as_deref().unwrap_or("-")
    );
    let mut t = Table::new(&[
        (lang.pick("level", "档位"), Align::Left),
        ("ok", Align::Right),
        ("TTFT mean", Align::Right),
        ("TTFT p99", Align::Right),
        (lang.pick("decode", "解码"), Align::Right),
        (lang.pick("chars/s", "字/s"), Align::Right),
        ("ITL p99", Align::Right),
        ("req/s", Align::Right),
        (lang.pick("out tok/s", "输出 tok/s"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    for r in results {
        let s = &r.summary;
        let get = |m: Metric, st: Statistic| {
            s.get(m, st)
                .map_or("-".to_string(), |v| number::value(m, v))
        };
        t.row(vec![
            r.label.clone(),
            format!("{}/{}", s.counts.ok, s.counts.sent),
            get(Metric::TtftS, Statistic::Mean),
            get(Metric::TtftS, Statistic::P99),
            get(Metric::DecodeTokS, Statistic::Mean),
            get(Metric::OutputCharsS, Statistic::Mean),
            get(Metric::ItlS, Statistic::P99),
            format!("{:.2}", s.throughput.requests_per_s),
            format!("{:.0}", s.throughput.output_tok_s),
            r.grade.overall.map_or("-".into(), |t| t.to_string()),
        ]);
    }
    out.push_str(&format.render(&t));
    match fit {
        Some(Ok(f)) => out.push_str(&format!(
            "\n{}: TTFT ≈ {:.3} s + n / {:.0} tok/s (R² {:.3}, {} {})\n",
            lang.pick("prefill line", "prefill 拟合"),
            f.overhead_s,
            f.prefill_tok_s,
            f.r2,
            f.n,
            lang.pick("requests", "个请求"),
        )),
        Some(Err(e)) => out.push_str(&format!(
            "\n{}: {e}\n",
            lang.pick("prefill line", "prefill 拟合")
        )),
        None => {}
    }
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// The self-check's result, as a note beside the results.
pub(super) fn self_check_note(e: &crate::self_check::TimingError, lang: Lang) -> String {
    match lang {
            Lang::En => format!(
                "timing error ±{:.2} ms (inter-token, p99) at {} streams: this client against the built-in simulator on this machine (TTFT +{:.2} ms p50, +{:.2} ms p99, including loopback and the server's intake)",
                e.itl_error_ms.1, e.streams, e.ttft_excess_ms.0, e.ttft_excess_ms.1
            ),
            Lang::Zh => format!(
                "计时误差 ±{:.2} ms（字间延迟 p99，{} 路并发）：本机上本客户端对内置模拟器的自检（首字延迟 p50 +{:.2} ms，p99 +{:.2} ms，含回环与服务器接收）",
                e.itl_error_ms.1, e.streams, e.ttft_excess_ms.0, e.ttft_excess_ms.1
            ),
    }
}
