//! `tokenpace plan bounds`'s results: the roofline estimate of a model on a
//! device, graded, and the catalog (`--list`).

use super::{bytes, flops, resource, say, title, words, Names};
use crate::output::grade::grade_section;
use serde::Serialize;
use tokenpace_core::metric::Metric;
use tokenpace_plan::catalog::Catalog;
use tokenpace_plan::hardware::Hardware;
use tokenpace_plan::model::Model;
use tokenpace_plan::roofline::{Estimate, Resource};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{number, Document, Lang, Output};

/// The estimate of one deployment and workload.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct BoundsOutput {
    /// Bounds, expected values, memory and the grade.
    pub estimate: Estimate,
    /// The model's and device's full names (for the title).
    #[serde(skip)]
    pub names: Names,
}

impl Output for BoundsOutput {
    fn document(&self, lang: Lang) -> Document {
        let (e, w, m) = (
            &self.estimate,
            &self.estimate.workload,
            &self.estimate.memory,
        );
        let mut d = Document::new();
        d.title(title(e, &self.names, lang));
        let (prompt, answer) = (say(lang, words::PROMPT), say(lang, words::ANSWER));
        d.item(match lang {
            Lang::En => format!(
                "workload: {prompt} {:.0} tok · {answer} {:.0} tok · {} concurrent · {:.2} chars/token · round trip {:.0} ms",
                w.prompt_tokens, w.output_tokens, w.concurrency, w.chars_per_token, w.rtt_s * 1000.0
            ),
            Lang::Zh => format!(
                "负载：{prompt} {:.0} tok · {answer} {:.0} tok · 并发 {} · {:.2} 字/token · 网络往返 {:.0} ms",
                w.prompt_tokens, w.output_tokens, w.concurrency, w.chars_per_token, w.rtt_s * 1000.0
            ),
        });
        d.blank().heading(lang.pick("Memory", "显存"));
        let usable = e.efficiency.memory_usable * 100.0;
        let capped = |asked: f64| match lang {
            Lang::En => format!(" (asked {asked}: capped by memory capacity)"),
            Lang::Zh => format!("（要求 {asked}：受显存容量限制）"),
        };
        let capped = if m.concurrency_capped {
            capped(w.concurrency)
        } else {
            String::new()
        };
        let context = w.prompt_tokens + w.output_tokens;
        match lang {
            Lang::En => d
                .item(format!(
                    "weights {} · KV cache {}/token, {} per {context:.0}-token context · usable {} of {} ({usable:.0} %)",
                    bytes(m.weight_bytes), bytes(m.kv_bytes_per_token), bytes(m.context_bytes),
                    bytes(m.usable_bytes), bytes(m.total_bytes),
                ))
                .item(format!(
                    "{:.0} contexts fit; serving {} at once{capped}",
                    m.contexts_fit, e.concurrency
                )),
            Lang::Zh => d
                .item(format!(
                    "权重 {} · KV 缓存每 token {}，每个 {context:.0} token 的上下文 {} · 可用 {} / {}（{usable:.0} %）",
                    bytes(m.weight_bytes), bytes(m.kv_bytes_per_token), bytes(m.context_bytes),
                    bytes(m.usable_bytes), bytes(m.total_bytes),
                ))
                .item(format!(
                    "可容纳 {:.0} 个上下文；同时服务 {} 个{capped}",
                    m.contexts_fit, e.concurrency
                )),
        };
        let (c, b) = (e.efficiency.compute * 100.0, e.efficiency.bandwidth * 100.0);
        d.blank().heading(match lang {
            Lang::En => format!(
                "Bounds (peak → expected at {c:.0} % of peak compute, {b:.0} % of peak bandwidth)"
            ),
            Lang::Zh => format!("理论上限（峰值 → 按峰值算力 {c:.0} %、峰值带宽 {b:.0} % 估计）"),
        });
        d.table(phases(e, lang));
        d.item(format!(
            "{}{}",
            lang.pick("all streams together: ", "所有并发流合计："),
            number::with_unit(Metric::DecodeTokS, e.aggregate_decode_tok_s)
        ));
        d.blank()
            .heading(lang.pick("Expected experience", "预计体验"));
        d.append(grade_section(&e.grade, &[], lang));
        d
    }
}

