//! How many characters a token carries, by tokenizer family, for Chinese
//! and for English prose.
//!
//! The design notes convert decode speed to reading speed with 0.7 characters
//! per token, which fits tokenizers with small, Latin-centred vocabularies.
//! Chinese-aware vocabularies pack more text into a token, so the same 25
//! characters/s needs a very different decode rate. These are published
//! averages over Chinese text; a ratio measured on your own model and text
//! (from a run, or by tokenizing sample text) is always better.

use serde::Serialize;

/// A tokenizer family's typical Chinese characters per token.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, schemars::JsonSchema)]
pub struct TokenizerFamily {
    /// The id used on the command line (`--tokenizer-family`).
    pub id: &'static str,
    /// Models that use it.
    pub models: &'static str,
    /// Chinese characters per token on Chinese prose.
    pub zh_chars_per_token: f64,
    /// Where the Chinese figure comes from.
    pub source: &'static str,
    /// Characters per token on English prose.
    pub en_chars_per_token: f64,
    /// Where the English figure comes from.
    pub en_source: &'static str,
}

/// The families tokenpace knows, the 32k-vocabulary default first.
pub const FAMILIES: &[TokenizerFamily] = &[
    TokenizerFamily {
        id: "llama2",
        models: "LLaMA-1/2 and other 32k-vocabulary tokenizers",
        zh_chars_per_token: 0.7,
        // tokenizer-arena: a Hugging Face space measuring compression on
        // 10k samples of cc100-zh-Hans per tokenizer.
        source:
            "the design notes' figure; tokenizer-arena (cc100-zh-Hans) measures 0.70 for LLaMA's 32k vocabulary",
        en_chars_per_token: 3.17,
        en_source: "The Llama 3 Herd of Models (Meta, 2024), Model Architecture section: the Llama 2 tokenizer compresses a sample of English data to 3.17 characters per token",
    },
    TokenizerFamily {
        id: "llama3",
        models: "Llama-3.x, 128k vocabulary",
        zh_chars_per_token: 1.24,
        source: "tokenizer-arena (cc100-zh-Hans), llama3 row: 1.24 characters per token",
        en_chars_per_token: 3.94,
        en_source: "The Llama 3 Herd of Models (Meta, 2024), Model Architecture section: the Llama 3 tokenizer compresses a sample of English data to 3.94 characters per token",
    },
    TokenizerFamily {
        id: "qwen",
        models: "Qwen to Qwen3, 151k vocabulary",
        zh_chars_per_token: 1.5,
        // The low end of Alibaba's range; Model Studio's newer billing page
        // says "one character or word", a conservative floor.
        source: "Alibaba Cloud DashScope metering and billing page for Qwen (help.aliyun.com): 1 token is on average 1.5-1.8 Chinese characters; the low end",
        en_chars_per_token: 3.5,
        en_source: "Alibaba Cloud Model Studio billing page (alibabacloud.com/help/model-studio): 1 token is usually 3 to 4 English letters or one word; the middle",
    },
    TokenizerFamily {
        id: "deepseek",
        models: "DeepSeek-V2/V3/R1",
        zh_chars_per_token: 1.67,
        source: "DeepSeek API docs, Token & Token Usage: 1 Chinese character ≈ 0.6 token",
        en_chars_per_token: 3.33,
        en_source: "DeepSeek API docs, Token & Token Usage: 1 English character ≈ 0.3 token",
    },
];

/// Looks up a family by id (case-insensitive); `seed`, the id of `llama2`
/// before 0.2, still works.
pub fn family(id: &str) -> Option<&'static TokenizerFamily> {
    let id = if id.eq_ignore_ascii_case("seed") {
        "llama2"
    } else {
        id
    };
    FAMILIES.iter().find(|f| f.id.eq_ignore_ascii_case(id))
}

/// The ids of all families, for error messages.
pub fn family_ids() -> String {
    FAMILIES.iter().map(|f| f.id).collect::<Vec<_>>().join(", ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_sane_and_unique() {
        for (i, f) in FAMILIES.iter().enumerate() {
            assert!(f.zh_chars_per_token > 0.3 && f.zh_chars_per_token < 3.0);
            // English packs more characters into a token than Chinese.
            assert!(f.en_chars_per_token > f.zh_chars_per_token && f.en_chars_per_token < 6.0);
            assert!(!f.source.is_empty() && !f.en_source.is_empty());
            assert!(FAMILIES[i + 1..].iter().all(|g| g.id != f.id));
        }
        assert_eq!(family("QWEN").unwrap().zh_chars_per_token, 1.5);
        assert_eq!(family("seed").unwrap().zh_chars_per_token, 0.7);
        assert_eq!(family("llama2").unwrap().id, "llama2");
        assert!(family("gpt2").is_none());
    }
}
