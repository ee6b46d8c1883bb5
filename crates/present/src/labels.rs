//! The words for each metric, in English and Chinese: one label per metric,
//! used by every command's table and by the HTML reports alike, so a
//! metric is called the same wherever it appears.

use crate::lang::Lang;
use tokenpace_core::metric::Metric;
use tokenpace_core::prefill::{PrefillNotMeasurable, PrefillSource, LONG_PROMPT_TOKENS};
use tokenpace_core::setting::Setting;
use tokenpace_core::stats::Statistic;

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
        Metric::AnsweredPct => ("requests answered", "得到回答的请求"),
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
        Metric::AnsweredPct => (
            "Share of the requests sent that got an answer; the rest failed (reset, timed out, refused).",
            "已发送请求中得到回答的比例；其余请求失败（连接被重置、超时或被拒绝）。",
        ),
    };
    lang.pick(en, zh)
}

/// A figure of the per-turn, per-step, task and prefix-cache views: not a
/// per-request metric, but labelled the same way everywhere (terminal and
/// HTML), and defined in `docs/metrics.md`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Figure {
    /// A chat session's turn index.
    Turn,
    /// An agent task's step index.
    Step,
    /// Prefill rate of the prompt tokens not taken from the cache.
    UncachedPrefill,
    /// Mean share of the prompt taken from the prefix cache.
    CachedShare,
    /// Σ cached ÷ Σ prompt tokens.
    CacheHitRate,
    /// Share of requests with a cache hit.
    CacheHitShare,
    /// TTFT of requests with a cache hit.
    TtftHit,
    /// TTFT of requests without one.
    TtftMiss,
    /// Send → first tool-call chunk.
    FirstTool,
    /// Characters of tool-call names and arguments.
    ToolChars,
    /// Share of steps that called a tool.
    ToolCallShare,
    /// First step scheduled → last step's end, per complete task.
    TaskTime,
}

impl Figure {
    /// Every figure.
    pub const ALL: [Figure; 12] = [
        Figure::Turn,
        Figure::Step,
        Figure::UncachedPrefill,
        Figure::CachedShare,
        Figure::CacheHitRate,
        Figure::CacheHitShare,
        Figure::TtftHit,
        Figure::TtftMiss,
        Figure::FirstTool,
        Figure::ToolChars,
        Figure::ToolCallShare,
        Figure::TaskTime,
    ];
}

/// A view figure's label, short enough for a column header.
pub fn figure(lang: Lang, f: Figure) -> &'static str {
    let (en, zh) = match f {
        Figure::Turn => ("turn", "轮次"),
        Figure::Step => ("step", "步骤"),
        Figure::UncachedPrefill => ("prefill, uncached (tok/s)", "预填充，未缓存部分 (tok/s)"),
        Figure::CachedShare => ("cached", "缓存占比"),
        Figure::CacheHitRate => ("prefix-cache hit rate", "前缀缓存命中率"),
        Figure::CacheHitShare => ("requests with a hit", "有命中的请求"),
        Figure::TtftHit => ("TTFT with a hit", "命中时首字延迟"),
        Figure::TtftMiss => ("TTFT without", "未命中时首字延迟"),
        Figure::FirstTool => ("first tool-call token", "首个工具调用 token"),
        Figure::ToolChars => ("tool-call chars", "工具调用字符数"),
        Figure::ToolCallShare => ("called a tool", "调用了工具"),
        Figure::TaskTime => ("task time", "任务耗时"),
    };
    lang.pick(en, zh)
}