fn phases(e: &Estimate, lang: Lang) -> Table {
    let m = &e.memory;
    let mut t = Table::new(&[
        (lang.pick("phase", "阶段"), Align::Left),
        (lang.pick("work", "计算量"), Align::Right),
        (lang.pick("memory traffic", "访存量"), Align::Right),
        (lang.pick("bound", "上限"), Align::Right),
        (lang.pick("expected", "预计"), Align::Right),
        (lang.pick("binds on", "瓶颈"), Align::Left),
    ]);
    t.row(vec![
        lang.metric(Metric::PrefillTokS).into(),
        flops(e.prefill.flops),
        bytes(e.prefill.bytes),
        number::with_unit(Metric::PrefillTokS, e.prefill_bound_tok_s),
        number::with_unit(Metric::PrefillTokS, e.prefill_tok_s),
        resource(lang, e.prefill.binding).into(),
    ]);
    let batch = format!("{} {}", lang.pick("batch", "批大小"), e.concurrency);
    t.row(vec![
        format!(
            "{}{}",
            lang.metric(Metric::DecodeTokS),
            super::aside(lang, &batch)
        ),
        flops(e.decode.flops),
        bytes(e.decode.bytes),
        number::with_unit(Metric::DecodeTokS, e.decode_bound_tok_s),
        number::with_unit(Metric::DecodeTokS, e.decode_tok_s),
        resource(lang, e.decode.binding).into(),
    ]);
    t.row(vec![
        lang.pick("concurrency", "并发").into(),
        "-".into(),
        "-".into(),
        format!("{:.0}", m.contexts_fit),
        format!("{}", e.concurrency),
        if m.concurrency_capped {
            resource(lang, Resource::MemoryCapacity).into()
        } else {
            "-".into()
        },
    ]);
    t
}

/// The catalog's devices and models, each with the source of its figures.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct CatalogOutput {
    /// The devices.
    pub hardware: Vec<Hardware>,
    /// The models.
    pub models: Vec<Model>,
}

impl CatalogOutput {
    /// The catalog's entries.
    pub fn of(c: Catalog) -> CatalogOutput {
        CatalogOutput {
            hardware: c.hardware,
            models: c.models,
        }
    }
}

impl Output for CatalogOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        d.blank().heading(lang.pick("Hardware", "硬件"));
        let mut t = Table::new(&[
            ("id", Align::Left),
            ("FP16 TFLOPS", Align::Right),
            ("INT8 TOPS", Align::Right),
            (lang.pick("bandwidth", "带宽"), Align::Right),
            (lang.pick("memory", "显存"), Align::Right),
            (say(lang, words::NAME), Align::Left),
        ]);
        for h in &self.hardware {
            t.row(vec![
                h.id.clone(),
                format!("{}", h.fp16_tflops),
                h.int8_tops.map_or("-".into(), |v| format!("{v}")),
                format!("{} GB/s", h.memory_bandwidth_gb_s),
                format!("{} GB", h.memory_gb),
                h.name.clone(),
            ]);
        }
        d.table(t);
        d.blank().heading(lang.pick("Models", "模型"));
        let mut t = Table::new(&[
            ("id", Align::Left),
            (lang.pick("params", "参数"), Align::Right),
            (lang.pick("active", "激活"), Align::Right),
            (lang.pick("layers", "层数"), Align::Right),
            (lang.pick("KV heads", "KV 头"), Align::Right),
            (lang.pick("KV/token", "每 token KV"), Align::Right),
            (say(lang, words::NAME), Align::Left),
        ]);
        for m in &self.models {
            t.row(vec![
                m.id.clone(),
                format!("{} B", m.params_b),
                m.active_params_b.map_or("-".into(), |a| format!("{a} B")),
                m.layers.to_string(),
                m.kv_heads.to_string(),
                bytes(m.kv_bytes_per_token()),
                m.name.clone(),
            ]);
        }
        d.table(t).blank();
        d.line(lang.pick(
            "Sources for every figure: crates/plan/data/*.toml (`--format json` prints them).",
            "每个数字的来源见 crates/plan/data/*.toml（`--format json` 会输出）。",
        ));
        d
    }
}
