//! The seed's named scenarios (`plan scenario --preset`), each a partial
//! spec that flags complete.

use super::ScenarioSpec;

/// A named scenario from the seed.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Preset {
    /// The name used with `--preset`.
    pub name: &'static str,
    /// One line on what it models, in English.
    pub summary_en: &'static str,
    /// The same in Chinese.
    pub summary_zh: &'static str,
    prompt_tokens: f64,
    output_tokens: f64,
    rtt_s: Option<f64>,
    ttft_target_s: Option<f64>,
    chars_per_s_target: Option<f64>,
    prefill_tok_s: Option<f64>,
    decode_tok_s: Option<f64>,
}

impl Preset {
    /// The preset as a spec to overlay flags on.
    pub fn spec(&self) -> ScenarioSpec {
        ScenarioSpec {
            prompt_tokens: Some(self.prompt_tokens),
            output_tokens: Some(self.output_tokens),
            rtt_s: self.rtt_s,
            ttft_target_s: self.ttft_target_s,
            chars_per_s_target: self.chars_per_s_target,
            chars_per_token: None,
            prefill_tok_s: self.prefill_tok_s,
            decode_tok_s: self.decode_tok_s,
        }
    }
}

const fn preset(
    name: &'static str,
    summary_en: &'static str,
    summary_zh: &'static str,
    prompt_tokens: f64,
    output_tokens: f64,
) -> Preset {
    Preset {
        name,
        summary_en,
        summary_zh,
        prompt_tokens,
        output_tokens,
        rtt_s: None,
        ttft_target_s: None,
        chars_per_s_target: None,
        prefill_tok_s: None,
        decode_tok_s: None,
    }
}

/// The built-in scenarios. Where the seed gives no figure for a length, the
/// value is an assumption stated in the summary.
pub const PRESETS: &[Preset] = &[
    preset(
        "customer-service",
        "support bot: 2000-token system prompt + history, 200-token reply (reply length assumed)",
        "客服机器人：2000 token 系统指令和对话历史，回复 200 token（回复长度为假设）",
        2000.0,
        200.0,
    ),
    Preset {
        prefill_tok_s: Some(500.0),
        ..preset(
            "office-copilot",
            "summarise an 8000-token document on hardware doing 500 tok/s prefill; 400-token summary (assumed)",
            "办公助手：在 prefill 500 tok/s 的硬件上总结 8000 token 长文，摘要 400 token（假设）",
            8000.0,
            400.0,
        )
    },
    Preset {
        prefill_tok_s: Some(200.0),
        ..preset(
            "phone-offline",
            "offline model on a phone CPU (200 tok/s prefill): a 10-token question, 100-token answer (assumed)",
            "手机离线小模型（prefill 200 tok/s）：10 token 的提问，回答 100 token（假设）",
            10.0,
            100.0,
        )
    },
    Preset {
        prefill_tok_s: Some(200.0),
        ..preset(
            "code-paste",
            "the same phone, with 1000 tokens of pasted code; 200-token answer (assumed)",
            "同一部手机，贴入 1000 token 代码，回答 200 token（假设）",
            1000.0,
            200.0,
        )
    },
    Preset {
        decode_tok_s: Some(30.0),
        ..preset(
            "writing-assistant",
            "writing assistant: 300-token answer at 30 tok/s decode; 200-token prompt (assumed)",
            "写作助手：以 30 tok/s 生成 300 token 回答；提示 200 token（假设）",
            200.0,
            300.0,
        )
    },
    Preset {
        decode_tok_s: Some(20.0),
        ..preset(
            "smart-speaker",
            "smart speaker: 150-token spoken answer at 20 tok/s; 100-token prompt (assumed)",
            "智能音箱：以 20 tok/s 生成 150 token 语音回答；提示 100 token（假设）",
            100.0,
            150.0,
        )
    },
    Preset {
        decode_tok_s: Some(12.0),
        ..preset(
            "cpu-translation",
            "7B model on a low-end CPU translating 400 tokens at 12 tok/s; 400-token source (assumed)",
            "低端 CPU 上的 7B 模型以 12 tok/s 翻译 400 token；原文 400 token（假设）",
            400.0,
            400.0,
        )
    },
    Preset {
        rtt_s: Some(0.2),
        prefill_tok_s: Some(1500.0),
        ..preset(
            "web-chat",
            "web chat: 200 ms round trip, 1000-token prompt at 1500 tok/s prefill; 300-token answer (assumed)",
            "网页聊天：往返 200 ms，1000 token 提示，prefill 1500 tok/s；回答 300 token（假设）",
            1000.0,
            300.0,
        )
    },
    Preset {
        ttft_target_s: Some(2.0),
        chars_per_s_target: Some(25.0),
        prefill_tok_s: Some(1000.0),
        decode_tok_s: Some(25.0),
        ..preset(
            "long-summary",
            "long-document summary: 4000 tokens in, TTFT < 2 s, 600 tokens out at 25 chars/s, on hardware doing 1000 tok/s prefill and 25 tok/s decode",
            "长文摘要：输入 4000 token，首字 < 2 s，输出 600 token、25 字/s；硬件 prefill 1000 tok/s、decode 25 tok/s",
            4000.0,
            600.0,
        )
    },
];

/// Looks up a preset by name.
pub fn preset_named(name: &str) -> Option<&'static Preset> {
    PRESETS.iter().find(|p| p.name == name)
}

/// The preset names, for error messages.
pub fn preset_names() -> String {
    PRESETS
        .iter()
        .map(|p| p.name)
        .collect::<Vec<_>>()
        .join(", ")
}
