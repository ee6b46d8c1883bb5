//! Characters per output token, the ratio that turns decode speed into
//! reading speed, chosen from the best evidence at hand for the model and
//! the language, and always with a sentence naming where it came from.
//!
//! The order (most trusted first): a ratio given on the command line, one
//! measured in a run, one measured with the model's `tokenizer.json` on
//! tokenpace's sample text, a tokenizer family named on the command line,
//! the family the model file's metadata names (GGUF `tokenizer.ggml.pre`,
//! `config.json`'s `model_type`), the family the catalog gives the model,
//! and only then the stated default (the 32k-vocabulary figure of the
//! design notes). Family figures are published averages
//! (`tokenpace_core::tokenizer_family`), for Chinese and for English.

use crate::error::PlanError;
use serde::{Deserialize, Serialize};
use tokenpace_core::setting::Setting;
use tokenpace_core::tokenizer_family::{family, family_ids, TokenizerFamily};
use tokenpace_corpus::TextLang;

/// The family whose figures stand in when nothing is known of the model's
/// tokenizer: LLaMA-2's 32k vocabulary, the design notes' 0.7 on Chinese.
pub const DEFAULT_FAMILY: &str = "llama2";

/// Where a ratio comes from, most trusted first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum RatioOrigin {
    /// Given as a number (`--chars-per-token`).
    Given,
    /// Measured in a run (`--from-run`, or the run being calibrated).
    Run,
    /// Measured with the model's tokenizer file (`--tokenizer`).
    Tokenizer,
    /// A tokenizer family named on the command line (`--tokenizer-family`).
    FamilyFlag,
    /// The family the model file's metadata names (GGUF or config.json).
    ModelFile,
    /// The family the catalog gives the model.
    Catalog,
    /// Nothing known of the model's tokenizer: the stated default.
    Default,
}

/// A characters-per-token ratio for one language, and its source.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CharsPerToken {
    /// Visible characters per output token.
    pub value: f64,
    /// The prose language the ratio is for (`zh`, `en`, `mixed`).
    pub text: String,
    /// What kind of evidence it is.
    pub origin: RatioOrigin,
    /// Where the figure comes from, in words.
    pub source: String,
}

impl CharsPerToken {
    /// The stated default for prose in `lang`: nothing known of the model.
    pub fn default_for(lang: TextLang) -> CharsPerToken {
        // The default family is in the built-in table (a test checks it).
        RatioEvidence::default()
            .choose(lang)
            .expect("the default tokenizer family is known")
    }

    /// The language and the source in one phrase (`zh text; …`).
    pub fn describe(&self) -> String {
        format!("{} text; {}", self.text, self.source)
    }
}

/// A tokenizer family known for a model, and how it was identified.
#[derive(Debug, Clone, PartialEq)]
pub struct ModelFamily {
    /// The family id (`qwen`).
    pub family: String,
    /// `ModelFile` or `Catalog`.
    pub origin: RatioOrigin,
    /// How it was identified (`catalog entry qwen2.5-7b`).
    pub how: String,
}

/// Tokens a tokenizer file made of tokenpace's sample text.
#[derive(Debug, Clone, PartialEq)]
pub struct SampleTokenCount {
    /// The tokenizer file, as given.
    pub tokenizer: String,
    /// Visible characters of the sample.
    pub chars: u32,
    /// Tokens the tokenizer made of it.
    pub tokens: u32,
}

/// A ratio measured in a run.
#[derive(Debug, Clone, PartialEq)]
pub struct RunRatio {
    /// The run, as given.
    pub run: String,
    /// The mean characters per token.
    pub value: f64,
    /// Requests it is the mean of.
    pub requests: u64,
}

/// Everything known about the ratio; [`RatioEvidence::choose`] takes the
/// most trusted.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RatioEvidence {
    /// `--chars-per-token`.
    pub given: Option<f64>,
    /// Measured in a run.
    pub run: Option<RunRatio>,
    /// Measured with a tokenizer file on the sample text of the language.
    pub tokenizer: Option<SampleTokenCount>,
    /// `--tokenizer-family`.
    pub family_flag: Option<String>,
    /// The model's family (from its file or the catalog).
    pub model: Option<ModelFamily>,
}

