//! A device's peak figures: what the roofline is drawn from.

use crate::error::{non_negative, positive, PlanError};
use crate::quant::{Quant, Rate, Support};
use serde::{Deserialize, Serialize};

/// What kind of device it is (for display and grouping only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
#[schemars(rename = "Kind")]
pub enum HardwareKind {
    /// A discrete GPU.
    Gpu,
    /// A neural-network accelerator.
    Npu,
    /// A system on a chip with unified memory (Apple silicon).
    Soc,
    /// A CPU with system memory.
    Cpu,
}

/// One device as the catalog describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Hardware {
    /// Short id used on the command line (`rtx-4090`).
    pub id: String,
    /// Full name.
    pub name: String,
    /// What kind of device.
    pub kind: HardwareKind,
    /// Dense FP16/BF16 matrix throughput, 10^12 FLOP/s.
    pub fp16_tflops: f64,
    /// Dense INT8 matrix throughput, 10^12 op/s, when the device has a
    /// faster integer path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_tops: Option<f64>,
    /// Dense FP8 matrix throughput, 10^12 FLOP/s, when the device has FP8
    /// tensor cores (FP8 weights then run natively).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp8_tflops: Option<f64>,
    /// Dense block-scaled FP4 matrix throughput (MXFP4, NVFP4), 10^12
    /// FLOP/s, when the device has FP4 tensor cores.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fp4_tflops: Option<f64>,
    /// Peak memory bandwidth, 10^9 bytes/s.
    pub memory_bandwidth_gb_s: f64,
    /// Memory per device, 10^9 bytes.
    pub memory_gb: f64,
    /// Where every figure comes from.
    pub source: String,
}

impl Hardware {
    /// The dense matrix rate `rate`, 10^12 op/s, if the device has it.
    pub fn rate_tera(&self, rate: Rate) -> Option<f64> {
        match rate {
            Rate::Fp16 => Some(self.fp16_tflops),
            Rate::Fp8 => self.fp8_tflops,
            Rate::Int8 => self.int8_tops,
            Rate::Fp4 => self.fp4_tflops,
        }
    }

    /// Whether the device multiplies weights stored as `quant` in that
    /// format, or dequantises them to 16 bits first.
    pub fn support(&self, quant: Quant) -> Support {
        match quant.native_rate().and_then(|r| self.rate_tera(r)) {
            Some(_) => Support::Native,
            None => Support::WeightOnly,
        }
    }

    /// Peak matrix throughput for weights stored as `quant`, FLOP/s: the
    /// format's own rate where the device has it (never below the FP16
    /// rate), else the FP16 rate.
    pub fn peak_flops(&self, quant: Quant) -> f64 {
        let native = quant.native_rate().and_then(|r| self.rate_tera(r));
        native.unwrap_or(self.fp16_tflops).max(self.fp16_tflops) * 1e12
    }

    /// Peak memory bandwidth, bytes/s.
    pub fn bandwidth_bytes_s(&self) -> f64 {
        self.memory_bandwidth_gb_s * 1e9
    }

    /// Memory per device, bytes.
    pub fn memory_bytes(&self) -> f64 {
        self.memory_gb * 1e9
    }

    /// Checks that every figure is a finite number > 0 and the id is set.
    pub fn validate(&self) -> Result<(), PlanError> {
        if self.id.trim().is_empty() || self.source.trim().is_empty() {
            return Err(PlanError::Syntax(format!(
                "hardware '{}': id and source must not be empty (every figure needs a source)",
                self.id
            )));
        }
        let name = |field: &str| format!("hardware '{}': {field}", self.id);
        positive(name("fp16_tflops"), self.fp16_tflops)?;
        for (field, v) in [
            ("int8_tops", self.int8_tops),
            ("fp8_tflops", self.fp8_tflops),
            ("fp4_tflops", self.fp4_tflops),
        ] {
            if let Some(v) = v {
                positive(name(field), v)?;
            }
        }
        positive(name("memory_bandwidth_gb_s"), self.memory_bandwidth_gb_s)?;
        positive(name("memory_gb"), self.memory_gb)?;
        non_negative(name("memory_gb"), self.memory_gb)?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use crate::catalog::Catalog;
    use crate::quant::{Quant, Support};

    #[test]
    fn fp8_runs_natively_where_the_datasheets_give_an_fp8_rate() {
        let c = Catalog::builtin();
        for id in ["h100-sxm", "b200", "mi300x"] {
            let h = c.hardware(id).unwrap();
            let fp8 = h
                .fp8_tflops
                .unwrap_or_else(|| panic!("{id} has no FP8 rate"));
            assert_eq!(h.support(Quant::Fp8), Support::Native, "{id}");
            assert_eq!(h.peak_flops(Quant::Fp8), fp8 * 1e12, "{id}");
            // Dense FP8 is twice dense FP16 on all three datasheets
            // (rounded as printed: 1978.9 against 989.4).
            assert!((fp8 / (2.0 * h.fp16_tflops) - 1.0).abs() < 1e-4, "{id}");
        }
        // No FP8 tensor cores on an A100: dequantised, at the FP16 rate.
        let a100 = c.hardware("a100-80gb").unwrap();
        assert_eq!(a100.support(Quant::Fp8), Support::WeightOnly);
        assert_eq!(a100.peak_flops(Quant::Fp8), a100.peak_flops(Quant::Fp16));
    }

    #[test]
    fn fp4_formats_are_native_on_blackwell_only_and_int4_nowhere() {
        let c = Catalog::builtin();
        let b200 = c.hardware("b200").unwrap();
        for q in [Quant::Mxfp4, Quant::Nvfp4] {
            assert_eq!(b200.support(q), Support::Native);
            assert_eq!(b200.peak_flops(q), b200.fp4_tflops.unwrap() * 1e12);
            for id in ["h100-sxm", "mi300x"] {
                let h = c.hardware(id).unwrap();
                assert_eq!(h.support(q), Support::WeightOnly, "{id}");
                assert_eq!(h.peak_flops(q), h.fp16_tflops * 1e12, "{id}");
            }
        }
        assert!(c
            .hardware
            .iter()
            .all(|h| h.support(Quant::Int4) == Support::WeightOnly));
        assert!(c
            .hardware
            .iter()
            .all(|h| h.support(Quant::Fp16) == Support::Native));
    }
}
