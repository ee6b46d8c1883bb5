//! A model's shape: what sets its compute per token, the bytes its weights
//! occupy and the size of its KV cache.

use crate::chars_per_token::{ModelFamily, RatioOrigin};
use crate::error::{positive, PlanError};
use crate::kv_cache::KvCache;
use crate::quant::Quant;
use serde::{Deserialize, Serialize};
use tokenpace_core::tokenizer_family::{family, family_ids};

/// Bytes per KV-cache element at FP16/BF16, the size `kv_bytes_per_token`
/// overrides are given in.
pub const KV_BYTES_PER_ELEMENT: f64 = 2.0;

/// One model as the catalog (or a `config.json`) describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Model {
    /// Short id used on the command line (`qwen2.5-7b`).
    pub id: String,
    /// Full name.
    pub name: String,
    /// Total parameters, 10^9.
    pub params_b: f64,
    /// Parameters used per token, 10^9 (mixture-of-experts models); `None`
    /// for dense models, where every parameter is used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub active_params_b: Option<f64>,
    /// Transformer layers.
    pub layers: u32,
    /// Hidden size.
    pub hidden: u32,
    /// Attention (query) heads.
    pub heads: u32,
    /// Key/value heads (fewer than `heads` with grouped-query attention).
    pub kv_heads: u32,
    /// Dimension of one head.
    pub head_dim: u32,
    /// Vocabulary size.
    pub vocab: u32,
    /// The format the model's own checkpoint stores its weights in (the
    /// planner's default for it): `fp16` (also BF16) when omitted.
    #[serde(default)]
    pub weights: Quant,
    /// Parameters the checkpoint keeps at 16 bits whatever the format of
    /// the rest (embeddings, attention, router: gpt-oss quantises only its
    /// experts), 10^9; none when omitted.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unquantised_params_b: Option<f64>,
    /// KV-cache bytes per token, overriding 2 × layers × kv_heads ×
    /// head_dim × 2 bytes (for MLA, which caches a compressed latent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub kv_bytes_per_token: Option<f64>,
    /// Routed experts (MoE), for reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts: Option<u32>,
    /// Experts activated per token (MoE), for reference.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub experts_per_token: Option<u32>,
    /// The tokenizer family (`qwen`, `llama3`, …; see
    /// `tokenpace_core::tokenizer_family`), for characters per token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
    /// How a model file's tokenizer family was identified (not in
    /// catalogs: there the entry itself is the evidence).
    #[serde(skip)]
    pub tokenizer_from: Option<String>,
    /// Bits per stored weight when known (a benchmarked file's size ÷ its
    /// parameters: llama.cpp's Q4_K_M keeps some tensors wider and stores
    /// ~4.9), instead of the quantisation's nominal width; not in catalogs.
    #[serde(skip)]
    pub weight_bits: Option<f64>,
    /// Where the figures come from.
    pub source: String,
}

impl Model {
    /// Total parameters.
    pub fn params(&self) -> f64 {
        self.params_b * 1e9
    }

    /// Parameters used per token (all of them for a dense model).
    pub fn active_params(&self) -> f64 {
        self.active_params_b
            .unwrap_or(self.params_b)
            .min(self.params_b)
            * 1e9
    }

    /// Bytes of all weights stored as `quant`, the parameters kept at 16
    /// bits counted at 2 bytes (at [`Model::weight_bits`] when known).
    pub fn weight_bytes(&self, quant: Quant) -> f64 {
        if let Some(bits) = self.weight_bits {
            return self.params() * bits / 8.0;
        }
        let kept = (self.unquantised_params_b.unwrap_or(0.0) * 1e9).min(self.params());
        (self.params() - kept) * quant.bytes_per_weight() + kept * Quant::Fp16.bytes_per_weight()
    }

    /// KV-cache bytes per token stored as `kv`: the override (given at
    /// FP16), or 2 (K and V) × layers × KV heads × head dimension × bytes
    /// per element.
    pub fn kv_bytes_per_token(&self, kv: KvCache) -> f64 {
        let fp16 = self.kv_bytes_per_token.unwrap_or_else(|| {
            2.0 * f64::from(self.layers)
                * f64::from(self.kv_heads)
                * f64::from(self.head_dim)
                * KV_BYTES_PER_ELEMENT
        });
        fp16 * kv.bytes_per_element() / KV_BYTES_PER_ELEMENT
    }

    /// Attention FLOPs per token per token of context it attends to: QKᵀ
    /// and the weighted sum of V, 2 FLOP per multiply-add, over every layer
    /// and query head: 4 × layers × heads × head_dim.
    pub fn attention_flops_per_context_token(&self) -> f64 {
        4.0 * f64::from(self.layers) * f64::from(self.heads) * f64::from(self.head_dim)
    }

    /// The model's tokenizer family, if known, and how it was identified.
    pub fn tokenizer_family(&self) -> Option<ModelFamily> {
        let family = self.tokenizer.clone()?;
        Some(match &self.tokenizer_from {
            Some(how) => ModelFamily {
                family,
                origin: RatioOrigin::ModelFile,
                how: format!("model file {how}"),
            },
            None => ModelFamily {
                family,
                origin: RatioOrigin::Catalog,
                how: format!("catalog entry {}", self.id),
            },
        })
    }

