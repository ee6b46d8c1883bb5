//! A model's shape from a GGUF file's metadata header (read by
//! [`tokenpace_core::gguf`]). The architecture's keys (`{arch}.block_count`, `{arch}.embedding_length`,
//! `{arch}.attention.head_count`, …) give the shape, and the parameter count
//! is computed from it as for a `config.json`.

use crate::error::PlanError;
use crate::hf_config::{model_from_config, ConfigJson};
use crate::model::Model;
use std::collections::BTreeMap;
pub use tokenpace_core::gguf::{read_metadata, GgufError, Value};

fn err(msg: impl Into<String>) -> PlanError {
    PlanError::Syntax(format!("not a readable GGUF header: {}", msg.into()))
}

impl From<GgufError> for PlanError {
    fn from(e: GgufError) -> PlanError {
        PlanError::Syntax(e.to_string())
    }
}

/// The model described by a GGUF header's metadata, named `id`.
pub fn model_from_metadata(id: &str, kv: &BTreeMap<String, Value>) -> Result<Model, PlanError> {
    let arch = match kv.get("general.architecture") {
        Some(Value::Str(a)) => a.clone(),
        _ => return Err(err("no general.architecture key")),
    };
    let get = |k: &str| kv.get(&format!("{arch}.{k}")).and_then(Value::as_u64);
    let need = |k: &str| {
        get(k).ok_or_else(|| {
            err(format!(
                "no {arch}.{k} key (tokenpace needs it for the model's shape)"
            ))
        })
    };
    let vocab = get("vocab_size").or_else(|| match kv.get("tokenizer.ggml.tokens") {
        Some(Value::Array { len, .. }) => Some(*len),
        _ => None,
    });
    let experts = get("expert_count").filter(|&e| e > 1);
    let mla_rope = get("rope.dimension_count").filter(|_| get("attention.kv_lora_rank").is_some());
    let c = ConfigJson {
        hidden_size: need("embedding_length")?,
        num_hidden_layers: need("block_count")?,
        num_attention_heads: need("attention.head_count")?,
        num_key_value_heads: get("attention.head_count_kv"),
        head_dim: get("attention.key_length"),
        vocab_size: vocab.ok_or_else(|| {
            err(format!(
                "no {arch}.vocab_size key or tokenizer.ggml.tokens array"
            ))
        })?,
        intermediate_size: get("feed_forward_length"),
        tie_word_embeddings: None,
        num_experts: experts,
        num_experts_per_tok: experts.and(get("expert_used_count")),
        moe_intermediate_size: experts.and(get("expert_feed_forward_length")),
        n_shared_experts: experts.and(get("expert_shared_count")),
        first_k_dense_replace: experts.and(get("leading_dense_block_count")),
        q_lora_rank: get("attention.q_lora_rank"),
        kv_lora_rank: get("attention.kv_lora_rank"),
        qk_rope_head_dim: mla_rope,
        // GGUF's key length is the whole query/key head (non-rotary + rotary).
        qk_nope_head_dim: mla_rope
            .and_then(|r| get("attention.key_length").map(|k| k.saturating_sub(r)))
            .filter(|&n| n > 0),
        v_head_dim: mla_rope.and(get("attention.value_length")),
        ..ConfigJson::default()
    };
    let mut m = model_from_config(id, &c, &format!("GGUF header ({arch})"))?;
    if let Some(Value::Str(name)) = kv.get("general.name") {
        m.name = name.clone();
    }
    let text = |k: &str| match kv.get(k) {
        Some(Value::Str(s)) => Some(s.as_str()),
        _ => None,
    };
    if let Some((family, how)) = crate::chars_per_token::family_of_gguf(
        text("tokenizer.ggml.pre"),
        text("tokenizer.ggml.model"),
        u64::from(m.vocab),
        &arch,
    ) {
        m.tokenizer = Some(family.to_string());
        m.tokenizer_from = Some(how);
    }
    Ok(m)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    fn string(out: &mut Vec<u8>, s: &str) {
        out.extend((s.len() as u64).to_le_bytes());
        out.extend(s.as_bytes());
    }

    fn kv_u32(out: &mut Vec<u8>, k: &str, v: u32) {
        string(out, k);
        out.extend(4u32.to_le_bytes());
        out.extend(v.to_le_bytes());
    }

    /// A header like llama.cpp writes for Llama-3.1-8B, with a short
    /// tokenizer array standing in for the real one.
    pub(crate) fn llama_header() -> Vec<u8> {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(291u64.to_le_bytes());
        b.extend(10u64.to_le_bytes());
        string(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        string(&mut b, "llama");
        string(&mut b, "general.name");
        b.extend(8u32.to_le_bytes());
        string(&mut b, "Meta Llama 3.1 8B Instruct");
        kv_u32(&mut b, "llama.block_count", 32);
        kv_u32(&mut b, "llama.embedding_length", 4096);
        kv_u32(&mut b, "llama.feed_forward_length", 14336);
        kv_u32(&mut b, "llama.attention.head_count", 32);
        kv_u32(&mut b, "llama.attention.head_count_kv", 8);
        kv_u32(&mut b, "llama.vocab_size", 128256);
        string(&mut b, "general.file_type");
        b.extend(4u32.to_le_bytes());
        b.extend(2u32.to_le_bytes());
        string(&mut b, "tokenizer.ggml.tokens");
        b.extend(9u32.to_le_bytes());
        b.extend(8u32.to_le_bytes());
        b.extend(2u64.to_le_bytes());
        string(&mut b, "<s>");
        string(&mut b, "</s>");
        b
    }

    #[test]
    fn reads_a_llama_header() {
        let kv = read_metadata(&llama_header()[..]).unwrap();
        assert_eq!(
            kv["tokenizer.ggml.tokens"],
            Value::Array {
                element_type: 8,
                len: 2
            }
        );
        let m = model_from_metadata("llama-gguf", &kv).unwrap();
        assert_eq!(m.name, "Meta Llama 3.1 8B Instruct");
        assert!((m.params_b - 8.03).abs() < 0.05, "{}", m.params_b);
        assert_eq!(
            m.kv_bytes_per_token(crate::kv_cache::KvCache::Fp16),
            131072.0
        );
    }

    #[test]
    fn truncated_and_foreign_files_are_errors() {
        let h = llama_header();
        for cut in [0, 3, 10, 30, h.len() - 1] {
            let e = read_metadata(&h[..cut]).unwrap_err().to_string();
            assert!(e.contains("GGUF"), "{e}");
        }
        assert!(read_metadata(&b"PK\x03\x04rest"[..])
            .unwrap_err()
            .to_string()
            .contains("'GGUF'"));
        let mut v1 = h.clone();
        v1[4] = 1;
        assert!(read_metadata(&v1[..])
            .unwrap_err()
            .to_string()
            .contains("version 1"));
    }

    #[test]
    fn reads_a_deepseek2_mla_header() {
        let mut b = b"GGUF".to_vec();
        b.extend(3u32.to_le_bytes());
        b.extend(0u64.to_le_bytes());
        let keys: &[(&str, u32)] = &[
            ("deepseek2.block_count", 61),
            ("deepseek2.embedding_length", 7168),
            ("deepseek2.feed_forward_length", 18432),
            ("deepseek2.attention.head_count", 128),
            ("deepseek2.attention.head_count_kv", 128),
            ("deepseek2.attention.key_length", 192),
            ("deepseek2.attention.value_length", 128),
            ("deepseek2.attention.q_lora_rank", 1536),
            ("deepseek2.attention.kv_lora_rank", 512),
            ("deepseek2.rope.dimension_count", 64),
            ("deepseek2.expert_count", 256),
            ("deepseek2.expert_used_count", 8),
            ("deepseek2.expert_shared_count", 1),
            ("deepseek2.expert_feed_forward_length", 2048),
            ("deepseek2.leading_dense_block_count", 3),
            ("deepseek2.vocab_size", 129280),
        ];
        b.extend((keys.len() as u64 + 1).to_le_bytes());
        string(&mut b, "general.architecture");
        b.extend(8u32.to_le_bytes());
        string(&mut b, "deepseek2");
        for (k, v) in keys {
            kv_u32(&mut b, k, *v);
        }
        let m = model_from_metadata("dsv3", &read_metadata(&b[..]).unwrap()).unwrap();
        assert!((m.params_b / 671.0 - 1.0).abs() < 0.01, "{}", m.params_b);
        assert!((m.active_params_b.unwrap() / 37.0 - 1.0).abs() < 0.03);
        assert_eq!(
            m.kv_bytes_per_token(crate::kv_cache::KvCache::Fp16),
            70272.0
        );
        assert_eq!(m.head_dim, 192);
    }

    #[test]
    fn missing_shape_keys_are_named() {
        let mut kv = read_metadata(&llama_header()[..]).unwrap();
        kv.remove("llama.block_count");
        let e = model_from_metadata("x", &kv).unwrap_err().to_string();
        assert!(e.contains("llama.block_count"), "{e}");
    }
}