/// How a view figure is computed (restating `docs/metrics.md`).
pub fn figure_definition(lang: Lang, f: Figure) -> &'static str {
    let (en, zh) = match f {
        Figure::Turn => (
            "The turn index within a chat session, from 0; each row is over all sessions that reached it.",
            "会话内的轮次序号（从 0 开始）；每行统计所有到达该轮的会话。",
        ),
        Figure::Step => (
            "The step (model call) index within an agent task, from 0; each row is over all tasks that reached it.",
            "智能体任务内的步骤（模型调用）序号（从 0 开始）；每行统计所有到达该步的任务。",
        ),
        Figure::UncachedPrefill => (
            "(Prompt tokens − cached tokens) ÷ (TTFT − network overhead), the median over a turn's requests: the prompt the server actually computed. Without a cache report every prompt token counts.",
            "（提示 token 数 − 缓存 token 数）÷（首字延迟 − 网络开销），取该轮请求的中位数：服务器实际计算的提示部分。服务器不报告缓存时按全部提示 token 计。",
        ),
        Figure::CachedShare => (
            "Cached prompt tokens ÷ prompt tokens per request (usage.prompt_tokens_details.cached_tokens), averaged over the requests that reported it.",
            "每个请求的缓存提示 token 数 ÷ 提示 token 数（usage.prompt_tokens_details.cached_tokens），对报告了该值的请求取平均。",
        ),
        Figure::CacheHitRate => (
            "Σ cached prompt tokens ÷ Σ prompt tokens, over the successful requests that reported cached tokens; not reported when none did.",
            "缓存提示 token 总数 ÷ 提示 token 总数，统计报告了缓存 token 数的成功请求；都未报告时显示未报告。",
        ),
        Figure::CacheHitShare => (
            "Share of those requests with at least one cached prompt token.",
            "其中至少有一个提示 token 来自缓存的请求占比。",
        ),
        Figure::TtftHit => (
            "TTFT of the requests with a cache hit.",
            "缓存命中请求的首字延迟。",
        ),
        Figure::TtftMiss => (
            "TTFT of the requests that reported no cached token.",
            "报告无缓存 token 的请求的首字延迟。",
        ),
        Figure::FirstTool => (
            "First tool-call chunk at_ns − sent_ns, over the steps that streamed a tool call.",
            "首个工具调用数据块到达时间 − 发送时间，统计流式输出了工具调用的步骤。",
        ),
        Figure::ToolChars => (
            "Characters of the tool calls' names and JSON arguments a step streamed, averaged over the steps that streamed one.",
            "一个步骤流式输出的工具调用名称与 JSON 参数的字符数，对输出了工具调用的步骤取平均。",
        ),
        Figure::ToolCallShare => (
            "Share of successful steps that called a tool.",
            "调用了工具的成功步骤占比。",
        ),
        Figure::TaskTime => (
            "From the first step's scheduled send to the last step's end, over the tasks whose every step succeeded: what the user waits for. A task fails if any step failed.",
            "从第一步计划发送到最后一步结束，统计所有步骤均成功的任务：用户实际等待的时间。任一步骤失败即任务失败。",
        ),
    };
    lang.pick(en, zh)
}

/// Where a graded prefill rate came from, in a few words.
pub fn prefill_source(lang: Lang, source: PrefillSource) -> &'static str {
    match source {
        PrefillSource::PrefillLine => lang.pick("from the prefill line", "来自预填充拟合线"),
        PrefillSource::ServerTimings => lang.pick("server-reported", "服务器报告"),
        PrefillSource::LongPrompts => lang.pick("long prompts", "长提示"),
        PrefillSource::LowerBoundInTierA => lang.pick("a lower bound already in A", "下限已达 A"),
    }
}

/// What a graded value is: its statistic over requests ("mean"), and for
/// prefill where it came from ("mean, long prompts"; a prefill line has no
/// statistic).
pub fn value_basis(
    lang: Lang,
    statistic: Option<Statistic>,
    source: Option<PrefillSource>,
) -> Option<String> {
    match (statistic, source) {
        (_, Some(PrefillSource::PrefillLine)) => {
            Some(prefill_source(lang, PrefillSource::PrefillLine).to_string())
        }
        (Some(st), Some(src)) => Some(format!("{st}, {}", prefill_source(lang, src))),
        (None, Some(src)) => Some(prefill_source(lang, src).to_string()),
        (Some(st), None) => Some(st.to_string()),
        (None, None) => None,
    }
}

/// Why prefill was left out of a grade, and how to measure it.
pub fn prefill_not_measurable(lang: Lang, n: &PrefillNotMeasurable) -> String {
    let prompt = n.prompt_tokens.round();
    let bound = n.lower_bound_tok_s.round();
    let long = LONG_PROMPT_TOKENS;
    match lang {
        Lang::En => format!(
            "prefill not graded: {prompt}-token prompts are too short to tell prefill from TTFT's fixed costs (prompt ÷ TTFT gives {bound} tok/s, a lower bound); measure it with a sweep ({} 256,1024,4096), prompts of ≥ {long} tokens, or a server that reports its timings",
            Setting::PromptTokens
        ),
        Lang::Zh => format!(
            "预填充未评级：提示仅 {prompt} token，太短，无法把预填充与首字延迟中的固定开销分开（提示 ÷ 首字延迟为 {bound} tok/s，只是下限）；可用长度扫描（{} 256,1024,4096）、≥ {long} token 的提示，或报告自身计时的服务器来测量",
            Setting::PromptTokens
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_metric_has_both_labels_and_a_definition() {
        for m in Metric::ALL.into_iter().chain(Metric::RUN) {
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

    #[test]
    fn every_view_figure_has_both_labels_and_a_definition() {
        for f in Figure::ALL {
            assert_ne!(figure(Lang::En, f), figure(Lang::Zh, f), "{f:?}");
            assert!(figure_definition(Lang::En, f).len() > 10, "{f:?}");
            assert!(figure_definition(Lang::Zh, f).len() > 10, "{f:?}");
        }
    }
}
