//! `tokenpace plan bounds`'s results: the roofline estimate of a model on a
//! device, graded, and the catalog (`--list`).

use super::{
    arrivals_line, aside, bytes, colon, flops, labelled, load, pct, ratio_line, resource, say,
    table, title, words, Names, Words,
};
use crate::output::grade::grade_section;
use serde::Serialize;
use tokenpace_core::metric::Metric;
use tokenpace_plan::catalog::Catalog;
use tokenpace_plan::hardware::Hardware;
use tokenpace_plan::kv_cache::KvCache;
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
                "{} · {} {:.0} ms",
                load(lang, w),
                lang.pick("round trip", "网络往返"),
                w.rtt_s * 1000.0
            ),
        ));
        d.item(ratio_line(
            lang,
            w.chars_per_token,
            &w.chars_per_token_source,
        ));
        if e.concurrency > 1.0 {
            d.item(prefill_wait(e, lang));
        }
        d.blank().heading(lang.pick("Memory", "显存"));
        d.item(memory_use(e, lang));
        let capped = if m.concurrency_capped {
            let asked = format!("{} {}", lang.pick("asked", "要求"), w.concurrency);
            let limit = lang.pick("capped by memory capacity", "受显存容量限制");
            aside(lang, &format!("{asked}{}{limit}", colon(lang)))
        } else {
            String::new()
        };
        let fit = match lang {
            Lang::En => format!("{:.0} contexts fit", m.contexts_fit),
            Lang::Zh => format!("可容纳 {:.0} 个上下文", m.contexts_fit),
        };
        let serving = match lang {
            Lang::En => format!("serving {} at once", e.concurrency),
            Lang::Zh => format!("同时服务 {} 个", e.concurrency),
        };
        d.item(format!("{fit}{}{serving}{capped}", lang.pick("; ", "；")));
        let (c, b) = (e.efficiency.compute * 100.0, e.efficiency.bandwidth * 100.0);
        d.blank().heading(match lang {
            Lang::En => format!(
                "Bounds (peak → expected at {c:.0} % of peak compute, {b:.0} % of peak bandwidth)"
            ),
            Lang::Zh => format!("理论上限（峰值 → 按峰值算力 {c:.0} %、峰值带宽 {b:.0} % 估计）"),
        });
        // A blank line ends the table in Markdown before the list item.
        d.table(phases(e, lang)).blank();
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

/// How long a prompt waits behind the other streams' prefills.
fn prefill_wait(e: &Estimate, lang: Lang) -> String {
    let wait = e.prefill_wait;
    let label = match lang {
        Lang::En => format!(
            "time to first token: a prompt waits for {wait:.2} prefills on average, its own included; "
        ),
        Lang::Zh => format!("首 token 时间：每个提示平均等待 {wait:.2} 次预填充（含自身）；"),
    };
    format!("{label}{}", arrivals_line(lang, &e.workload, true))
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
    let mut t = table(
        lang,
        &[
            (("phase", "阶段"), Align::Left),
            (("work", "计算量"), Align::Right),
            (("memory traffic", "访存量"), Align::Right),
            (("bound", "上限"), Align::Right),
            (("expected", "预计"), Align::Right),
            (("binds on", "瓶颈"), Align::Left),
        ],
    );
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

/// The headings of a device's figures.
const HARDWARE_FIGURES: [Words; 6] = [
    ("FP16 TFLOPS", "FP16 TFLOPS"),
    ("FP8 TFLOPS", "FP8 TFLOPS"),
    ("FP4 TFLOPS", "FP4 TFLOPS"),
    ("INT8 TOPS", "INT8 TOPS"),
    ("bandwidth", "带宽"),
    ("memory", "显存"),
];

/// The headings of a model's figures.
const MODEL_FIGURES: [Words; 6] = [
    ("params", "参数"),
    ("weights", "权重"),
    ("active", "激活"),
    ("layers", "层数"),
    ("KV heads", "KV 头"),
    ("KV/token", "每 token KV"),
];

fn hardware_figures(h: &Hardware) -> Vec<String> {
    let rate = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v}"));
    let bandwidth = format!("{} GB/s", h.memory_bandwidth_gb_s);
    vec![
        h.fp16_tflops.to_string(),
        rate(h.fp8_tflops),
        rate(h.fp4_tflops),
        rate(h.int8_tops),
        bandwidth,
        format!("{} GB", h.memory_gb),
    ]
}

fn model_figures(m: &Model) -> Vec<String> {
    let active = m.active_params_b.map_or("-".into(), |a| format!("{a} B"));
    let (layers, kv_heads) = (m.layers.to_string(), m.kv_heads.to_string());
    let per_token = bytes(m.kv_bytes_per_token(KvCache::Fp16));
    vec![
        format!("{} B", m.params_b),
        m.weights.to_string(),
        active,
        layers,
        kv_heads,
        per_token,
    ]
}

impl Output for CatalogOutput {
    fn document(&self, lang: Lang) -> Document {
        let hardware = self
            .hardware
            .iter()
            .map(|h| (&h.id, hardware_figures(h), &h.name));
        let models = self
            .models
            .iter()
            .map(|m| (&m.id, model_figures(m), &m.name));
        let mut d = Document::new();
        d.blank().heading(lang.pick("Hardware", "硬件"));
        d.table(catalog_table(lang, &HARDWARE_FIGURES, hardware));
        d.blank().heading(lang.pick("Models", "模型"));
        d.table(catalog_table(lang, &MODEL_FIGURES, models)).blank();
        d.line(lang.pick(
            "Sources for every figure: crates/plan/data/*.toml (`--format json` prints them).",
            "每个数字的来源见 crates/plan/data/*.toml（`--format json` 会输出）。",
        ));
        d
    }
}

/// A catalog table: each entry's id, its figures (right-aligned, headed
/// `figures`) and its full name.
fn catalog_table<'a>(
    lang: Lang,
    figures: &[Words],
    entries: impl Iterator<Item = (&'a String, Vec<String>, &'a String)>,
) -> Table {
    let mut columns = vec![(("id", "id"), Align::Left)];
    columns.extend(figures.iter().map(|f| (*f, Align::Right)));
    columns.push((words::NAME, Align::Left));
    let mut t = table(lang, &columns);
    for (id, figures, name) in entries {
        let mut row = vec![id.clone()];
        row.extend(figures);
        row.push(name.clone());
        t.row(row);
    }
    t
}
