//! The planner's results (`plan scenario | bounds | remedies | calibrate`),
//! and the words, amounts and lines they share: the deployment's title,
//! bytes and FLOPs, the binding resource, the remedies section that `plan
//! scenario` and `bench` append when a target is missed.

pub mod bounds;
pub mod calibrate;
pub mod capacity;
pub mod remedies;
pub mod scenario;

use tokenpace_plan::arrivals::Arrivals;
use tokenpace_plan::kv_cache::KvCache;
use tokenpace_plan::quant::{Quant, Support};
use tokenpace_plan::roofline::{Deployment, Estimate, Resource, Traffic};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::Lang;

/// A phrase in English and Chinese.
pub(crate) type Words = (&'static str, &'static str);

/// Phrases the planner's results share; a metric is named by its label
/// (`tokenpace_present::labels`), as in every command.
pub(crate) mod words {
    use super::Words;
    pub const PROMPT: Words = ("prompt", "提示");
    pub const ANSWER: Words = ("answer", "回答");
    pub const TARGETS: Words = ("targets", "目标");
    pub const TARGET: Words = ("target", "目标");
    pub const WEIGHTS: Words = ("weights", "权重");
    pub const CHARS_PER_TOKEN: Words = ("chars/token", "字/token");
    pub const METRIC: Words = ("metric", "指标");
    pub const TIER: Words = ("tier", "等级");
    pub const ESTIMATED: Words = ("estimated", "估计");
    pub const ERROR: Words = ("error", "误差");
    pub const MODEL: Words = ("model", "模型");
    pub const HARDWARE: Words = ("hardware", "硬件");
    pub const NAME: Words = ("name", "名称");
}

/// A phrase in `lang`.
pub(crate) fn say(lang: Lang, w: Words) -> &'static str {
    lang.pick(w.0, w.1)
}

/// `: ` or `：`.
pub(crate) fn colon(lang: Lang) -> &'static str {
    lang.pick(": ", "：")
}

/// `label: text` (a full-width colon in Chinese).
pub(crate) fn labelled(lang: Lang, label: Words, text: &str) -> String {
    format!("{}{}{text}", say(lang, label), colon(lang))
}

/// The list separator: `, ` or `，`.
pub(crate) fn comma(lang: Lang) -> &'static str {
    lang.pick(", ", "，")
}

/// ` (text)` or `（text）`.
pub(crate) fn aside(lang: Lang, text: &str) -> String {
    match lang {
        Lang::En => format!(" ({text})"),
        Lang::Zh => format!("（{text}）"),
    }
}

/// `prompt 1000 tok · answer 256 tok · 1 concurrent`: a workload's load.
/// Characters per token with its source, the one way every plan output
/// shows the ratio (a test holds every output to it).
pub(crate) fn ratio_line(lang: Lang, ratio: f64, source: &str) -> String {
    format!(
        "{ratio:.2} {} ({}{source})",
        say(lang, words::CHARS_PER_TOKEN),
        lang.pick("source: ", "来源：")
    )
}

/// How the concurrent prompts are assumed to arrive, with the flags that
/// change it when `flags` (not for a run, whose loop decides).
pub(crate) fn arrivals_line(lang: Lang, w: &Traffic, flags: bool) -> String {
    let batch = w.prefill_batch_tokens;
    let (text, hint) = match (w.arrivals, lang) {
        (Arrivals::Together, Lang::En) => (
            format!("prompts arrive together, as a benchmark's streams start, and are prefilled {batch:.0} tokens per step"),
            " (--arrivals apart: users at random times; --prefill-batch)",
        ),
        (Arrivals::Together, Lang::Zh) => (
            format!("提示同时到达（如基准测试的并发流开始时），每步预填充 {batch:.0} 个 token"),
            "（--arrivals apart：用户随机到达；--prefill-batch）",
        ),
        (Arrivals::Apart, Lang::En) => (
            "prompts arrive apart, as users at random times, each waiting for the prefills in progress".to_string(),
            " (--arrivals together: all at once)",
        ),
        (Arrivals::Apart, Lang::Zh) => (
            "提示分散到达（用户随机到达），各自等待进行中的预填充".to_string(),
            "（--arrivals together：同时到达）",
        ),
    };
    if flags {
        text + hint
    } else {
        text
    }
}

pub(crate) fn load(lang: Lang, w: &Traffic) -> String {
    let concurrent = match lang {
        Lang::En => format!("{} concurrent", w.concurrency),
        Lang::Zh => format!("并发 {}", w.concurrency),
    };
    format!(
        "{} {:.0} tok · {} {:.0} tok · {concurrent}",
        say(lang, words::PROMPT),
        w.prompt_tokens,
        say(lang, words::ANSWER),
        w.output_tokens,
    )
}