impl RatioEvidence {
    /// The most trusted ratio for prose in `lang`, with its source.
    pub fn choose(&self, lang: TextLang) -> Result<CharsPerToken, PlanError> {
        let text = lang.as_str().to_string();
        let ratio = |value: f64, origin, source: String| CharsPerToken {
            value,
            text: text.clone(),
            origin,
            source,
        };
        if let Some(v) = self.given {
            return Ok(ratio(
                v,
                RatioOrigin::Given,
                format!("{} {v}", Setting::CharsPerToken),
            ));
        }
        if let Some(r) = &self.run {
            let source = format!(
                "measured in run '{}' (mean over {} requests)",
                r.run, r.requests
            );
            return Ok(ratio(r.value, RatioOrigin::Run, source));
        }
        if let Some(t) = &self.tokenizer {
            let tokens = t.tokens.max(1);
            let source = format!(
                "measured with '{}' on tokenpace's {} sample text ({} characters, {tokens} tokens)",
                t.tokenizer,
                lang_name(lang),
                t.chars
            );
            return Ok(ratio(
                f64::from(t.chars) / f64::from(tokens),
                RatioOrigin::Tokenizer,
                source,
            ));
        }
        let (id, origin, how) = match (&self.family_flag, &self.model) {
            (Some(id), _) => (
                id.as_str(),
                RatioOrigin::FamilyFlag,
                Setting::TokenizerFamily.to_string(),
            ),
            (None, Some(m)) => (m.family.as_str(), m.origin, m.how.clone()),
            (None, None) => (
                DEFAULT_FAMILY,
                RatioOrigin::Default,
                format!(
                    "default: nothing is known of this model's tokenizer (give {} tokenizer.json, {} RUN or {})",
                    Setting::Tokenizer,
                    Setting::FromRun,
                    Setting::TokenizerFamily
                ),
            ),
        };
        let f = family(id).ok_or_else(|| {
            PlanError::Syntax(format!(
                "unknown tokenizer family '{id}' ({how}): use one of {}, or give {}",
                family_ids(),
                Setting::CharsPerToken
            ))
        })?;
        let (value, figure) = family_figure(f, lang);
        Ok(ratio(
            value,
            origin,
            format!("{how}: {} tokenizer family ({}); {figure}", f.id, f.models),
        ))
    }
}

/// A family's figure for `lang` and its source; for mixed prose (equal
/// shares of characters in each language) the tokens add up, so the ratio
/// is the harmonic mean of the two.
pub fn family_figure(f: &TokenizerFamily, lang: TextLang) -> (f64, String) {
    match lang {
        TextLang::Zh => (f.zh_chars_per_token, format!("Chinese: {}", f.source)),
        TextLang::En => (f.en_chars_per_token, format!("English: {}", f.en_source)),
        TextLang::Mixed => (
            2.0 / (1.0 / f.zh_chars_per_token + 1.0 / f.en_chars_per_token),
            format!(
                "mixed prose, harmonic mean of Chinese {} ({}) and English {} ({})",
                f.zh_chars_per_token, f.source, f.en_chars_per_token, f.en_source
            ),
        ),
    }
}

fn lang_name(lang: TextLang) -> &'static str {
    match lang {
        TextLang::Zh => "Chinese",
        TextLang::En => "English",
        TextLang::Mixed => "mixed Chinese and English",
    }
}

/// The tokenizer family a GGUF header's metadata names: the pre-tokenizer
/// (`tokenizer.ggml.pre`), else a 32k SentencePiece vocabulary (LLaMA-2),
/// else the architecture. `None` when it names no family tokenpace has
/// figures for. Returns the id and the evidence in words.
pub fn family_of_gguf(
    pre: Option<&str>,
    ggml_model: Option<&str>,
    vocab: u64,
    arch: &str,
) -> Option<(&'static str, String)> {
    let by_pre = pre.and_then(|p| {
        let id = match p {
            "qwen2" | "qwen35" => "qwen",
            "llama-bpe" | "llama3" => "llama3",
            p if p.starts_with("deepseek") => "deepseek",
            _ => return None,
        };
        Some((id, format!("the GGUF header's tokenizer.ggml.pre '{p}'")))
    });
    by_pre
        .or_else(|| {
            (ggml_model == Some("llama") && vocab == 32000).then(|| {
                (
                    "llama2",
                    "the GGUF header's 32000-token SentencePiece vocabulary".to_string(),
                )
            })
        })
        .or_else(|| {
            family_of_model_type(arch, vocab)
                .map(|(id, _)| (id, format!("the GGUF header's architecture '{arch}'")))
        })
}

