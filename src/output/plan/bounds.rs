//! `tokenpace plan bounds`'s results: the roofline estimate of a model on a
//! device, graded, and the catalog (`--list`).

use super::{aside, bytes, colon, flops, labelled, load, pct, resource, say, title, words, Names};
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
        d.item(labelled(
            lang,
            ("workload", "负载"),
            &format!(
                "{} · {:.2} {} · {} {:.0} ms",
                load(lang, w),
                w.chars_per_token,
                say(lang, words::CHARS_PER_TOKEN),
                lang.pick("round trip", "网络往返"),
                w.rtt_s * 1000.0
            ),
        ));
        d.blank().heading(lang.pick("Memory", "显存"));
        d.item(memory_use(e, lang));
        let capped = if m.concurrency_capped {
            let asked = format!("{} {}", lang.pick("asked", "要求"), w.concurrency);
            let limit = lang.pick("capped by memory capacity", "受显存容量限制");
            aside(lang, &format!("{asked}{}{limit}", colon(lang)))
        } else {
            String::new()
        };
        d.item(match lang {
            Lang::En => format!(
                "{:.0} contexts fit; serving {} at once{capped}",
                m.contexts_fit, e.concurrency
            ),
            Lang::Zh => format!(
                "可容纳 {:.0} 个上下文；同时服务 {} 个{capped}",
                m.contexts_fit, e.concurrency
            ),
        });
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

/// Where the memory goes: weights, KV cache, what is usable.
fn memory_use(e: &Estimate, lang: Lang) -> String {
    let (w, m) = (&e.workload, &e.memory);
    let context = w.prompt_tokens + w.output_tokens;
    let (per_token, per_context) = (bytes(m.kv_bytes_per_token), bytes(m.context_bytes));
    let kv = match lang {
        Lang::En => {
            format!("KV cache {per_token}/token, {per_context} per {context:.0}-token context")
        }
        Lang::Zh => {
            format!("KV 缓存每 token {per_token}，每个 {context:.0} token 的上下文 {per_context}")
        }
    };
    let usable = format!(
        "{} {} {} {}{}",
        lang.pick("usable", "可用"),
        bytes(m.usable_bytes),
        lang.pick("of", "/"),
        bytes(m.total_bytes),
        aside(lang, &pct(e.efficiency.memory_usable))
    );
    format!(
        "{} {} · {kv} · {usable}",
        say(lang, words::WEIGHTS),
        bytes(m.weight_bytes)
    )
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
