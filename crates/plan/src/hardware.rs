//! A device's peak figures: what the roofline is drawn from.

use crate::error::{non_negative, positive, PlanError};
use crate::quant::Quant;
use serde::{Deserialize, Serialize};

/// What kind of device it is (for display and grouping only).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "lowercase")]
pub enum Kind {
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
    pub kind: Kind,
    /// Dense FP16/BF16 matrix throughput, 10^12 FLOP/s.
    pub fp16_tflops: f64,
    /// Dense INT8 matrix throughput, 10^12 op/s, when the device has a
    /// faster integer path.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub int8_tops: Option<f64>,
    /// Peak memory bandwidth, 10^9 bytes/s.
    pub memory_bandwidth_gb_s: f64,
    /// Memory per device, 10^9 bytes.
    pub memory_gb: f64,
    /// Where every figure comes from.
    pub source: String,
}

impl Hardware {
    /// Peak matrix throughput for weights stored as `quant`, FLOP/s.
    pub fn peak_flops(&self, quant: Quant) -> f64 {
        let tera = match (quant.int8_compute(), self.int8_tops) {
            (true, Some(int8)) => int8.max(self.fp16_tflops),
            _ => self.fp16_tflops,
        };
        tera * 1e12
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
        positive(&name("fp16_tflops"), self.fp16_tflops)?;
        if let Some(v) = self.int8_tops {
            positive(&name("int8_tops"), v)?;
        }
        positive(&name("memory_bandwidth_gb_s"), self.memory_bandwidth_gb_s)?;
        positive(&name("memory_gb"), self.memory_gb)?;
        non_negative(&name("memory_gb"), self.memory_gb)?;
        Ok(())
    }
}
