//! The KV cache's element format: how many bytes each cached key or value
//! occupies, whatever the weights' format.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the KV cache is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum KvCache {
    /// 16-bit floats (FP16/BF16), engines' default.
    #[default]
    Fp16,
    /// 8-bit floats (E4M3 with a per-tensor scale, vLLM's and SGLang's
    /// `--kv-cache-dtype fp8`): half the bytes per token.
    Fp8,
}

impl KvCache {
    /// Both formats.
    pub const ALL: [KvCache; 2] = [KvCache::Fp16, KvCache::Fp8];

    /// The id used on the command line and in files.
    pub fn id(self) -> &'static str {
        match self {
            KvCache::Fp16 => "fp16",
            KvCache::Fp8 => "fp8",
        }
    }

    /// Bytes per cached element.
    pub fn bytes_per_element(self) -> f64 {
        match self {
            KvCache::Fp16 => 2.0,
            KvCache::Fp8 => 1.0,
        }
    }
}

impl fmt::Display for KvCache {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown KV-cache format id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown KV-cache format '{0}': use fp16 or fp8")]
pub struct UnknownKvCache(pub String);

impl FromStr for KvCache {
    type Err = UnknownKvCache;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fp16" | "bf16" | "auto" => Ok(KvCache::Fp16),
            "fp8" | "fp8_e4m3" => Ok(KvCache::Fp8),
            _ => Err(UnknownKvCache(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fp8_halves_the_bytes_and_ids_round_trip() {
        assert_eq!(KvCache::Fp16.bytes_per_element(), 2.0);
        assert_eq!(KvCache::Fp8.bytes_per_element(), 1.0);
        for k in KvCache::ALL {
            assert_eq!(k.id().parse::<KvCache>().unwrap(), k);
        }
        assert!("int4"
            .parse::<KvCache>()
            .unwrap_err()
            .to_string()
            .contains("fp8"));
    }
}
