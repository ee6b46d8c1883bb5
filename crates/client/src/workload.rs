//! What to ask: synthetic prompts from the shipped corpus.
//!
//! Each request gets its own text (a different place in the corpus and a
//! different seed), so a server's prefix cache cannot flatter the result,
//! unless a shared prefix is asked for. Without the model's tokenizer the
//! prompt length is an estimate (`tokenpace_corpus::ESTIMATE_METHOD`); the
//! server's usage, when reported, replaces it in the record.

use crate::backend::Prompt;
use crate::tokenizer::ModelTokenizer;
use tokenpace_core::record::{CountSource, TokenCount};
use tokenpace_corpus::{estimate_tokens, Lang, PseudoTokens};

/// Where the prompts of a run come from.
pub trait PromptSource: Send + Sync {
    /// The prompt of request `id` (ids count from 0; sources repeat as
    /// needed).
    fn prompt(&self, id: u64) -> Prompt;

    /// The model's tokenizer, if the source has one: it then also counts
    /// output tokens when a server reports no usage.
    fn tokenizer(&self) -> Option<&ModelTokenizer> {
        None
    }
}

/// Settings of the synthetic workload.
#[derive(Debug, Clone)]
pub struct Workload {
    /// Language of the prompt text.
    pub lang: Lang,
    /// Prompt length in (pseudo-)tokens.
    pub prompt_tokens: u32,
    /// Tokens of a prefix shared by every prompt of a group (0: none).
    pub shared_prefix: u32,
    /// Groups of users, each sharing its own prefix (request `id` is in
    /// group `id % prefix_groups`); 0 or 1: one prefix for all.
    pub prefix_groups: u32,
    /// `max_tokens` per request.
    pub max_tokens: u32,
    /// Ask for exactly `max_tokens` (ignore end-of-sequence).
    pub ignore_eos: bool,
    /// Base seed; request `id` uses `seed + id`.
    pub seed: u64,
    /// The model's tokenizer: prompts then have exactly `prompt_tokens`
    /// tokens (of the user message; a chat template adds its own).
    pub tokenizer: Option<std::sync::Arc<ModelTokenizer>>,
}

impl Workload {
    /// The seed of request `id`'s shared prefix: one per group.
    pub fn prefix_seed(&self, id: u64) -> u64 {
        let group = id % u64::from(self.prefix_groups.max(1));
        self.seed ^ group.wrapping_mul(0xD6E8_FEB8_6659_FD93)
    }

    /// Where request `id`'s shared prefix is cut from: a place in the corpus
    /// of its own per seed and group (the text, not only its split into
    /// pseudo-tokens, must differ, or a server's cache would still hit).
    fn prefix_tokens(&self, id: u64) -> PseudoTokens {
        let seed = self.prefix_seed(id);
        let offset = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize;
        PseudoTokens::at(self.lang, seed, offset)
    }

    /// The shared prefix of request `id`'s group, `shared_prefix` tokens
    /// long (exact with a tokenizer), or `None` without one.
    pub fn prefix_text(&self, id: u64) -> Option<String> {
        if self.shared_prefix == 0 {
            return None;
        }
        let mut prefix = self.prefix_tokens(id);
        if let Some(t) = &self.tokenizer {
            if let Ok(Some(text)) = t.exact_text(&mut prefix, self.shared_prefix) {
                return Some(text);
            }
            prefix = self.prefix_tokens(id);
        }
        Some(prefix.take_text(self.shared_prefix as usize))
    }
}

impl PromptSource for Workload {
    fn tokenizer(&self) -> Option<&ModelTokenizer> {
        self.tokenizer.as_deref()
    }

