//! What to ask: synthetic prompts from the shipped corpus.
//!
//! Each request gets its own text, and every prompt starts (after a shared
//! prefix, when one is asked for) with a salt of its own: a short tag drawn
//! from the request, the seed and the run, so neither another request of
//! the run nor an earlier run with the same `--seed` shares more than the
//! asked prefix with it, and a server's prefix cache cannot flatter the
//! result. Lengths are exact when the run cut them on the tokenizer that
//! counts ([`Cuts`], made before the clock starts, [`crate::exact`]) or
//! with a `tokenizer.json`; otherwise they are estimates
//! (`tokenpace_corpus::ESTIMATE_METHOD`), which the server's usage then
//! replaces in the record.

use crate::backend::Prompt;
use crate::count::{Shape, TokenCounter};
use crate::exact::{cut, Cut};
use crate::tokenizer::ModelTokenizer;
use futures_util::stream::{self, StreamExt, TryStreamExt};
use std::collections::HashMap;
use std::sync::Arc;
use tokenpace_core::record::{CountSource, TokenCount};
use tokenpace_corpus::{estimate_tokens, PseudoTokens, TextLang};

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
    pub lang: TextLang,
    /// Prompt length in tokens.
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
    /// Ask for usage on every streamed chunk (vLLM's
    /// `continuous_usage_stats`).
    pub per_chunk_usage: bool,
    /// Base seed; request `id` uses `seed + id`.
    pub seed: u64,
    /// The run's nonce, mixed into every prompt's salt: another run with
    /// the same seed gets other prompts (0 with `--reuse-prompts`).
    pub salt: u64,
    /// The model's tokenizer: prompts then have exactly `prompt_tokens`
    /// tokens of text when no [`Cuts`] were made.
    pub tokenizer: Option<Arc<ModelTokenizer>>,
    /// Exact cuts made before the run on the tokenizer that counts.
    pub cuts: Option<Arc<Cuts>>,
}

/// Where each prompt of a run is cut so that the tokenizer that counts
/// gives the length asked for, made before the clock starts.
#[derive(Debug, Clone, Default)]
pub struct Cuts {
    /// How the server sees a prompt (a chat message counts its template).
    pub shape: Option<Shape>,
    /// Each prefix group's shared prefix, counted alone as text.
    pub prefixes: HashMap<u64, Cut>,
    /// Each request's own text, counted with its prefix and salt.
    pub bodies: HashMap<u64, Cut>,
}

impl Cuts {
    /// Prompts whose cut counts other than `n` tokens (no cut of their text
    /// gives exactly `n`), and the largest miss.
    pub fn misses(&self, n: u32) -> (usize, u32) {
        self.bodies
            .values()
            .filter(|c| c.tokens != n)
            .fold((0, 0), |(k, d), c| (k + 1, d.max(c.tokens.abs_diff(n))))
    }
}

