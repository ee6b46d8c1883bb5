//! How `bench` results read: the metrics table, sweep rows, CSV, JSON, and
//! the notes a reader needs to trust the numbers.

use super::options::max_tokens;
use crate::cli::BenchArgs;
use tokenpace_core::grade::Grade;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::{CountSource, ErrorKind, RequestRecord};
use tokenpace_core::summary::RunSummary;
use tokenpace_present::Lang;

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

/// One level's table as text (transitional, for `merge` until it builds
/// its own output).
pub(crate) fn render(
    summary: &RunSummary,
    grade: &Grade,
    profile: &Profile,
    notes: &[String],
    lang: Lang,
    _format: &dyn crate::table::TableFormat,
    markdown: bool,
) -> String {
    let d = crate::output::run::run_section(summary, grade, profile, notes, lang);
    if markdown {
        d.to_markdown()
    } else {
        d.to_terminal()
    }
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
