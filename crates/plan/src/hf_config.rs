//! A model's shape from a Hugging Face `config.json`: dense, grouped-query,
//! mixture-of-experts (Qwen-MoE, Mixtral, DeepSeek) and MLA attention.
//!
//! The parameter count is computed from the shapes: embeddings (twice when
//! the output head is not tied), attention projections, MLP or experts
//! (with shared experts and the router), ignoring norms and biases (below
//! 0.1 %).

use crate::error::PlanError;
use crate::model::{Model, KV_BYTES_PER_ELEMENT};
use crate::quant::Quant;
use serde::Deserialize;

/// The fields of `config.json` that set the shape. Other fields are ignored.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct ConfigJson {
    /// Hidden size.
    pub hidden_size: u64,
    /// Layers.
    pub num_hidden_layers: u64,
    /// Query heads.
    pub num_attention_heads: u64,
    /// KV heads (defaults to the query heads).
    #[serde(default)]
    pub num_key_value_heads: Option<u64>,
    /// Head dimension (defaults to hidden ÷ heads).
    #[serde(default)]
    pub head_dim: Option<u64>,
    /// Vocabulary.
    pub vocab_size: u64,
    /// Dense MLP width (and Mixtral's expert width).
    #[serde(default)]
    pub intermediate_size: Option<u64>,
    /// Whether the output head shares the embedding matrix.
    #[serde(default)]
    pub tie_word_embeddings: Option<bool>,
    /// Routed experts (Qwen-MoE).
    #[serde(default)]
    pub num_experts: Option<u64>,
    /// Routed experts (DeepSeek).
    #[serde(default)]
    pub n_routed_experts: Option<u64>,
    /// Routed experts (Mixtral).
    #[serde(default)]
    pub num_local_experts: Option<u64>,
    /// Experts per token.
    #[serde(default)]
    pub num_experts_per_tok: Option<u64>,
    /// Expert MLP width.
    #[serde(default)]
    pub moe_intermediate_size: Option<u64>,
    /// Shared experts (DeepSeek), each `moe_intermediate_size` wide.
    #[serde(default)]
    pub n_shared_experts: Option<u64>,
    /// Shared expert width (Qwen2-MoE).
    #[serde(default)]
    pub shared_expert_intermediate_size: Option<u64>,
    /// Leading dense layers of an MoE model (DeepSeek).
    #[serde(default)]
    pub first_k_dense_replace: Option<u64>,
    /// MLA: query low-rank dimension.
    #[serde(default)]
    pub q_lora_rank: Option<u64>,
    /// MLA: compressed KV dimension (what is cached).
    #[serde(default)]
    pub kv_lora_rank: Option<u64>,
    /// MLA: rotary part of a query/key head.
    #[serde(default)]
    pub qk_rope_head_dim: Option<u64>,
    /// MLA: non-rotary part of a query/key head.
    #[serde(default)]
    pub qk_nope_head_dim: Option<u64>,
    /// MLA: value head dimension.
    #[serde(default)]
    pub v_head_dim: Option<u64>,
    /// The architecture (`qwen2`, `llama`), which names the tokenizer family.
    #[serde(default)]
    pub model_type: Option<String>,
    /// How the checkpoint is quantised, when it is.
    #[serde(default)]
    pub quantization_config: Option<QuantizationConfig>,
}

/// The part of `config.json`'s `quantization_config` that names the weight
/// format.
#[derive(Debug, Clone, Default, Deserialize)]
pub struct QuantizationConfig {
    /// `mxfp4` (gpt-oss), `fp8` (DeepSeek-V3), …
    #[serde(default)]
    pub quant_method: Option<String>,
}

impl ConfigJson {
    /// The checkpoint's weight format, when `quantization_config` names one
    /// tokenpace knows (FP16 otherwise).
    fn weights(&self) -> Quant {
        let method = self.quantization_config.as_ref();
        match method.and_then(|q| q.quant_method.as_deref()) {
            Some("mxfp4") => Quant::Mxfp4,
            Some("fp8") => Quant::Fp8,
            _ => Quant::Fp16,
        }
    }
}