/// SplitMix64's finaliser: a well-spread number from two.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl Workload {
    /// The seed of request `id`'s shared prefix: one per group.
    pub fn prefix_seed(&self, id: u64) -> u64 {
        let group = id % u64::from(self.prefix_groups.max(1));
        self.seed ^ group.wrapping_mul(0xD6E8_FEB8_6659_FD93)
    }

    fn group(&self, id: u64) -> u64 {
        id % u64::from(self.prefix_groups.max(1))
    }

    /// Where request `id`'s shared prefix is cut from: a place in the corpus
    /// of its own per seed and group (the text, not only its split into
    /// pseudo-tokens, must differ, or a server's cache would still hit).
    fn prefix_tokens(&self, id: u64) -> PseudoTokens {
        let seed = self.prefix_seed(id);
        let offset = (seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize;
        PseudoTokens::at(self.lang, seed, offset)
    }

    /// Pseudo-tokens taken to search a cut of `n` tokens in: enough for
    /// any tokenizer that makes at least half a token of one.
    fn room(n: u32) -> usize {
        n as usize * 2 + 64
    }

    /// Tokens of the shared prefix: `shared_prefix`, or the whole prompt
    /// when that is shorter.
    fn shared(&self) -> u32 {
        self.shared_prefix.min(self.prompt_tokens)
    }

    /// The shared prefix of request `id`'s group, `shared_prefix` tokens
    /// long (exact when cut or with a tokenizer), or `None` without one: a
    /// session's system prompt.
    pub fn prefix_text(&self, id: u64) -> Option<String> {
        self.prefix_of(id, self.shared_prefix)
    }

    /// Request `id`'s group's prefix of `n` tokens: its cut when one was
    /// made, else cut on the tokenizer, else estimated.
    fn prefix_of(&self, id: u64, n: u32) -> Option<String> {
        if n == 0 {
            return None;
        }
        let mut prefix = self.prefix_tokens(id);
        if let Some(c) = self
            .cuts
            .as_ref()
            .and_then(|c| c.prefixes.get(&self.group(id)))
        {
            return Some(c.apply(&prefix.take_bytes(Self::room(n), c.bytes)));
        }
        if let Some(t) = &self.tokenizer {
            if let Ok(Some(text)) = t.exact_text(&mut prefix, n) {
                return Some(text);
            }
            prefix = self.prefix_tokens(id);
        }
        Some(prefix.take_text(n as usize))
    }

    /// Cuts the prefixes of the groups of `ids` to `n` tokens on `counter`.
    pub async fn cut_prefixes(
        &self,
        counter: &dyn TokenCounter,
        ids: &[u64],
        n: u32,
    ) -> anyhow::Result<HashMap<u64, Cut>> {
        let mut groups: Vec<u64> = ids.iter().map(|&id| self.group(id)).collect();
        groups.sort_unstable();
        groups.dedup();
        let mut out = HashMap::new();
        if n == 0 {
            return Ok(out);
        }
        for g in groups {
            let text = self.prefix_tokens(g).take_text(Self::room(n));
            out.insert(g, cut(counter, Shape::Text, "", &text, n).await?);
        }
        Ok(out)
    }

    /// Request `id`'s salt: a tag no other request of the run, and no other
    /// run (unless `--reuse-prompts`), starts its own text with.
    pub fn salt_text(&self, id: u64) -> String {
        let tag = mix(mix(self.salt, self.seed), id) & 0xFFFF_FFFF_FFFF;
        format!("{tag:012x}\n")
    }

    /// Where request `id`'s own text is cut from: a distinct place in the
    /// corpus per request and seed (the golden-ratio stride spreads
    /// consecutive ids across the whole text).
    fn body_tokens(&self, id: u64) -> PseudoTokens {
        let slot = id.wrapping_add(self.seed.wrapping_mul(0x2545_F491_4F6C_DD1D));
        let offset = (slot.wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 40) as usize;
        let seed = self.seed.wrapping_add(id).wrapping_add(1);
        PseudoTokens::at(self.lang, seed, offset)
    }

    /// The prefix and salt that come before request `id`'s own text (a
    /// prompt that is all shared prefix has no salt: it is asked to be
    /// the same).
    fn head(&self, id: u64) -> String {
        let prefix = self.prefix_of(id, self.shared()).unwrap_or_default();
        match self.shared() < self.prompt_tokens {
            true => prefix + &self.salt_text(id),
            false => prefix,
        }
    }

    /// Cuts the prompts of `ids` (and their groups' prefixes) on `counter`,
    /// `parallel` counts at a time, so each has exactly `prompt_tokens`
    /// tokens as the server will see it (`shape`).
    pub async fn make_cuts(
        &self,
        counter: &dyn TokenCounter,
        shape: Shape,
        ids: &[u64],
        parallel: usize,
    ) -> anyhow::Result<Cuts> {
        let mut cuts = Cuts {
            shape: Some(shape),
            ..Cuts::default()
        };
        cuts.prefixes = self.cut_prefixes(counter, ids, self.shared()).await?;
        let with_prefixes = Workload {
            cuts: Some(Arc::new(cuts.clone())),
            ..self.clone()
        };
        let n = self.prompt_tokens;
        let bodies: Vec<(u64, Cut)> =
            stream::iter(ids.iter().copied())
                .map(|id| {
                    let (head, body) = (
                        with_prefixes.head(id),
                        with_prefixes.body_tokens(id).take_text(Self::room(n)),
                    );
                    async move {
                        Ok::<_, anyhow::Error>((id, cut(counter, shape, &head, &body, n).await?))
                    }
                })
                .buffer_unordered(parallel.max(1))
                .try_collect()
                .await?;
        cuts.bodies = bodies.into_iter().collect();
        Ok(cuts)
    }
}

impl PromptSource for Workload {
    fn tokenizer(&self) -> Option<&ModelTokenizer> {
        self.tokenizer.as_deref()
    }

    fn prompt(&self, id: u64) -> Prompt {
        let prompt = |text: String, count: u32, source: CountSource| Prompt {
            text,
            tokens: Some(TokenCount { count, source }),
            max_tokens: self.max_tokens,
            ignore_eos: self.ignore_eos,
            per_chunk_usage: self.per_chunk_usage,
            ..Prompt::default()
        };
        let head = self.head(id);
        let mut body = self.body_tokens(id);
        if let Some(c) = self.cuts.as_ref().and_then(|c| c.bodies.get(&id)) {
            // Only the tokens the cut keeps: the room it was cut from is twice
            // the prompt, made afresh for each request on the load threads.
            let own = c.apply(&body.take_bytes(Self::room(self.prompt_tokens), c.bytes));
            return prompt(head + &own, c.tokens, CountSource::Tokenizer);
        }
        if let Some(t) = &self.tokenizer {
            if let Ok(head_tokens) = t.count(&head) {
                let own = self.prompt_tokens.saturating_sub(head_tokens);
                if let Ok(Some(b)) = t.exact_text(&mut body, own) {
                    let text = head.clone() + &b;
                    if let Ok(count) = t.count(&text) {
                        return prompt(text, count, CountSource::Tokenizer);
                    }
                }
            }
            body = self.body_tokens(id);
        }
        let own = u64::from(self.prompt_tokens).saturating_sub(estimate_tokens(&head));
        let text = head + &body.take_text(own as usize);
        let mut p = estimated_prompt(text, None, self.max_tokens, self.ignore_eos);
        p.per_chunk_usage = self.per_chunk_usage;
        p
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
            lang: TextLang::Zh,
            prompt_tokens: 200,
            shared_prefix: shared,
            prefix_groups: 0,
            max_tokens: 16,
            ignore_eos: true,
            per_chunk_usage: false,
            seed: 42,
            salt: 0,
            tokenizer: None,
            cuts: None,
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