    fn prompt(&self, id: u64) -> Prompt {
        let shared = self.shared_prefix.min(self.prompt_tokens) as usize;
        let own = self.prompt_tokens as usize - shared;
        // A distinct place in the corpus per request and seed: the
        // golden-ratio stride spreads consecutive ids across the whole text.
        let slot = id.wrapping_add(self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let offset = (slot.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize;
        let seed = self.seed.wrapping_add(id).wrapping_add(1);
        let mut prefix = self.prefix_tokens(id);
        let mut body = PseudoTokens::at(self.lang, seed, offset);
        if let Some(t) = &self.tokenizer {
            let exact =
                |src: &mut PseudoTokens, n: usize| t.exact_text(src, n as u32).ok().flatten();
            if let (Some(p), Some(b)) = (exact(&mut prefix, shared), exact(&mut body, own)) {
                let text = p + &b;
                if let Ok(count) = t.count(&text) {
                    return Prompt {
                        text,
                        messages: None,
                        tokens: Some(TokenCount {
                            count,
                            source: CountSource::Tokenizer,
                        }),
                        max_tokens: self.max_tokens,
                        ignore_eos: self.ignore_eos,
                        ..Prompt::default()
                    };
                }
            }
        }
        let text = prefix.take_text(shared) + &body.take_text(own);
        estimated_prompt(text, None, self.max_tokens, self.ignore_eos)
    }
}

/// A prompt whose token count is estimated from its text (see
/// `tokenpace_corpus::ESTIMATE_METHOD`); the server's usage replaces the
/// estimate in the record when it reports one.
pub fn estimated_prompt(
    text: String,
    messages: Option<serde_json::Value>,
    max_tokens: u32,
    ignore_eos: bool,
) -> Prompt {
    let estimate = u32::try_from(estimate_tokens(&text)).unwrap_or(u32::MAX);
    Prompt {
        text,
        messages,
        tokens: Some(TokenCount {
            count: estimate,
            source: CountSource::Estimate,
        }),
        max_tokens,
        ignore_eos,
        ..Prompt::default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workload(shared: u32) -> Workload {
        Workload {
            lang: Lang::Zh,
            prompt_tokens: 200,
            shared_prefix: shared,
            prefix_groups: 0,
            max_tokens: 16,
            ignore_eos: true,
            seed: 42,
            tokenizer: None,
        }
    }

    #[test]
    fn prompts_are_unique_and_about_the_asked_length() {
        let w = workload(0);
        let a = w.prompt(0);
        let b = w.prompt(1);
        assert_ne!(a.text, b.text);
        assert_eq!(a.text, w.prompt(0).text, "deterministic");
        let n = a.tokens.unwrap().count;
        assert!((150..=260).contains(&n), "{n}");
        assert_eq!(a.tokens.unwrap().source, CountSource::Estimate);
    }

    #[test]
    fn a_tokenizer_makes_prompt_lengths_exact() {
        let (_dir, t) = crate::tokenizer::tests::char_tokenizer();
        let w = Workload {
            tokenizer: Some(std::sync::Arc::new(t)),
            ..workload(50)
        };
        for id in 0..5 {
            let p = w.prompt(id);
            assert_eq!(
                p.tokens,
                Some(TokenCount {
                    count: 200,
                    source: CountSource::Tokenizer
                })
            );
            assert_eq!(p.text.chars().count(), 200);
        }
        assert_ne!(w.prompt(0).text, w.prompt(1).text);
    }

    #[test]
    fn shared_prefix_is_shared() {
        let w = workload(100);
        let (a, b) = (w.prompt(3), w.prompt(4));
        let common = a
            .text
            .chars()
            .zip(b.text.chars())
            .take_while(|(x, y)| x == y)
            .count();
        assert!(common >= 100, "{common}");
        assert_ne!(a.text, b.text);
    }

    #[test]
    fn prefix_groups_share_within_and_differ_across() {
        let w = Workload {
            prefix_groups: 3,
            ..workload(100)
        };
        let common =
            |a: &str, b: &str| a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count();
        // Requests 1 and 4 are in group 1; 2 is in group 2.
        let (a, b, c) = (w.prompt(1).text, w.prompt(4).text, w.prompt(2).text);
        assert!(common(&a, &b) >= 100, "same group");
        assert!(common(&a, &c) < 10, "other group");
        assert_eq!(w.prefix_text(1), w.prefix_text(7));
        assert!(a.starts_with(&w.prefix_text(1).unwrap()));
        // Another seed (another level of a sweep) draws another prefix.
        let other = Workload {
            seed: 43,
            ..w.clone()
        };
        assert!(common(&a, &other.prompt(1).text) < 10, "other level");
    }
}
