//! The caveats of a run in words: what a reader must know to trust it.

use tokenpace_present::Lang;
use tokenpace_runner::self_check::TimingError;
use tokenpace_runner::Caveat;

/// `caveat` as a sentence in `lang`.
pub fn text(caveat: Caveat, lang: Lang) -> String {
    match caveat {
        Caveat::Interrupted => lang
            .pick(
                "interrupted: these results cover the requests that finished before Ctrl-C",
                "已中断：结果只包含中断前完成的请求",
            )
            .into(),
        Caveat::TokensCountedAsEvents { responses } => format!(
            "{responses} {}",
            lang.pick("responses reported no usage: their output tokens are counted as streamed events (a lower bound if the server sends several tokens per event)", "个响应未返回 usage：输出 token 按流式事件数计（若服务器每个事件发送多个 token，则偏低）")
        ),
        Caveat::SeveralTokensPerChunk {
            responses,
            tokens,
            chunks,
        } => match lang {
            Lang::En => format!(
                "{responses} responses carried {tokens} tokens in {chunks} chunks (several tokens per chunk: tool-call arguments, text held back, speculative decoding): decode is the server's token count over the time generation took, but inter-token latency is per chunk, not per token"
            ),
            Lang::Zh => format!(
                "{responses} 个响应以 {chunks} 个分块送出 {tokens} 个 token（每块多个 token：工具调用参数、暂缓输出的文本、投机解码）：解码速度按服务器计数与生成耗时计算，但字间延迟是按分块而非按 token 计"
            ),
        },
        Caveat::AgentAnsweredInText {
            tasks,
            of,
            steps,
            required,
        } => {
            let why = match (required, lang) {
                (true, Lang::En) => " although --tool-choice required asked for one: the server ignores tool_choice, or its model cannot call tools",
                (true, Lang::Zh) => "，尽管 --tool-choice required 要求调用：服务器忽略了 tool_choice，或其模型不会调用工具",
                (false, _) => "",
            };
            match lang {
                Lang::En => format!("{tasks} of {of} tasks ended before step {steps} (--agent-steps): the model answered in text instead of calling a tool{why}"),
                Lang::Zh => format!("{of} 个任务中有 {tasks} 个在第 {steps} 步（--agent-steps）之前结束：模型以文本作答，没有调用工具{why}"),
            }
        }
        Caveat::StoppedEarly { responses } => format!(
            "{responses} {} {}",
            lang.pick(
                "responses stopped before --max-tokens",
                "个响应在 --max-tokens 之前结束"
            ),
            lang.pick(
                "(the server may not honour ignore_eos)",
                "（服务器可能不支持 ignore_eos）"
            )
        ),
        Caveat::PrefillIsALowerBound => lang
            .pick(
                "prefill is prompt tokens ÷ TTFT: a lower bound, since TTFT also holds fixed costs (network, queueing, the first decode step); --prompt-tokens 128,512,2048 separates them by a fit",
                "prefill 为提示 token ÷ 首字延迟：这是下限，因为首字延迟还包含固定开销（网络、排队、首个解码步）；用 --prompt-tokens 128,512,2048 拟合可将其分离",
            )
            .into(),
        Caveat::ServerPrefillBeside => lang
            .pick(
                "prefill, server-reported, is the server's own prompt-evaluation rate; the client-derived prefill is prompt tokens ÷ TTFT, which also holds the network, the queue and fixed per-request costs, so it is lower: the gap is that overhead",
                "服务器报告的 prefill 仅计提示处理本身；客户端推算的 prefill 为提示 token ÷ 首字延迟，还包含网络、排队和每个请求的固定开销，因此更低：两者之差即这些开销",
            )
            .into(),
        Caveat::PromptTokensEstimated { responses } => format!(
            "{responses} {}",
            lang.pick("responses reported no prompt tokens: prompt lengths (and client-side prefill) are estimates", "个响应未返回提示 token 数：提示长度（及客户端推算的 prefill）为估计值")
        ),
        Caveat::PrimedCache { percent } => format!(
            "{percent} % {}",
            lang.pick(
                "of prompt tokens came from the server's prefix cache although every prompt of this run was its own: they were sent before (an earlier run with --reuse-prompts and the same --seed), so TTFT looks better than a cold cache; drop --reuse-prompts, or restart the server",
                "的提示 token 来自服务器的前缀缓存，而本次运行的每个提示都各不相同：它们之前已发送过（之前用 --reuse-prompts 和相同 --seed 的运行），首字延迟因此好于冷缓存；去掉 --reuse-prompts，或重启服务器"
            )
        ),
    }
}

/// `+0.12` or `-0.03`: an excess that may be either (never `-0.00`).
fn signed(ms: f64) -> String {
    let ms = if ms.abs() < 0.005 { 0.0 } else { ms };
    format!("{ms:+.2}")
}

/// The self-check's result, as a note beside the results.
pub fn self_check(e: &TimingError, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "timing error ±{:.2} ms (inter-token, p99) at {} streams: this client against the built-in simulator on this machine (TTFT {} ms p50, {} ms p99, including loopback)",
            e.itl_error_ms.1, e.streams, signed(e.ttft_excess_ms.0), signed(e.ttft_excess_ms.1)
        ),
        Lang::Zh => format!(
            "计时误差 ±{:.2} ms（字间延迟 p99，{} 路并发）：本机上本客户端对内置模拟器的自检（首字延迟 p50 {} ms，p99 {} ms，含回环）",
            e.itl_error_ms.1, e.streams, signed(e.ttft_excess_ms.0), signed(e.ttft_excess_ms.1)
        ),
    }
}
