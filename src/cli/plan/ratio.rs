//! Where characters per token come from (`--chars-per-token`,
//! `--tokenizer-family`, `--from-run`, `--tokenizer`, `--text`).

use crate::cli::common::{positive_number, TextLang};
use clap::Args;
use std::path::{Path, PathBuf};
use tokenpace_core::metric::Metric;
use tokenpace_core::scenario::ratio::RatioError;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_core::text::CharCount;
use tokenpace_plan::chars_per_token::{RatioEvidence, RunRatio, SampleTokenCount};

/// Where characters per token come from, and for which language: shared
/// by `plan scenario`, `plan bounds` and `plan remedies`. Without any of
/// these flags the model's tokenizer family (catalog entry or model file)
/// gives it, else a stated default.
#[derive(Debug, Clone, Args)]
pub struct RatioArgs {
    /// Characters per output token, for reading speed [default: the
    /// model's tokenizer family for --text, else 0.7 (zh) / 3.17 (en), a
    /// 32k-vocabulary tokenizer; the output names the source].
    #[arg(long, value_name = "RATIO", value_parser = positive_number, allow_negative_numbers = true,
          conflicts_with_all = ["tokenizer_family", "from_run", "tokenizer"])]
    pub chars_per_token: Option<f64>,
    /// Use a tokenizer family's published characters per token (qwen,
    /// deepseek, llama3, llama2).
    #[arg(long, value_name = "FAMILY", conflicts_with_all = ["from_run", "tokenizer"])]
    pub tokenizer_family: Option<String>,
    /// Use the characters per token measured in a run (`run.json` or its
    /// directory).
    #[arg(long, value_name = "FILE", conflicts_with = "tokenizer")]
    pub from_run: Option<PathBuf>,
    /// Measure characters per token with the model's tokenizer.json on
    /// tokenpace's sample text in the --text language.
    #[arg(long, value_name = "FILE")]
    pub tokenizer: Option<PathBuf>,
    /// The language of the answers, which sets characters per token (zh,
    /// en; mixed: half the characters in each).
    #[arg(long, value_enum, default_value_t = TextLang::Zh)]
    pub text: TextLang,
}

impl RatioArgs {
    /// What the flags say about characters per token: `count` tokenizes
    /// text with a tokenizer file, `read_run` reads a run (the caller's
    /// I/O). The model's family is the caller's to add.
    pub fn evidence(
        &self,
        count: impl FnOnce(&Path, &str) -> anyhow::Result<u32>,
        read_run: impl FnOnce(&Path) -> anyhow::Result<RunSummary>,
    ) -> anyhow::Result<RatioEvidence> {
        let tokenizer = match &self.tokenizer {
            Some(path) => {
                let sample = tokenpace_corpus::text(self.text);
                Some(SampleTokenCount {
                    tokenizer: path.display().to_string(),
                    chars: CharCount::of(sample).chars,
                    tokens: count(path, sample)?,
                })
            }
            None => None,
        };
        let run = match &self.from_run {
            Some(path) => {
                let name = path.display().to_string();
                let summary = read_run(path)?;
                let stats = summary
                    .metrics
                    .get(&Metric::CharsPerToken)
                    .ok_or_else(|| RatioError::NotInRun(name.clone()))?;
                Some(RunRatio {
                    run: name,
                    value: stats.get(Statistic::Mean),
                    requests: stats.n,
                })
            }
            None => None,
        };
        Ok(RatioEvidence {
            given: self.chars_per_token,
            run,
            tokenizer,
            family_flag: self.tokenizer_family.clone(),
            model: None,
        })
    }
}
