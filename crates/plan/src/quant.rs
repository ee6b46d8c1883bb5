//! Weight quantisation: how many bits each weight occupies in memory and
//! which tensor-core rate the matrix multiplications run at.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the weights are stored.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Quant {
    /// 16-bit floats (FP16 or BF16).
    Fp16,
    /// 8-bit integers with a scale per block of 32 (llama.cpp Q8_0: 8.5 bits
    /// per weight); matrix multiplications at the INT8 rate when the hardware
    /// has one (W8A8, as SmoothQuant-style engines run it).
    Int8,
    /// 4-bit integers with a scale per block of 32 (llama.cpp Q4_0, about
    /// AWQ/GPTQ with group size 128: 4.5 bits per weight); weight-only, so
    /// the matrix multiplications run at the FP16 rate after dequantising.
    Int4,
}

impl Quant {
    /// Every quantisation, widest first.
    pub const ALL: [Quant; 3] = [Quant::Fp16, Quant::Int8, Quant::Int4];

    /// The id used on the command line and in files.
    pub fn id(self) -> &'static str {
        match self {
            Quant::Fp16 => "fp16",
            Quant::Int8 => "int8",
            Quant::Int4 => "int4",
        }
    }

    /// Bits each weight occupies in memory, including block scales.
    pub fn bits_per_weight(self) -> f64 {
        match self {
            Quant::Fp16 => 16.0,
            Quant::Int8 => 8.5,
            Quant::Int4 => 4.5,
        }
    }

    /// Bytes each weight occupies in memory.
    pub fn bytes_per_weight(self) -> f64 {
        self.bits_per_weight() / 8.0
    }

    /// The class of a GGUF file's `general.file_type` (llama.cpp's
    /// `llama_ftype`): F16/BF16, Q8_0, and the 4-bit types (Q4_0, Q4_1,
    /// Q4_K_S/M, IQ4_NL/XS). Other widths (2, 3, 5, 6 bits, F32) fit no
    /// class.
    pub fn from_gguf_file_type(file_type: u64) -> Option<Quant> {
        match file_type {
            1 | 32 => Some(Quant::Fp16),
            7 => Some(Quant::Int8),
            2 | 3 | 14 | 15 | 25 | 30 => Some(Quant::Int4),
            _ => None,
        }
    }

    /// Whether matrix multiplications run at the INT8 rate (when the
    /// hardware has one) rather than the FP16 rate.
    pub fn int8_compute(self) -> bool {
        self == Quant::Int8
    }
}

/// FP16: what the planner assumes when the weights are not known (a
/// scenario given only as rates, a model without a GGUF file type).
impl Default for Quant {
    fn default() -> Self {
        Quant::Fp16
    }
}

impl fmt::Display for Quant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.id())
    }
}

/// An unknown quantisation id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown quantisation '{0}': use fp16, int8 or int4")]
pub struct UnknownQuant(pub String);

impl FromStr for Quant {
    type Err = UnknownQuant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fp16" | "bf16" | "f16" => Ok(Quant::Fp16),
            "int8" | "q8" | "q8_0" => Ok(Quant::Int8),
            "int4" | "q4" | "q4_0" => Ok(Quant::Int4),
            _ => Err(UnknownQuant(s.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn gguf_file_types_map_to_their_width() {
        // SmolLM2's Q4_1, Gemma 3's Q4_K_M, a Q8_0 and an F16 file.
        assert_eq!(Quant::from_gguf_file_type(3), Some(Quant::Int4));
        assert_eq!(Quant::from_gguf_file_type(15), Some(Quant::Int4));
        assert_eq!(Quant::from_gguf_file_type(7), Some(Quant::Int8));
        assert_eq!(Quant::from_gguf_file_type(1), Some(Quant::Fp16));
        // Q6_K and F32 are none of the three.
        assert_eq!(Quant::from_gguf_file_type(18), None);
        assert_eq!(Quant::from_gguf_file_type(0), None);
    }

    #[test]
    fn ids_round_trip_and_widths_shrink() {
        for q in Quant::ALL {
            assert_eq!(q.id().parse::<Quant>().unwrap(), q);
        }
        assert!(Quant::Fp16.bytes_per_weight() > Quant::Int8.bytes_per_weight());
        assert!(Quant::Int8.bytes_per_weight() > Quant::Int4.bytes_per_weight());
        assert_eq!("bf16".parse::<Quant>().unwrap(), Quant::Fp16);
        assert!("int3"
            .parse::<Quant>()
            .unwrap_err()
            .to_string()
            .contains("int4"));
    }
}
