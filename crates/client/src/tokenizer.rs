//! The model's own tokenizer (a Hugging Face `tokenizer.json`), for prompts
//! of an exact number of tokens and for measured characters per token.

use anyhow::{anyhow, Context};
use std::path::{Path, PathBuf};
use tokenpace_corpus::PseudoTokens;

/// A loaded `tokenizer.json`.
pub struct ModelTokenizer {
    inner: tokenizers::Tokenizer,
    path: PathBuf,
}

impl std::fmt::Debug for ModelTokenizer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ModelTokenizer")
            .field("path", &self.path)
            .finish()
    }
}

impl ModelTokenizer {
    /// Loads a `tokenizer.json`.
    pub fn from_file(path: &Path) -> anyhow::Result<ModelTokenizer> {
        if !path.exists() {
            anyhow::bail!(
                "'{}' does not exist: give the model's tokenizer.json (it sits next to the weights of a Hugging Face model)",
                path.display()
            );
        }
        let inner = tokenizers::Tokenizer::from_file(path).map_err(|e| {
            anyhow!(
                "'{}' is not a tokenizer.json that tokenpace can read: {e}",
                path.display()
            )
        })?;
        Ok(ModelTokenizer {
            inner,
            path: path.to_path_buf(),
        })
    }

    /// Where it was loaded from.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Tokens of `text`, without special tokens (a chat template adds its
    /// own on the server).
    pub fn count(&self, text: &str) -> anyhow::Result<u32> {
        let enc = self
            .inner
            .encode(text, false)
            .map_err(|e| anyhow!("the tokenizer failed on the text: {e}"))
            .with_context(|| format!("tokenizer '{}'", self.path.display()))?;
        Ok(u32::try_from(enc.len()).unwrap_or(u32::MAX))
    }

    /// Text of exactly `n` tokens, drawn from `source`. Returns `None` when
    /// no cut gives exactly `n` (a tokenizer whose merges always jump over
    /// `n`; a different seed helps).
    pub fn exact_text(&self, source: &mut PseudoTokens, n: u32) -> anyhow::Result<Option<String>> {
        if n == 0 {
            return Ok(Some(String::new()));
        }
        // Pseudo-tokens carry at most as many characters as model tokens
        // usually do, so n of them nearly always reach n model tokens.
        let mut text = source.take_text(n as usize);
        while self.count(&text)? < n {
            text.push_str(&source.take_text((n as usize / 4).max(8)));
        }
        let enc = self
            .inner
            .encode(text.as_str(), false)
            .map_err(|e| anyhow!("the tokenizer failed on the text: {e}"))?;
        // Cut after the n-th token, then check: re-tokenising the cut text
        // can merge differently at the edge, so nudge the cut a few
        // characters either way.
        let end = enc.get_offsets()[n as usize - 1].1;
        let mut candidates: Vec<usize> = (0..8usize)
            .flat_map(|d| [end + d, end.saturating_sub(d)])
            .collect();
        candidates.dedup();
        for cut in candidates {
            if cut > text.len() || !text.is_char_boundary(cut) {
                continue;
            }
            let piece = &text[..cut];
            if self.count(piece)? == n {
                return Ok(Some(piece.to_string()));
            }
        }
        Ok(None)
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use tokenpace_corpus::TextLang;

    /// Every character is one token.
    pub(crate) const CHAR_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
        "pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?s)."},"behavior":"Isolated","invert":false},
        "post_processor":null,"decoder":null,"model":{"type":"WordLevel","vocab":{"[UNK]":0},"unk_token":"[UNK]"}}"#;

    pub(crate) fn char_tokenizer() -> (tempfile::TempDir, ModelTokenizer) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("tokenizer.json");
        std::fs::write(&path, CHAR_TOKENIZER).unwrap();
        let t = ModelTokenizer::from_file(&path).unwrap();
        (dir, t)
    }

    #[test]
    fn counts_and_cuts_exactly() {
        let (_dir, t) = char_tokenizer();
        assert_eq!(t.count("你好, world").unwrap(), 9);
        for n in [1, 7, 128, 1000] {
            let text = t
                .exact_text(&mut PseudoTokens::new(TextLang::Mixed, n as u64), n)
                .unwrap()
                .unwrap();
            assert_eq!(t.count(&text).unwrap(), n);
            assert_eq!(text.chars().count(), n as usize);
        }
    }

    #[test]
    fn bad_files_are_named() {
        let err = ModelTokenizer::from_file(Path::new("/nonexistent/tokenizer.json")).unwrap_err();
        assert!(err.to_string().contains("does not exist"), "{err}");
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("bad.json");
        std::fs::write(&path, "{\"model\": 3}").unwrap();
        let err = ModelTokenizer::from_file(&path).unwrap_err();
        assert!(err.to_string().contains("is not a tokenizer.json"), "{err}");
    }
}