    /// Checks the figures.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.id.trim().is_empty() || self.source.trim().is_empty() {
            return Err(PlanError::Syntax(format!(
                "model '{}': id and source must not be empty (every figure needs a source)",
                self.id
            )));
        }
        let name = |field: &str| format!("model '{}': {field}", self.id);
        positive(name("params_b"), self.params_b)?;
        if let Some(a) = self.active_params_b {
            positive(name("active_params_b"), a)?;
            if a > self.params_b {
                return Err(PlanError::Syntax(format!(
                    "model '{}': active_params_b ({a}) exceeds params_b ({})",
                    self.id, self.params_b
                )));
            }
        }
        for (field, v) in [
            ("layers", self.layers),
            ("hidden", self.hidden),
            ("heads", self.heads),
            ("kv_heads", self.kv_heads),
            ("head_dim", self.head_dim),
            ("vocab", self.vocab),
        ] {
            positive(name(field), f64::from(v))?;
        }
        if let Some(kv) = self.kv_bytes_per_token {
            positive(name("kv_bytes_per_token"), kv)?;
        }
        if let Some(kept) = self.unquantised_params_b {
            positive(name("unquantised_params_b"), kept)?;
            if kept > self.params_b {
                return Err(PlanError::Syntax(format!(
                    "model '{}': unquantised_params_b ({kept}) exceeds params_b ({})",
                    self.id, self.params_b
                )));
            }
        }
        if let Some(t) = &self.tokenizer {
            if family(t).is_none() {
                return Err(PlanError::Syntax(format!(
                    "model '{}': unknown tokenizer '{t}': use one of {} (or leave it out)",
                    self.id,
                    family_ids()
                )));
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::kv_cache::KvCache;
    use crate::quant::Quant;

    #[test]
    fn kv_cache_per_token_follows_the_formula() {
        let c = Catalog::builtin();
        // Qwen2.5-7B: 2 × 28 layers × 4 KV heads × 128 × 2 bytes.
        assert_eq!(
            c.model("qwen2.5-7b")
                .unwrap()
                .kv_bytes_per_token(KvCache::Fp16),
            57344.0
        );
        // Llama-3.1-8B: 2 × 32 × 8 × 128 × 2 = 128 KiB.
        assert_eq!(
            c.model("llama-3.1-8b")
                .unwrap()
                .kv_bytes_per_token(KvCache::Fp16),
            131072.0
        );
        // DeepSeek-V3's MLA override: 61 × (512 + 64) × 2.
        assert_eq!(
            c.model("deepseek-v3")
                .unwrap()
                .kv_bytes_per_token(KvCache::Fp16),
            70272.0
        );
    }

    #[test]
    fn weights_shrink_with_quantisation_and_moe_uses_active_params() {
        let c = Catalog::builtin();
        let q = c.model("qwen2.5-7b").unwrap();
        assert!((q.weight_bytes(Quant::Fp16) / 1e9 - 15.24).abs() < 0.01);
        assert!((q.weight_bytes(Quant::Int4) / 1e9 - 4.29).abs() < 0.01);
        let moe = c.model("qwen3-30b-a3b").unwrap();
        assert_eq!(moe.active_params(), 3.3e9);
        assert_eq!(q.active_params(), q.params());
    }

    #[test]
    fn fp8_kv_cache_halves_bytes_per_token_overrides_included() {
        let c = Catalog::builtin();
        for id in ["qwen2.5-7b", "deepseek-v3", "gpt-oss-120b"] {
            let m = c.model(id).unwrap();
            assert_eq!(
                m.kv_bytes_per_token(KvCache::Fp8) * 2.0,
                m.kv_bytes_per_token(KvCache::Fp16),
                "{id}"
            );
        }
    }

    #[test]
    fn gpt_oss_defaults_to_mxfp4_experts_with_the_rest_at_16_bits() {
        let c = Catalog::builtin();
        let m = c.model("gpt-oss-120b").unwrap();
        assert_eq!(m.weights, Quant::Mxfp4);
        let kept = m.unquantised_params_b.unwrap() * 1e9;
        let expected = (m.params() - kept) * 4.25 / 8.0 + kept * 2.0;
        assert_eq!(m.weight_bytes(Quant::Mxfp4), expected);
        // The model card's checkpoint, 60.8 GiB, within 1 %.
        let card = 60.8 * 1024f64.powi(3);
        assert!((m.weight_bytes(Quant::Mxfp4) / card - 1.0).abs() < 0.01);
        // All 16-bit: twice the parameters in bytes.
        assert_eq!(m.weight_bytes(Quant::Fp16), m.params() * 2.0);
        assert_eq!(c.model("qwen2.5-7b").unwrap().weights, Quant::Fp16);
        assert_eq!(c.model("deepseek-v3").unwrap().weights, Quant::Fp8);
    }
}
