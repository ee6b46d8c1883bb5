//! Efficiency factors: the fraction of a peak a real engine reaches. They
//! turn roofline bounds into expected values.

use crate::error::{fraction, PlanError};
use serde::{Deserialize, Serialize};
use tokenpace_core::setting::Setting;

/// Fractions of peak reached in practice.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Efficiency {
    /// Fraction of peak matrix throughput reached in prefill.
    pub compute: f64,
    /// Fraction of peak memory bandwidth reached in decode.
    pub bandwidth: f64,
    /// Fraction of device memory usable for weights and KV cache (the rest
    /// holds activations, the runtime and fragmentation).
    #[serde(default = "default_memory_usable")]
    pub memory_usable: f64,
    /// Fraction of peak compute reached by small-batch decode (matrix–vector
    /// products, which vectorise worse than prefill's matrix products: a
    /// CPU reaches ~12 % of peak); unset, the `compute` factor. Fitted by
    /// `plan calibrate` from runs at two or more concurrencies.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decode_compute: Option<f64>,
    /// Where the factors come from (a fitted run, a publication).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<String>,
}

fn default_memory_usable() -> f64 {
    Efficiency::DEFAULT.memory_usable
}

impl Efficiency {
    /// The defaults, set by hand against the published measurements in
    /// `data/measurements.toml` (llama.cpp on Apple silicon and NVIDIA
    /// cards): 65 % of peak compute in prefill, 70 % of peak bandwidth in
    /// decode (the geometric-mean fit to the points held to the model,
    /// `published::fit_points`, gives 0.71 and 0.72; 0.65 is a cautious
    /// choice; the ±25 % check holds each point out of its own fit); 90 %
    /// of memory usable (vLLM's default `gpu_memory_utilization`).
    pub const DEFAULT: Efficiency = Efficiency {
        compute: 0.65,
        bandwidth: 0.7,
        memory_usable: 0.9,
        decode_compute: None,
        source: None,
    };

    /// The ideal machine: every peak reached (the roofline bound itself).
    pub const PEAK: Efficiency = Efficiency {
        compute: 1.0,
        bandwidth: 1.0,
        memory_usable: 1.0,
        decode_compute: None,
        source: None,
    };

    /// The fraction of peak compute decode reaches.
    pub fn decode_compute(&self) -> f64 {
        self.decode_compute.unwrap_or(self.compute)
    }

    /// Checks that every factor is in (0, 1].
    pub fn validate(&self) -> Result<(), PlanError> {
        if let Some(f) = self.decode_compute {
            fraction("decode compute efficiency (key `decode_compute`)", f)?;
        }
        fraction(
            format!(
                "compute efficiency ({}, key `compute`)",
                Setting::ComputeEfficiency
            ),
            self.compute,
        )?;
        fraction(
            format!(
                "bandwidth efficiency ({}, key `bandwidth`)",
                Setting::BandwidthEfficiency
            ),
            self.bandwidth,
        )?;
        fraction(
            format!(
                "usable memory fraction ({}, key `memory_usable`)",
                Setting::MemoryUsable
            ),
            self.memory_usable,
        )?;
        Ok(())
    }

    /// Reads an efficiency file (what `plan calibrate --save` writes).
    pub fn from_toml(text: &str) -> Result<Efficiency, PlanError> {
        let e: Efficiency = toml::from_str(text).map_err(|e| PlanError::Syntax(e.to_string()))?;
        e.validate()?;
        Ok(e)
    }

    /// This efficiency as TOML, with a comment saying what reads it.
    pub fn to_toml(&self) -> String {
        // Numbers and an optional string always serialise.
        let body = toml::to_string(self).unwrap_or_default();
        format!(
            "# tokenpace efficiency factors: `tokenpace plan bounds {} FILE`\n{body}",
            Setting::Efficiency
        )
    }
}

/// Factors given one by one (`--compute-efficiency`,
/// `--bandwidth-efficiency`, `--memory-usable`), each replacing the one of a
/// file or the default.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Overrides {
    /// Fraction of peak compute reached in prefill.
    pub compute: Option<f64>,
    /// Fraction of peak bandwidth reached in decode.
    pub bandwidth: Option<f64>,
    /// Fraction of device memory usable.
    pub memory_usable: Option<f64>,
}

impl Overrides {
    /// `base` with every factor given here replaced.
    pub fn apply(&self, base: Efficiency) -> Efficiency {
        Efficiency {
            compute: self.compute.unwrap_or(base.compute),
            bandwidth: self.bandwidth.unwrap_or(base.bandwidth),
            memory_usable: self.memory_usable.unwrap_or(base.memory_usable),
            ..base
        }
    }
}

impl Default for Efficiency {
    fn default() -> Self {
        Efficiency::DEFAULT
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn overrides_replace_only_what_they_give() {
        let file = Efficiency {
            source: Some("fitted".into()),
            ..Efficiency::DEFAULT
        };
        assert_eq!(Overrides::default().apply(file.clone()), file);
        let e = Overrides {
            bandwidth: Some(0.35),
            ..Overrides::default()
        }
        .apply(file);
        assert_eq!((e.compute, e.bandwidth, e.memory_usable), (0.65, 0.35, 0.9));
        assert_eq!(e.source.as_deref(), Some("fitted"));
    }

    #[test]
    fn toml_round_trip_and_checks() {
        let e = Efficiency {
            compute: 0.5,
            bandwidth: 0.8,
            memory_usable: 0.9,
            decode_compute: Some(0.12),
            source: Some("fitted to run1".into()),
        };
        assert_eq!(Efficiency::from_toml(&e.to_toml()).unwrap(), e);
        let d = Efficiency::from_toml("compute = 0.4\nbandwidth = 0.6\n").unwrap();
        assert_eq!(d.memory_usable, 0.9);
        let err = Efficiency::from_toml("compute = 1.5\nbandwidth = 0.6\n")
            .unwrap_err()
            .to_string();
        assert!(err.contains("compute efficiency"), "{err}");
        assert!(Efficiency::from_toml("compute = 0.5\n").is_err());
        assert!(Efficiency::from_toml("compute = 0.5\nbandwidth = 0.5\nspeed = 1\n").is_err());
    }
}