/// The tokenizer family a `config.json`'s `model_type` (and vocabulary
/// size, for Llama) names.
pub fn family_of_model_type(model_type: &str, vocab: u64) -> Option<(&'static str, String)> {
    let id = match model_type {
        t if t.starts_with("qwen") => "qwen",
        t if t.starts_with("deepseek") => "deepseek",
        "llama" if vocab == 128256 => "llama3",
        "llama" if vocab == 32000 => "llama2",
        _ => return None,
    };
    Some((
        id,
        format!("config.json's model_type '{model_type}' (vocabulary {vocab})"),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn qwen_catalog() -> RatioEvidence {
        RatioEvidence {
            model: Some(ModelFamily {
                family: "qwen".into(),
                origin: RatioOrigin::Catalog,
                how: "catalog entry qwen2.5-7b".into(),
            }),
            ..RatioEvidence::default()
        }
    }

    #[test]
    fn the_most_trusted_evidence_wins_and_says_so() {
        let mut e = qwen_catalog();
        let zh = e.choose(TextLang::Zh).unwrap();
        let en = e.choose(TextLang::En).unwrap();
        let qwen = family("qwen").unwrap();
        assert_eq!(
            (zh.value, en.value),
            (qwen.zh_chars_per_token, qwen.en_chars_per_token)
        );
        assert!(
            zh.source.contains("catalog entry qwen2.5-7b") && zh.source.contains("Chinese"),
            "{}",
            zh.source
        );
        assert!(
            en.source.contains("English") && en.origin == RatioOrigin::Catalog,
            "{}",
            en.source
        );
        e.family_flag = Some("deepseek".into());
        assert_eq!(
            e.choose(TextLang::Zh).unwrap().origin,
            RatioOrigin::FamilyFlag
        );
        e.tokenizer = Some(SampleTokenCount {
            tokenizer: "t.json".into(),
            chars: 300,
            tokens: 0,
        });
        let t = e.choose(TextLang::En).unwrap();
        // No tokens counts as one, never a division by zero.
        assert_eq!((t.value, t.origin), (300.0, RatioOrigin::Tokenizer));
        assert!(t.source.contains("English sample"), "{}", t.source);
        e.run = Some(RunRatio {
            run: "runs/a".into(),
            value: 1.9,
            requests: 8,
        });
        assert_eq!(e.choose(TextLang::Zh).unwrap().value, 1.9);
        e.given = Some(2.5);
        let g = e.choose(TextLang::Zh).unwrap();
        assert_eq!(
            (g.value, g.source),
            (2.5, format!("{} 2.5", Setting::CharsPerToken))
        );
    }

    #[test]
    fn nothing_known_is_the_stated_default_and_mixed_is_the_harmonic_mean() {
        let d = RatioEvidence::default().choose(TextLang::Zh).unwrap();
        assert_eq!(d.origin, RatioOrigin::Default);
        assert!(
            d.source.starts_with("default: nothing is known"),
            "{}",
            d.source
        );
        assert_eq!(d.value, family(DEFAULT_FAMILY).unwrap().zh_chars_per_token);
        let q = family("qwen").unwrap();
        let m = qwen_catalog().choose(TextLang::Mixed).unwrap().value;
        assert!(m > q.zh_chars_per_token && m < q.en_chars_per_token);
        // Half the characters in each: tokens = c/zh + c/en for 2c characters.
        assert!(
            (2.0 / m - (1.0 / q.zh_chars_per_token + 1.0 / q.en_chars_per_token)).abs() < 1e-12
        );
        let bad = RatioEvidence {
            family_flag: Some("gpt9".into()),
            ..RatioEvidence::default()
        };
        let err = bad.choose(TextLang::Zh).unwrap_err().to_string();
        assert!(err.contains("'gpt9'") && err.contains("qwen"), "{err}");
    }

    #[test]
    fn model_metadata_names_the_family() {
        assert_eq!(
            family_of_gguf(Some("qwen2"), Some("gpt2"), 151936, "qwen3")
                .unwrap()
                .0,
            "qwen"
        );
        assert_eq!(
            family_of_gguf(Some("llama-bpe"), Some("gpt2"), 128256, "llama")
                .unwrap()
                .0,
            "llama3"
        );
        assert_eq!(
            family_of_gguf(None, Some("llama"), 32000, "llama")
                .unwrap()
                .0,
            "llama2"
        );
        assert_eq!(
            family_of_gguf(None, Some("gpt2"), 151936, "qwen2")
                .unwrap()
                .0,
            "qwen"
        );
        assert!(family_of_gguf(Some("smollm"), Some("gpt2"), 49152, "llama").is_none());
        assert_eq!(family_of_model_type("qwen3_moe", 151936).unwrap().0, "qwen");
        assert_eq!(family_of_model_type("llama", 128256).unwrap().0, "llama3");
        assert!(family_of_model_type("llama", 49152).is_none());
        assert!(family_of_model_type("gemma3", 262144).is_none());
    }
}