/// Reads a `config.json` into a [`Model`] named `id`.
pub fn model_from_config_json(id: &str, text: &str) -> Result<Model, PlanError> {
    let c: ConfigJson = serde_json::from_str(text).map_err(|e| {
        PlanError::Syntax(format!(
            "not a Hugging Face config.json with the fields tokenpace needs (hidden_size, num_hidden_layers, num_attention_heads, vocab_size): {e}"
        ))
    })?;
    let mut m = model_from_config(id, &c, "config.json")?;
    if let Some((family, how)) = c
        .model_type
        .as_deref()
        .and_then(|t| crate::chars_per_token::family_of_model_type(t, c.vocab_size))
    {
        m.tokenizer = Some(family.to_string());
        m.tokenizer_from = Some(how);
    }
    Ok(m)
}

/// Builds a [`Model`] from the shape fields; `source` says where they came
/// from.
pub fn model_from_config(id: &str, c: &ConfigJson, source: &str) -> Result<Model, PlanError> {
    if c.hidden_size == 0
        || c.num_hidden_layers == 0
        || c.num_attention_heads == 0
        || c.vocab_size == 0
    {
        return Err(PlanError::Syntax(
            "hidden_size, num_hidden_layers, num_attention_heads and vocab_size must all be > 0"
                .into(),
        ));
    }
    let hidden = f(c.hidden_size);
    let kv_heads = c
        .num_key_value_heads
        .unwrap_or(c.num_attention_heads)
        .max(1);
    let head_dim = c
        .head_dim
        .unwrap_or(c.hidden_size / c.num_attention_heads)
        .max(1);
    let attention = Attention::of(c, kv_heads, head_dim);
    let experts = c
        .num_experts
        .or(c.n_routed_experts)
        .or(c.num_local_experts)
        .filter(|&e| e > 1);
    let mlp = Mlp::of(c, experts);
    let layers = f(c.num_hidden_layers);
    let tied = c.tie_word_embeddings.unwrap_or(false);
    let emb = f(c.vocab_size) * hidden * if tied { 1.0 } else { 2.0 };
    let total = emb + layers * attention.params + mlp.total;
    let active = emb + layers * attention.params + mlp.active;
    let to_u32 = |v: u64, name: &str| {
        u32::try_from(v)
            .map_err(|_| PlanError::Syntax(format!("{name} ({v}) is implausibly large")))
    };
    let model = Model {
        id: id.to_string(),
        name: id.to_string(),
        params_b: total / 1e9,
        active_params_b: mlp.routed.then_some(active / 1e9),
        layers: to_u32(c.num_hidden_layers, "num_hidden_layers")?,
        hidden: to_u32(c.hidden_size, "hidden_size")?,
        heads: to_u32(c.num_attention_heads, "num_attention_heads")?,
        kv_heads: to_u32(
            if attention.kv_bytes_per_token.is_some() {
                c.num_attention_heads
            } else {
                kv_heads
            },
            "num_key_value_heads",
        )?,
        head_dim: to_u32(attention.head_dim, "head_dim")?,
        vocab: to_u32(c.vocab_size, "vocab_size")?,
        kv_bytes_per_token: attention.kv_bytes_per_token,
        weights: c.weights(),
        // MXFP4 checkpoints (gpt-oss) quantise only the routed experts.
        unquantised_params_b: (c.weights() == Quant::Mxfp4 && mlp.routed)
            .then(|| (total - mlp.routed_experts) / 1e9),
        weight_bits: None,
        experts: experts.map(|e| to_u32(e, "experts")).transpose()?,
        experts_per_token: experts
            .and(c.num_experts_per_tok)
            .map(|k| to_u32(k, "num_experts_per_tok"))
            .transpose()?,
        tokenizer: None,
        tokenizer_from: None,
        source: format!("{source} (parameters computed from the shapes)"),
    };
    model.validate()?;
    Ok(model)
}

/// A shape field as a number to compute with.
fn f(v: u64) -> f64 {
    v as f64
}

/// One layer's attention: its parameters, the KV bytes per token when MLA
/// caches a compressed KV (`None`: the heads' keys and values), and the
/// head dimension attention FLOPs use.
struct Attention {
    params: f64,
    kv_bytes_per_token: Option<f64>,
    head_dim: u64,
}

