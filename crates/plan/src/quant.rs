//! Weight formats: how many bits each weight occupies in memory and which
//! matrix rate of a device the multiplications run at.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// How the weights are stored (the weight format).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum Quant {
    /// 16-bit floats (FP16 or BF16).
    Fp16,
    /// 8-bit floats (E4M3) with a per-tensor or per-channel scale: 8 bits
    /// per weight; matrix multiplications at the FP8 rate where the device
    /// has one (W8A8).
    Fp8,
    /// 8-bit integers with a scale per block of 32 (llama.cpp Q8_0: 8.5 bits
    /// per weight); matrix multiplications at the INT8 rate when the hardware
    /// has one (W8A8, as SmoothQuant-style engines run it).
    Int8,
    /// 4-bit integers with a scale per block of 32 (llama.cpp Q4_0, about
    /// AWQ/GPTQ with group size 128: 4.5 bits per weight); weight-only, so
    /// the matrix multiplications run at the FP16 rate after dequantising.
    Int4,
    /// OCP microscaling FP4: E2M1 elements with one 8-bit (E8M0) scale per
    /// block of 32, 4.25 bits per weight (gpt-oss's MoE weights).
    Mxfp4,
    /// NVIDIA's FP4: E2M1 elements with one FP8 (E4M3) scale per block of
    /// 16 and an FP32 scale per tensor, 4.5 bits per weight.
    Nvfp4,
}

/// A matrix rate of a device: what a format's multiplications run at where
/// the device supports the format natively.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Rate {
    /// The FP16/BF16 rate (every device has one).
    Fp16,
    /// The FP8 rate.
    Fp8,
    /// The INT8 rate.
    Int8,
    /// The block-scaled FP4 rate (MXFP4 and NVFP4).
    Fp4,
}

/// Whether a device runs a format's matrix multiplications in the format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize, JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Support {
    /// At the format's own rate (what estimates stored before formats
    /// were known read as: they were all FP16 or INT8).
    #[default]
    Native,
    /// Stored in the format and dequantised to 16 bits for the matrix
    /// multiplications, at the FP16 rate: memory traffic still shrinks.
    WeightOnly,
}

impl Support {
    /// The id used in output.
    pub fn id(self) -> &'static str {
        match self {
            Support::Native => "native",
            Support::WeightOnly => "weight-only",
        }
    }
}

impl Quant {
    /// Every format, widest first.
    pub const ALL: [Quant; 6] = [
        Quant::Fp16,
        Quant::Int8,
        Quant::Fp8,
        Quant::Int4,
        Quant::Nvfp4,
        Quant::Mxfp4,
    ];

    /// The id used on the command line and in files.
    pub fn id(self) -> &'static str {
        match self {
            Quant::Fp16 => "fp16",
            Quant::Fp8 => "fp8",
            Quant::Int8 => "int8",
            Quant::Int4 => "int4",
            Quant::Mxfp4 => "mxfp4",
            Quant::Nvfp4 => "nvfp4",
        }
    }

    /// Bits each weight occupies in memory, including block scales (a
    /// per-tensor scale is negligible).
    pub fn bits_per_weight(self) -> f64 {
        match self {
            Quant::Fp16 => 16.0,
            Quant::Fp8 => 8.0,
            // 8 + a 16-bit scale per 32.
            Quant::Int8 => 8.5,
            // 4 + a 16-bit scale per 32.
            Quant::Int4 => 4.5,
            // 4 + an 8-bit scale per 32.
            Quant::Mxfp4 => 4.25,
            // 4 + an 8-bit scale per 16.
            Quant::Nvfp4 => 4.5,
        }
    }

    /// Bytes each weight occupies in memory.
    pub fn bytes_per_weight(self) -> f64 {
        self.bits_per_weight() / 8.0
    }

    /// The matrix rate the format runs at on a device that supports it
    /// natively; `None` for a weight-only format (INT4 is dequantised
    /// everywhere).
    pub fn native_rate(self) -> Option<Rate> {
        match self {
            Quant::Fp16 => Some(Rate::Fp16),
            Quant::Fp8 => Some(Rate::Fp8),
            Quant::Int8 => Some(Rate::Int8),
            Quant::Int4 => None,
            Quant::Mxfp4 | Quant::Nvfp4 => Some(Rate::Fp4),
        }
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

/// An unknown weight format id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown weight format '{0}': use fp16, fp8, int8, int4, mxfp4 or nvfp4")]
pub struct UnknownQuant(pub String);

impl FromStr for Quant {
    type Err = UnknownQuant;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "fp16" | "bf16" | "f16" => Ok(Quant::Fp16),
            "fp8" | "f8" | "e4m3" => Ok(Quant::Fp8),
            "int8" | "q8" | "q8_0" => Ok(Quant::Int8),
            "int4" | "q4" | "q4_0" => Ok(Quant::Int4),
            "mxfp4" => Ok(Quant::Mxfp4),
            "nvfp4" => Ok(Quant::Nvfp4),
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
    fn bytes_per_weight_follow_each_formats_layout() {
        let bytes = |q: Quant| q.bytes_per_weight();
        assert_eq!(bytes(Quant::Fp16), 2.0);
        assert_eq!(bytes(Quant::Fp8), 1.0);
        assert_eq!(bytes(Quant::Int8), 8.5 / 8.0);
        assert_eq!(bytes(Quant::Int4), 4.5 / 8.0);
        // MXFP4: 32 × 4 bits + one 8-bit scale = 136 bits per 32 weights.
        assert_eq!(bytes(Quant::Mxfp4) * 8.0 * 32.0, 32.0 * 4.0 + 8.0);
        // NVFP4: 16 × 4 bits + one FP8 scale = 72 bits per 16 weights.
        assert_eq!(bytes(Quant::Nvfp4) * 8.0 * 16.0, 16.0 * 4.0 + 8.0);
        assert_eq!(Quant::Int4.native_rate(), None);
        assert_eq!(Quant::Mxfp4.native_rate(), Some(Rate::Fp4));
    }

    #[test]
    fn ids_round_trip_and_widths_never_grow() {
        for q in Quant::ALL {
            assert_eq!(q.id().parse::<Quant>().unwrap(), q);
        }
        for pair in Quant::ALL.windows(2) {
            assert!(pair[0].bytes_per_weight() >= pair[1].bytes_per_weight());
        }
        assert_eq!("bf16".parse::<Quant>().unwrap(), Quant::Fp16);
        assert_eq!("MXFP4".parse::<Quant>().unwrap(), Quant::Mxfp4);
        let err = "int3".parse::<Quant>().unwrap_err().to_string();
        assert!(err.contains("mxfp4"), "{err}");
    }
}
