//! The words for each metric, in English and Chinese: one label per metric,
//! used by every command's table and by the HTML reports alike, so a
//! metric is called the same wherever it appears.

use crate::lang::Lang;
use tokenpace_core::metric::Metric;

impl Lang {
    /// A metric's label in this language ([`metric`]).
    pub fn metric(self, m: Metric) -> &'static str {
        metric(self, m)
    }

    /// How a metric is computed, in this language ([`definition`]).
    pub fn definition(self, m: Metric) -> &'static str {
        definition(self, m)
    }
}

/// A metric's human label (its unit is [`Metric::unit`]).
pub fn metric(lang: Lang, m: Metric) -> &'static str {
    let (en, zh) = match m {
        Metric::TtftS => ("time to first token", "首字延迟"),
        Metric::TtfvS => ("time to first visible char", "首个可见字延迟"),
        Metric::PrefillTokS => ("prefill", "预填充速度"),
        Metric::ServerPrefillTokS => ("prefill, server-reported", "预填充速度（服务器报告）"),
        Metric::ServerDecodeTokS => ("decode, server-reported", "解码速度（服务器报告）"),
        Metric::DecodeTokS => ("decode", "解码速度"),
        Metric::OutputCharsS => ("output speed", "输出速度"),
        Metric::ItlS => ("inter-token latency", "字间延迟"),
        Metric::E2eS => ("end-to-end latency", "端到端延迟"),
        Metric::LongestStallS => ("longest stall", "最长停顿"),
        Metric::Stalls => ("stalls", "停顿次数"),
        Metric::CharsPerToken => ("characters per token", "每 token 字数"),
        Metric::ScheduleLagS => ("schedule lag", "调度滞后"),
        Metric::PromptTokens => ("prompt tokens", "提示 token 数"),
        Metric::OutputTokens => ("output tokens", "输出 token 数"),
    };
    lang.pick(en, zh)
}

/// A metric's name where a column is narrow: the abbreviation people use
/// (TTFT, ITL), else the same words as [`metric`].
pub fn short(lang: Lang, m: Metric) -> &'static str {
    match m {
        Metric::TtftS => "TTFT",
        Metric::TtfvS => "TTFV",
        Metric::ItlS => "ITL",
        Metric::E2eS => lang.pick("end to end", "端到端"),
        _ => metric(lang, m),
    }
}

/// A metric's label with its unit, as a table row or column names it:
/// `output speed (chars/s)`, `stalls`.
pub fn metric_with_unit(lang: Lang, m: Metric) -> String {
    match m.unit() {
        "" => metric(lang, m).to_string(),
        unit => format!("{} ({unit})", metric(lang, m)),
    }
}

/// How a metric is computed, in one or two sentences (restating
/// `docs/metrics.md`), for the definitions section of a report.
pub fn definition(lang: Lang, m: Metric) -> &'static str {
    let (en, zh) = match m {
        Metric::TtftS => (
            "First chunk carrying a token minus the moment the request's first byte was sent. End to end: connection, queueing, prefill and the first decode step.",
            "首个携带 token 的数据块到达时间减去请求首字节发出时间。端到端：含连接、排队、预填充和第一步解码。",
        ),
        Metric::TtfvS => (
            "As TTFT, but to the first chunk with a visible answer character (what a reader of a reasoning model waits for).",
            "同首字延迟，但到第一个含可见回答字符的数据块（推理模型的读者实际等待的时间）。",
        ),
        Metric::PrefillTokS => (
            "Prompt tokens ÷ (TTFT − network overhead): a lower bound on the server's prefill rate, since TTFT also holds fixed costs. Several prompt lengths give a fitted line instead.",
            "提示 token 数 ÷（首字延迟 − 网络开销）：服务器预填充速度的下限，因为首字延迟还含固定开销。多个提示长度可拟合直线将其分离。",
        ),
        Metric::DecodeTokS => (
            "(Output tokens − 1) ÷ (last token time − first token time), per stream. The first token belongs to TTFT.",
            "（输出 token 数 − 1）÷（最后一个 token 时间 − 第一个 token 时间），按单个流计算。第一个 token 计入首字延迟。",
        ),
        Metric::ServerPrefillTokS => (
            "Prompt tokens per second as the server measured them itself (llama.cpp's and tokenpace serve's timings, Ollama's durations), shown beside the client's figure.",
            "服务器自己测得的每秒提示 token 数（llama.cpp 与 tokenpace serve 的 timings、Ollama 的耗时字段），与客户端的数值并列。",
        ),
        Metric::ServerDecodeTokS => (
            "Generated tokens per second as the server measured them itself.",
            "服务器自己测得的每秒生成 token 数。",
        ),
        Metric::OutputCharsS => (
            "Visible answer characters after the first visible chunk ÷ time from the first to the last visible chunk: how fast text appears once it has started. 25 chars/s is a comfortable reading speed.",
            "首个可见数据块之后的可见回答字符数 ÷ 从首个到最后一个可见数据块的时间：文本开始出现后的速度。25 字/秒是舒适的阅读速度。",
        ),
        Metric::ItlS => (
            "For each chunk after the first, the gap since the previous chunk ÷ the tokens it carried; pooled over all chunks of all requests, so one stall reaches the tail.",
            "第一个之后的每个数据块：与上一个数据块的间隔 ÷ 其携带的 token 数；汇总所有请求的所有数据块，单次停顿也会体现在尾部分位数中。",
        ),
        Metric::E2eS => (
            "End of the response minus the send time.",
            "响应结束时间减去发送时间。",
        ),
        Metric::LongestStallS => (
            "The longest gap between two consecutive visible chunks of a stream.",
            "一个流中相邻两个可见数据块之间的最长间隔。",
        ),
        Metric::Stalls => (
            "Gaps between consecutive visible chunks longer than the stall threshold (250 ms by default).",
            "相邻可见数据块间隔超过停顿阈值（默认 250 ms）的次数。",
        ),
        Metric::CharsPerToken => (
            "Visible answer characters ÷ answer tokens: turns decode speed into reading speed.",
            "可见回答字符数 ÷ 回答 token 数：把解码速度换算成阅读速度。",
        ),
        Metric::ScheduleLagS => (
            "Actual send time − scheduled send time: how late the client itself was.",
            "实际发送时间 − 计划发送时间：客户端自身的滞后。",
        ),
        Metric::PromptTokens => ("Prompt tokens per request.", "每个请求的提示 token 数。"),
        Metric::OutputTokens => ("Generated tokens per request.", "每个请求生成的 token 数。"),
    };
    lang.pick(en, zh)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_both_labels_and_a_definition() {
        for m in Metric::ALL {
            assert!(!metric(Lang::En, m).is_empty());
            assert_ne!(metric(Lang::En, m), metric(Lang::Zh, m));
            assert!(definition(Lang::En, m).len() > 10);
            assert!(definition(Lang::Zh, m).len() > 10);
        }
        assert_eq!(
            metric_with_unit(Lang::En, Metric::OutputCharsS),
            "output speed (chars/s)"
        );
        assert_eq!(metric_with_unit(Lang::En, Metric::Stalls), "stalls");
    }
}
