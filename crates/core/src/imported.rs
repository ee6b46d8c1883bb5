//! A run measured by another tool and imported (`tokenpace import`): which
//! tool wrote it, and what its format does not say. What a format lacks is
//! named here and left out of the records, never made up.

use serde::{Deserialize, Serialize};

/// The result formats `tokenpace import` reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "kebab-case")]
pub enum ImportFormat {
    /// `vllm bench serve --save-result --save-detailed`.
    Vllm,
    /// GuideLLM's benchmarks JSON (`guidellm benchmark --output-path`).
    Guidellm,
    /// AIPerf's per-request `profile_export.jsonl`.
    Aiperf,
    /// inference-perf's `per_request_lifecycle_metrics.json`.
    InferencePerf,
    /// Hugging Face inference-benchmarker's results JSON (aggregates only:
    /// recognised, and refused with what it lacks).
    InferenceBenchmarker,
}

impl ImportFormat {
    /// Every format, in the order detection tries them.
    pub const ALL: [ImportFormat; 5] = [
        Self::Vllm,
        Self::Guidellm,
        Self::Aiperf,
        Self::InferencePerf,
        Self::InferenceBenchmarker,
    ];

    /// The name `--format` takes and run.json stores.
    pub fn id(self) -> &'static str {
        match self {
            Self::Vllm => "vllm",
            Self::Guidellm => "guidellm",
            Self::Aiperf => "aiperf",
            Self::InferencePerf => "inference-perf",
            Self::InferenceBenchmarker => "inference-benchmarker",
        }
    }

    /// The tool that writes the format, as its users call it.
    pub fn tool(self) -> &'static str {
        match self {
            Self::Vllm => "vllm bench serve",
            Self::Guidellm => "GuideLLM",
            Self::Aiperf => "AIPerf",
            Self::InferencePerf => "inference-perf",
            Self::InferenceBenchmarker => "inference-benchmarker",
        }
    }
}

/// Something an imported run's format does not record, so the metrics
/// that need it are absent or qualified.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Missing {
    /// Only the first and last token's times: no gap between chunks, so no
    /// stalls, no per-chunk inter-token latency, no reading speed.
    ChunkTimes,
    /// Chunk times without each chunk's text: every chunk counts as one
    /// carrying text, characters come from the whole answer.
    ChunkChars,
    /// No answer text: characters, characters per token and reading speed
    /// are absent.
    AnswerText,
    /// When each request was meant to be sent: schedule lag reads 0.
    SendSchedule,
    /// Failed requests are counted without why they failed.
    ErrorKinds,
}

/// Where an imported run came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Imported {
    /// The format read.
    pub format: ImportFormat,
    /// The version of the tool that wrote the file, when the file says.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_version: Option<String>,
    /// The file's name (without its directory).
    pub file: String,
    /// What the format does not record.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub missing: Vec<Missing>,
}
