//! Which model on which device, and how efficiently: the deployment flags
//! of `plan bounds`, `plan remedies`, `plan calibrate` and `plan capacity`.

use crate::cli::common::fraction;
use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_plan::efficiency::Overrides;
use tokenpace_plan::kv_cache::KvCache;
use tokenpace_plan::quant::Quant;
use tokenpace_plan::setup::{ModelSource, SetupRequest};

/// A weight format as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum QuantArg {
    /// 16-bit floats (FP16/BF16).
    #[value(alias = "bf16")]
    Fp16,
    /// 8-bit floats (8 bits per weight; FP8 matrix rate where native).
    Fp8,
    /// 8-bit integers (8.5 bits per weight with scales; INT8 matrix rate).
    Int8,
    /// 4-bit integers (4.5 bits per weight with scales; weight-only).
    Int4,
    /// Microscaling FP4 (4.25 bits per weight; FP4 matrix rate where native).
    Mxfp4,
    /// NVIDIA FP4 (4.5 bits per weight; FP4 matrix rate where native).
    Nvfp4,
}

impl From<QuantArg> for Quant {
    fn from(q: QuantArg) -> Quant {
        match q {
            QuantArg::Fp16 => Quant::Fp16,
            QuantArg::Fp8 => Quant::Fp8,
            QuantArg::Int8 => Quant::Int8,
            QuantArg::Int4 => Quant::Int4,
            QuantArg::Mxfp4 => Quant::Mxfp4,
            QuantArg::Nvfp4 => Quant::Nvfp4,
        }
    }
}

/// A KV-cache format as given on the command line.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum KvCacheArg {
    /// 16-bit floats (FP16/BF16).
    #[value(alias = "bf16")]
    Fp16,
    /// 8-bit floats: half the bytes per token.
    Fp8,
}

impl From<KvCacheArg> for KvCache {
    fn from(k: KvCacheArg) -> KvCache {
        match k {
            KvCacheArg::Fp16 => KvCache::Fp16,
            KvCacheArg::Fp8 => KvCache::Fp8,
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
    /// How the weights are stored [default: the model's own format, e.g.
    /// mxfp4 for gpt-oss, fp16 when not known].
    #[arg(
        long,
        visible_alias = "quant",
        value_name = "FORMAT",
        value_enum,
        ignore_case = true
    )]
    pub weights: Option<QuantArg>,
    /// How the KV cache is stored (fp8 halves its bytes per token).
    #[arg(
        long,
        value_name = "FORMAT",
        value_enum,
        default_value = "fp16",
        ignore_case = true
    )]
    pub kv_cache: KvCacheArg,
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
    /// The weight format asked for (`None`: the model's own).
    pub fn weights(&self) -> Option<Quant> {
        self.weights.map(Quant::from)
    }

    /// The KV-cache format asked for.
    pub fn kv_cache(&self) -> KvCache {
        self.kv_cache.into()
    }

    /// The deployment the flags ask for (read by [`SetupRequest::resolve`]).
    pub fn setup(&self) -> SetupRequest {
        let model = match (&self.model, &self.model_file) {
            (Some(name), _) => Some(ModelSource::Catalog(name.clone())),
            (None, Some(path)) => Some(ModelSource::File(path.clone())),
            (None, None) => None,
        };
        SetupRequest {
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