/// An empty table whose columns are headed by phrases in `lang`.
pub(crate) fn table(lang: Lang, columns: &[(Words, Align)]) -> Table {
    let columns: Vec<(&str, Align)> = columns.iter().map(|(w, a)| (say(lang, *w), *a)).collect();
    Table::new(&columns)
}

/// A fraction as a whole percentage: `75 %`.
pub(crate) fn pct(x: f64) -> String {
    format!("{:.0} %", x * 100.0)
}

/// A relative error with its sign: `+19.6 %`.
pub(crate) fn error_pct(x: f64) -> String {
    format!("{:+.1} %", x * 100.0)
}

/// ✓ or ✗.
pub(crate) fn mark(ok: bool) -> &'static str {
    if ok {
        "✓"
    } else {
        "✗"
    }
}

/// A resource's label.
pub fn resource(lang: Lang, r: Resource) -> &'static str {
    match r {
        Resource::Compute => lang.pick("compute", "算力"),
        Resource::MemoryBandwidth => lang.pick("memory bandwidth", "显存带宽"),
        Resource::MemoryCapacity => lang.pick("memory capacity", "显存容量"),
    }
}

/// Bytes with a decimal unit (kB, MB, GB).
pub fn bytes(b: f64) -> String {
    if b >= 1e9 {
        format!("{:.2} GB", b / 1e9)
    } else if b >= 1e6 {
        format!("{:.1} MB", b / 1e6)
    } else {
        format!("{:.1} kB", b / 1e3)
    }
}

/// FLOPs with a decimal unit (GFLOP, TFLOP).
pub fn flops(f: f64) -> String {
    if f >= 1e12 {
        format!("{:.2} TFLOP", f / 1e12)
    } else {
        format!("{:.1} GFLOP", f / 1e9)
    }
}

/// The full names of an estimate's model and device (the estimate keeps
/// their ids), for its title line.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Names {
    /// The model's full name.
    pub model: String,
    /// The device's full name.
    pub hardware: String,
}

impl Names {
    /// The names of a deployment's model and device.
    pub fn of(d: &Deployment) -> Names {
        Names {
            model: d.model.name.clone(),
            hardware: d.hardware.name.clone(),
        }
    }
}

/// One line naming the deployment: `qwen2.5-7b (Qwen2.5-7B-Instruct) on 1 ×
/// rtx-4090 (…), int4 weights (weight-only: …)`; the weights' support is
/// said unless they are 16-bit, the KV cache's format unless it is 16-bit.
pub fn title(e: &Estimate, names: &Names, lang: Lang) -> String {
    let weights = say(lang, words::WEIGHTS);
    let support = match (e.quant, e.support, lang) {
        (Quant::Fp16, _, _) => String::new(),
        (_, Support::Native, Lang::En) => format!(" (native on {})", e.hardware),
        (_, Support::Native, Lang::Zh) => format!("（{} 原生支持）", e.hardware),
        (_, Support::WeightOnly, Lang::En) => {
            format!(
                " (weight-only on {}: dequantised, fp16 matrix rate)",
                e.hardware
            )
        }
        (_, Support::WeightOnly, Lang::Zh) => {
            format!("（{} 上仅权重：反量化，按 fp16 算力）", e.hardware)
        }
    };
    let kv = kv_cache_words(e.kv_cache, lang);
    match lang {
        Lang::En => format!(
            "{} ({}) on {} × {} ({}), {} {weights}{support}{kv}",
            e.model, names.model, e.devices, e.hardware, names.hardware, e.quant
        ),
        Lang::Zh => format!(
            "{}（{}）运行在 {} × {}（{}）上，{} {weights}{support}{kv}",
            e.model, names.model, e.devices, e.hardware, names.hardware, e.quant
        ),
    }
}

/// `, fp8 KV cache` when the KV cache is not 16-bit (nothing otherwise).
pub fn kv_cache_words(kv: KvCache, lang: Lang) -> String {
    match (kv, lang) {
        (KvCache::Fp16, _) => String::new(),
        (_, Lang::En) => format!(", {kv} KV cache"),
        (_, Lang::Zh) => format!("，{kv} KV 缓存"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_read_with_their_unit() {
        assert_eq!(bytes(4.29e9), "4.29 GB");
        assert_eq!(bytes(72.0e6), "72.0 MB");
        assert_eq!(bytes(57_344.0), "57.3 kB");
        assert_eq!(flops(15.44e12), "15.44 TFLOP");
        assert_eq!(flops(15.7e9), "15.7 GFLOP");
        assert_eq!(pct(0.75), "75 %");
        assert_eq!(error_pct(-0.172), "-17.2 %");
        assert_eq!(labelled(Lang::Zh, words::TARGETS, "x"), "目标：x");
        assert_eq!(aside(Lang::En, "x"), " (x)");
    }
}