impl Attention {
    /// MLA when the config has a compressed KV and a rotary part, else
    /// grouped-query attention with `kv_heads` heads of `head_dim`.
    fn of(c: &ConfigJson, kv_heads: u64, head_dim: u64) -> Attention {
        let hidden = f(c.hidden_size);
        let heads = f(c.num_attention_heads);
        match (c.kv_lora_rank, c.qk_rope_head_dim) {
            (Some(kv_lora), Some(rope)) => {
                let nope = f(c.qk_nope_head_dim.unwrap_or(head_dim));
                let v = f(c.v_head_dim.unwrap_or(head_dim));
                let (kv_lora, rope) = (f(kv_lora), f(rope));
                let q = match c.q_lora_rank {
                    Some(r) => hidden * f(r) + f(r) * heads * (nope + rope),
                    None => hidden * heads * (nope + rope),
                };
                let kv = hidden * (kv_lora + rope) + kv_lora * heads * (nope + v);
                let o = heads * v * hidden;
                let bytes = f(c.num_hidden_layers) * (kv_lora + rope) * KV_BYTES_PER_ELEMENT;
                Attention {
                    params: q + kv + o,
                    kv_bytes_per_token: Some(bytes),
                    head_dim: (nope + rope) as u64,
                }
            }
            _ => {
                let hd = f(head_dim);
                Attention {
                    params: 2.0 * hidden * heads * hd + 2.0 * hidden * f(kv_heads) * hd,
                    kv_bytes_per_token: None,
                    head_dim,
                }
            }
        }
    }
}

/// The MLP parameters of all layers: in all, and those a token passes
/// through (fewer when its experts are routed).
struct Mlp {
    total: f64,
    active: f64,
    /// Whether tokens are routed to experts.
    routed: bool,
    /// Parameters of the routed experts.
    routed_experts: f64,
}

impl Mlp {
    /// Dense MLPs, or `experts` routed ones (with shared experts, the
    /// router, and leading dense layers).
    fn of(c: &ConfigJson, experts: Option<u64>) -> Mlp {
        let hidden = f(c.hidden_size);
        let dense_mlp = 3.0 * hidden * f(c.intermediate_size.unwrap_or(4 * c.hidden_size));
        let layers = f(c.num_hidden_layers);
        let Some(e) = experts else {
            return Mlp {
                total: layers * dense_mlp,
                active: layers * dense_mlp,
                routed: false,
                routed_experts: 0.0,
            };
        };
        let k = f(c.num_experts_per_tok.unwrap_or(2));
        let width = f(c
            .moe_intermediate_size
            .or(c.intermediate_size)
            .unwrap_or(c.hidden_size));
        let expert = 3.0 * hidden * width;
        let shared = match (c.n_shared_experts, c.shared_expert_intermediate_size) {
            (Some(n), _) => f(n) * expert,
            (None, Some(w)) => 3.0 * hidden * f(w),
            _ => 0.0,
        };
        let router = hidden * f(e);
        let dense_layers = f(c
            .first_k_dense_replace
            .unwrap_or(0)
            .min(c.num_hidden_layers));
        let moe_layers = layers - dense_layers;
        Mlp {
            total: dense_layers * dense_mlp + moe_layers * (f(e) * expert + shared + router),
            active: dense_layers * dense_mlp + moe_layers * (k * expert + shared + router),
            routed: true,
            routed_experts: moe_layers * f(e) * expert,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::kv_cache::KvCache;

    const QWEN25_7B: &str = r#"{
      "architectures": ["Qwen2ForCausalLM"], "hidden_size": 3584, "intermediate_size": 18944,
      "num_attention_heads": 28, "num_hidden_layers": 28, "num_key_value_heads": 4,
      "vocab_size": 152064, "tie_word_embeddings": false, "torch_dtype": "bfloat16"
    }"#;

    const QWEN3_30B_A3B: &str = r#"{
      "hidden_size": 2048, "head_dim": 128, "intermediate_size": 6144, "moe_intermediate_size": 768,
      "num_attention_heads": 32, "num_hidden_layers": 48, "num_key_value_heads": 4,
      "num_experts": 128, "num_experts_per_tok": 8, "vocab_size": 151936, "tie_word_embeddings": false
    }"#;

