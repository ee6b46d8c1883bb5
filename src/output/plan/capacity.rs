//! `tokenpace plan capacity`'s result: the predicted tier-A capacity.

use super::{arrivals_line, load, ratio_line};
use serde::Serialize;
use tokenpace_plan::capacity::{BatchingLaw, CapacityLimit, PredictedCapacity};
use tokenpace_plan::kv_cache::KvCache;
use tokenpace_plan::quant::Quant;
use tokenpace_plan::roofline::Traffic;
use tokenpace_present::{number, Document, Lang, Output};

/// What the prediction is drawn from.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
#[schemars(rename = "Model")]
pub enum PredictionBasis {
    /// The roofline of a model on devices.
    Roofline {
        /// The model id.
        model: String,
        /// The hardware id.
        hardware: String,
        /// The weights.
        quant: Quant,
        /// The KV cache's format.
        kv_cache: KvCache,
        /// Devices.
        devices: u32,
    },
    /// The simulator's batching law.
    Law(BatchingLaw),
}

/// The predicted capacity and what it assumes.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[schemars(rename = "CapacityOutput")]
pub struct PredictedCapacityOutput {
    /// The prediction.
    pub capacity: PredictedCapacity,
    /// What it is drawn from.
    pub model: PredictionBasis,
    /// The workload (its concurrency is the one searched).
    pub workload: Traffic,
}

impl Output for PredictedCapacityOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        d.title(match &self.model {
            PredictionBasis::Roofline { model, hardware, quant, kv_cache, devices } => {
                let kv = super::kv_cache_words(*kv_cache, lang);
                match lang {
                    Lang::En => format!("capacity of {model} on {devices} × {hardware}, {quant} weights{kv} (roofline)"),
                    Lang::Zh => format!("{model} 在 {devices} × {hardware} 上的容量，{quant} 权重{kv}（屋顶线模型）"),
                }
            }
            PredictionBasis::Law(l) => match lang {
                Lang::En => format!(
                    "capacity under the batching law: decode {} / (1 + {} (c − 1)), TTFT {:.0} ms + prompt / {:.0} tok/s, batch ≤ {}",
                    l.decode_tok_s, l.slowdown, l.fixed_ttft_s * 1000.0, l.prefill_tok_s, l.max_batch
                ),
                Lang::Zh => format!(
                    "批处理规律下的容量：解码 {} / (1 + {} (c − 1))，TTFT {:.0} ms + 提示 / {:.0} tok/s，批 ≤ {}",
                    l.decode_tok_s, l.slowdown, l.fixed_ttft_s * 1000.0, l.prefill_tok_s, l.max_batch
                ),
            },
        });
        let w = &self.workload;
        d.item(load(lang, w));
        if matches!(self.model, PredictionBasis::Roofline { .. }) {
            d.item(arrivals_line(lang, w, true));
        }
        d.item(ratio_line(
            lang,
            w.chars_per_token,
            &w.chars_per_token_source,
        ));
        let c = &self.capacity;
        let limit = match (c.limit, lang) {
            (CapacityLimit::Metric(m), Lang::En) => format!("{} leaves tier A", lang.metric(m)),
            (CapacityLimit::Metric(m), Lang::Zh) => format!("{}离开 A 级", lang.metric(m)),
            (CapacityLimit::MemoryCapacity, _) => lang
                .pick(
                    "no more KV-cache contexts fit in memory",
                    "显存放不下更多 KV 缓存上下文",
                )
                .into(),
            (CapacityLimit::BatchFull, _) => lang
                .pick(
                    "the batch is full; more requests queue",
                    "批已满，更多请求排队",
                )
                .into(),
            (CapacityLimit::SearchEnd, _) => lang
                .pick("the search's end (4096)", "搜索上限（4096）")
                .into(),
        };
        d.blank().line(match lang {
            Lang::En => format!(
                "tier A up to {} concurrent streams; next: {limit}",
                c.tier_a_max_concurrency
            ),
            Lang::Zh => format!(
                "最多 {} 个并发流保持 A 级；再多：{limit}",
                c.tier_a_max_concurrency
            ),
        });
        for (m, v) in &c.at_max {
            d.item(format!(
                "{}: {}",
                lang.metric(*m),
                number::with_unit(*m, *v)
            ));
        }
        d
    }
}
