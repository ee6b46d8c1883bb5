//! Which model on which device, and how efficiently: the deployment flags
//! of `plan bounds`, `plan remedies`, `plan calibrate` and `plan capacity`.

use crate::cli::common::fraction;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_plan::efficiency::Overrides;
use tokenpace_plan::quant::Quant;
use tokenpace_plan::setup::{ModelSource, Setup};

/// A weight quantisation as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantArg {
    /// 16-bit floats (FP16/BF16).
    Fp16,
    /// 8-bit integers (8.5 bits per weight with scales; INT8 matrix rate).
    Int8,
    /// 4-bit integers (4.5 bits per weight with scales; weight-only).
    Int4,
}

impl From<Quant> for QuantArg {
    fn from(q: Quant) -> QuantArg {
        match q {
            Quant::Fp16 => QuantArg::Fp16,
            Quant::Int8 => QuantArg::Int8,
            Quant::Int4 => QuantArg::Int4,
        }
    }
}

impl From<QuantArg> for Quant {
    fn from(q: QuantArg) -> Quant {
        match q {
            QuantArg::Fp16 => Quant::Fp16,
            QuantArg::Int8 => Quant::Int8,
            QuantArg::Int4 => Quant::Int4,
        }
    }
}

/// Which model on which device, and how efficiently: shared by `plan
/// bounds`, `plan remedies` and `plan calibrate`.
#[derive(Debug, Clone, Args)]
pub struct DeploymentArgs {
    /// Model id from the catalog (`tokenpace plan bounds --list` shows it),
    /// e.g. qwen2.5-7b.
    #[arg(long, value_name = "NAME", conflicts_with = "model_file")]
    pub model: Option<String>,
    /// Read the model's shape from a Hugging Face config.json or a GGUF
    /// file's header instead of the catalog.
    #[arg(long, value_name = "FILE")]
    pub model_file: Option<PathBuf>,
    /// Device id from the catalog (`tokenpace plan bounds --list` shows
    /// it), e.g. rtx-4090.
    #[arg(long, value_name = "NAME")]
    pub hardware: Option<String>,
    /// How the weights are stored.
    #[arg(long, value_enum, default_value_t = Quant::default().into(), ignore_case = true)]
    pub quant: QuantArg,
    /// Devices the model is split across (tensor parallel).
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=4096))]
    pub gpus: u32,
    /// Add or replace catalog entries from a TOML file (same format as the
    /// built-in catalog; may be repeated).
    #[arg(long, value_name = "FILE")]
    pub catalog: Vec<PathBuf>,
    /// Efficiency factors from a TOML file (what `plan calibrate --save`
    /// writes).
    #[arg(long, value_name = "FILE")]
    pub efficiency: Option<PathBuf>,
    /// Fraction of peak compute reached in prefill [default: 0.65].
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_negative_numbers = true)]
    pub compute_efficiency: Option<f64>,
    /// Fraction of peak memory bandwidth reached in decode [default: 0.7].
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_negative_numbers = true)]
    pub bandwidth_efficiency: Option<f64>,
    /// Fraction of device memory usable for weights and KV cache [default: 0.9].
    #[arg(long, value_name = "FRACTION", value_parser = fraction, allow_negative_numbers = true)]
    pub memory_usable: Option<f64>,
}

impl DeploymentArgs {
    /// The deployment the flags ask for (read by [`Setup::resolve`]).
    pub fn setup(&self) -> Setup {
        let model = match (&self.model, &self.model_file) {
            (Some(name), _) => Some(ModelSource::Catalog(name.clone())),
            (None, Some(path)) => Some(ModelSource::File(path.clone())),
            (None, None) => None,
        };
        Setup {
            catalog_files: self.catalog.clone(),
            model,
            hardware: self.hardware.clone(),
            efficiency_file: self.efficiency.clone(),
            overrides: Overrides {
                compute: self.compute_efficiency,
                bandwidth: self.bandwidth_efficiency,
                memory_usable: self.memory_usable,
            },
        }
    }
}