    const DEEPSEEK_V3: &str = r#"{
      "hidden_size": 7168, "intermediate_size": 18432, "moe_intermediate_size": 2048,
      "num_attention_heads": 128, "num_hidden_layers": 61, "num_key_value_heads": 128,
      "n_routed_experts": 256, "n_shared_experts": 1, "num_experts_per_tok": 8,
      "first_k_dense_replace": 3, "q_lora_rank": 1536, "kv_lora_rank": 512,
      "qk_rope_head_dim": 64, "qk_nope_head_dim": 128, "v_head_dim": 128,
      "vocab_size": 129280, "tie_word_embeddings": false
    }"#;

    fn close(a: f64, b: f64, tol: f64) -> bool {
        (a / b - 1.0).abs() < tol
    }

    #[test]
    fn dense_config_matches_the_catalog() {
        let m = model_from_config_json("qwen", QWEN25_7B).unwrap();
        let cat = Catalog::builtin();
        let c = cat.model("qwen2.5-7b").unwrap();
        assert!(close(m.params_b, c.params_b, 0.01), "{}", m.params_b);
        assert_eq!((m.layers, m.kv_heads, m.head_dim), (28, 4, 128));
        assert_eq!(
            m.kv_bytes_per_token(KvCache::Fp16),
            c.kv_bytes_per_token(KvCache::Fp16)
        );
        assert_eq!(m.active_params_b, None);
    }

    #[test]
    fn moe_config_counts_total_and_active() {
        let m = model_from_config_json("q3", QWEN3_30B_A3B).unwrap();
        assert!(close(m.params_b, 30.5, 0.02), "{}", m.params_b);
        assert!(
            close(m.active_params_b.unwrap(), 3.3, 0.03),
            "{:?}",
            m.active_params_b
        );
        assert_eq!((m.experts, m.experts_per_token), (Some(128), Some(8)));
    }

    #[test]
    fn mla_config_caches_the_latent() {
        let m = model_from_config_json("dsv3", DEEPSEEK_V3).unwrap();
        assert!(close(m.params_b, 671.0, 0.01), "{}", m.params_b);
        assert!(
            close(m.active_params_b.unwrap(), 37.0, 0.03),
            "{:?}",
            m.active_params_b
        );
        assert_eq!(m.kv_bytes_per_token(KvCache::Fp16), 70272.0);
        assert_eq!(m.head_dim, 192);
    }

    #[test]
    fn bad_configs_say_what_is_missing() {
        let err = model_from_config_json("x", "{\"hidden_size\": 10}")
            .unwrap_err()
            .to_string();
        assert!(err.contains("num_hidden_layers"), "{err}");
        assert!(model_from_config_json("x", "not json").is_err());
        let zero = QWEN25_7B.replace("\"num_hidden_layers\": 28", "\"num_hidden_layers\": 0");
        assert!(model_from_config_json("x", &zero).is_err());
    }

    #[test]
    fn a_quantised_checkpoint_names_its_format_and_what_stays_16_bit() {
        // openai/gpt-oss-120b's config.json (the fields that set the shape).
        let gpt_oss = r#"{"model_type": "gpt_oss", "hidden_size": 2880, "intermediate_size": 2880,
          "num_attention_heads": 64, "num_hidden_layers": 36, "num_key_value_heads": 8,
          "head_dim": 64, "num_local_experts": 128, "num_experts_per_tok": 4,
          "vocab_size": 201088, "tie_word_embeddings": false,
          "quantization_config": {"quant_method": "mxfp4", "modules_to_not_convert": ["model.layers.*.self_attn"]}}"#;
        let m = model_from_config_json("gpt-oss-120b", gpt_oss).unwrap();
        assert_eq!(m.weights, Quant::Mxfp4);
        let catalog = Catalog::builtin();
        let entry = catalog.model("gpt-oss-120b").unwrap();
        // Within 2 % of the catalog entry's bytes (the config count skips biases).
        let ratio = m.weight_bytes(Quant::Mxfp4) / entry.weight_bytes(Quant::Mxfp4);
        assert!((ratio - 1.0).abs() < 0.02, "{ratio}");
        assert!(close(m.unquantised_params_b.unwrap(), 2.1, 0.1));
        let fp8 = QWEN25_7B.replacen(
            '{',
            r#"{"quantization_config": {"quant_method": "fp8"},"#,
            1,
        );
        let q = model_from_config_json("q", &fp8).unwrap();
        assert_eq!((q.weights, q.unquantised_params_b), (Quant::Fp8, None));
        assert_eq!(
            model_from_config_json("q", QWEN25_7B).unwrap().weights,
            Quant::Fp16
        );
    }
}
