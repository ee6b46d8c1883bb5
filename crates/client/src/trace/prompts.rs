//! A trace request's prompt: each `hash_ids` entry is a block of text
//! drawn from the corpus with a seed derived from the hash, so requests
//! that share leading hashes share an identical text prefix, and a prefix
//! cache hits as it did in production. Tokens beyond the blocks are the
//! request's own text.

use super::TraceRequest;
use crate::backend::Prompt;
use crate::count::{Shape, TokenCounter};
use crate::tokenizer::ModelTokenizer;
use crate::workload::estimated_prompt;
use std::collections::HashMap;
use std::sync::Arc;
use tokenpace_core::record::{CountSource, TokenCount};
use tokenpace_corpus::{PseudoTokens, TextLang};

/// Full blocks kept for reuse; beyond it the cache starts over (a bound on
/// memory whatever the trace holds).
const CACHED_BLOCKS: usize = 4096;

/// Bytes of block text kept for reuse, at most (long blocks fill it first).
const CACHED_BYTES: usize = 64 << 20;

/// Mixed into the seed of a request's own text so it never equals a block.
const OWN_TEXT: u64 = 0x4f57_4e5f_5445_5854;

/// Builds the prompts of a trace's requests.
#[derive(Debug, Clone)]
pub struct TracePrompts {
    /// Language of the text.
    pub lang: TextLang,
    /// Tokens per `hash_ids` entry.
    pub block_tokens: u32,
    /// Seed of every block and request text.
    pub seed: u64,
    /// Ask for exactly the trace's output length.
    pub ignore_eos: bool,
    /// The model's tokenizer: prompt lengths are then exact.
    pub tokenizer: Option<Arc<ModelTokenizer>>,
    /// The tokenizer that counts (the server's `/tokenize`): blocks and
    /// prompts are then cut on it, from the reading thread
    /// ([`super::replay`]), which may wait for it.
    pub counter: Option<(Arc<dyn TokenCounter>, Shape)>,
    cache: HashMap<u64, String>,
    cache_bytes: usize,
}

impl std::fmt::Debug for dyn TokenCounter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.describe())
    }
}

/// SplitMix64's finaliser: a well-spread seed from two numbers.
fn mix(a: u64, b: u64) -> u64 {
    let mut z = a ^ b.wrapping_mul(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl TracePrompts {
    /// A builder with an empty block cache.
    pub fn new(
        lang: TextLang,
        block_tokens: u32,
        seed: u64,
        ignore_eos: bool,
        tokenizer: Option<Arc<ModelTokenizer>>,
    ) -> Self {
        TracePrompts {
            lang,
            block_tokens: block_tokens.max(1),
            seed,
            ignore_eos,
            tokenizer,
            counter: None,
            cache: HashMap::new(),
            cache_bytes: 0,
        }
    }

    /// Cuts prompts on `counter` (the server's tokenizer, seeing a prompt
    /// as `shape`) from now on.
    pub fn with_counter(self, counter: Option<(Arc<dyn TokenCounter>, Shape)>) -> Self {
        TracePrompts { counter, ..self }
    }

    /// Text of `source` that makes `head` + it count `n` tokens as `shape`
    /// on `counter`, and the count (the nearest when none is exact), asked
    /// from the reading thread inside the runtime (`None` if it cannot).
    fn counted(
        counter: &dyn TokenCounter,
        shape: Shape,
        head: &str,
        mut source: PseudoTokens,
        n: u32,
    ) -> Option<(String, u32)> {
        let body = source.take_text(n as usize * 2 + 64);
        let handle = tokio::runtime::Handle::try_current().ok()?;
        let c = handle
            .block_on(crate::exact::cut(counter, shape, head, &body, n))
            .ok()?;
        Some((c.apply(&body), c.tokens))
    }

    /// The text source of block `hash` (or of a request's own text).
    fn source(&self, key: u64) -> PseudoTokens {
        let s = mix(self.seed, key);
        PseudoTokens::at(self.lang, s, (s >> 40) as usize)
    }

    /// `n` tokens of `source`: exactly, on the counter or the tokenizer
    /// (`None` if it cannot cut there).
    fn text(&self, source: PseudoTokens, n: u32) -> Option<String> {
        self.tagged("", source, n)
    }

    /// `tag` and then text of `source`, `n` tokens in all (exact on the
    /// counter or the tokenizer; `None` if it cannot cut there).
    fn tagged(&self, tag: &str, mut source: PseudoTokens, n: u32) -> Option<String> {
        if let Some((c, _)) = &self.counter {
            return Self::counted(c.as_ref(), Shape::Text, tag, source, n)
                .filter(|(_, k)| *k == n)
                .map(|(t, _)| format!("{tag}{t}"));
        }
        match &self.tokenizer {
            Some(t) => {
                let own = n.checked_sub(t.count(tag).ok()?)?;
                let text = t.exact_text(&mut source, own).ok().flatten()?;
                Some(format!("{tag}{text}"))
            }
            None => {
                let own =
                    (n as usize).saturating_sub(tokenpace_corpus::estimate_tokens(tag) as usize);
                Some(format!("{tag}{}", source.take_text(own)))
            }
        }
    }

    /// The tag a block's text starts with: two blocks of different hashes
    /// differ from their first token (their corpus text could otherwise
    /// start at nearly the same place, and a cache find more shared than
    /// the hashes say).
    fn block_tag(&self, hash: u64) -> String {
        format!("{:08x} ", mix(self.seed ^ 0x0042_4c4f_434b, hash) as u32)
    }

    /// The prompt of `req`: `max_tokens` is its output length (at least 1:
    /// BurstGPT writes 0 for failed requests).
    pub fn prompt(&mut self, req: &TraceRequest) -> Prompt {
        let want = req.input_tokens.max(1);
        let max_tokens = req.output_tokens.max(1);
        let mut text = String::new();
        let (covered, mut exact) = self.push_blocks(req, want, &mut text);
        if covered < want {
            if let Some(count) = self.push_own_text(req, want, covered, &mut text, &mut exact) {
                return self.exact_prompt(text, count, max_tokens);
            }
        }
        if let (Some(t), true) = (&self.tokenizer, exact) {
            if let Ok(count) = t.count(&text) {
                return self.exact_prompt(text, count, max_tokens);
            }
        }
        estimated_prompt(text, None, max_tokens, self.ignore_eos)
    }

    /// A prompt of `text`, `count` tokens on the tokenizer.
    fn exact_prompt(&self, text: String, count: u32, max_tokens: u32) -> Prompt {
        Prompt {
            text,
            tokens: Some(TokenCount {
                count,
                source: CountSource::Tokenizer,
            }),
            max_tokens,
            ignore_eos: self.ignore_eos,
            ..Prompt::default()
        }
    }

    /// Appends the text of `req`'s blocks to `text`, up to `want` tokens:
    /// the tokens covered, and whether every block was cut exactly.
    fn push_blocks(&mut self, req: &TraceRequest, want: u32, text: &mut String) -> (u32, bool) {
        let b = self.block_tokens;
        let mut exact = true;
        let mut covered = 0u32;
        for &hash in &req.hash_ids {
            if covered >= want {
                break;
            }
            let n = b.min(want - covered);
            let (piece, piece_exact) = if n == b {
                self.whole_block(hash)
            } else {
                self.cut_block(hash, n, text, want)
            };
            exact &= piece_exact;
            text.push_str(&piece);
            covered += n;
        }
        (covered, exact)
    }

    /// Block `hash` in full, from the cache (built and kept on first use),
    /// and whether it was cut exactly (true when it was cached before).
    fn whole_block(&mut self, hash: u64) -> (String, bool) {
        let mut exact = true;
        if !self.cache.contains_key(&hash) {
            if self.cache.len() >= CACHED_BLOCKS || self.cache_bytes > CACHED_BYTES {
                self.cache.clear();
                self.cache_bytes = 0;
            }
            let block = self.tagged(&self.block_tag(hash), self.source(hash), self.block_tokens);
            exact = block.is_some();
            let block = block.unwrap_or_default();
            self.cache_bytes += block.len();
            self.cache.insert(hash, block);
        }
        (self.cache[&hash].clone(), exact)
    }

    /// The first `n` tokens of block `hash`, which ends the prompt (`text`
    /// so far, `want` tokens in all), and whether it was cut exactly.
    fn cut_block(&self, hash: u64, n: u32, text: &str, want: u32) -> (String, bool) {
        if let Some((c, shape)) = &self.counter {
            // A cut block ends the prompt: cut with what comes before,
            // so the whole prompt has the length as the server sees it.
            let tag = self.block_tag(hash);
            let head = format!("{text}{tag}");
            return match Self::counted(c.as_ref(), *shape, &head, self.source(hash), want) {
                Some((t, count)) => (format!("{tag}{t}"), count == want),
                None => (String::new(), false),
            };
        }
        // A cut block: a prefix of the whole one.
        let t = self.tagged(&self.block_tag(hash), self.source(hash), n);
        let exact = t.is_some();
        (t.unwrap_or_default(), exact)
    }

    /// Appends `req`'s own text to `text` (which covers `covered` of the
    /// `want` tokens). Returns the whole prompt's count when the server's
    /// tokenizer cut it; else clears `exact` if the text could not be cut
    /// exactly.
    fn push_own_text(
        &self,
        req: &TraceRequest,
        want: u32,
        mut covered: u32,
        text: &mut String,
        exact: &mut bool,
    ) -> Option<u32> {
        // A request that shares no block starts with a salt of its own
        // (the seed holds the run's): its text could otherwise begin
        // where another's does in the corpus, and be served from the
        // cache as though it had been sent before.
        // (A prompt shorter than a salt is shorter than any cache block.)
        let salt = format!("{:012x}\n", mix(self.seed, req.index) & 0xFFFF_FFFF_FFFF);
        let salt_tokens = match &self.tokenizer {
            Some(t) => t.count(&salt).unwrap_or(u32::MAX),
            None => tokenpace_corpus::estimate_tokens(&salt) as u32,
        };
        if req.hash_ids.is_empty() && salt_tokens < want - covered {
            covered += salt_tokens;
            text.push_str(&salt);
        }
        let own = self.source(mix(OWN_TEXT, req.index));
        // On the server's tokenizer the whole prompt is cut to the
        // length, as the server sees it (a chat's template counted).
        if let Some((c, shape)) = &self.counter {
            if let Some((t, count)) = Self::counted(c.as_ref(), *shape, text, own.clone(), want) {
                text.push_str(&t);
                return Some(count);
            }
        }
        let t = self.text(own, want - covered);
        *exact &= t.is_some();
        text.push_str(&t.unwrap_or_default());
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(index: u64, input: u32, hash_ids: &[u64]) -> TraceRequest {
        TraceRequest {
            line: index + 1,
            index,
            at_ns: 0,
            input_tokens: input,
            output_tokens: 7,
            hash_ids: hash_ids.to_vec(),
        }
    }

    fn common_prefix(a: &str, b: &str) -> usize {
        a.chars().zip(b.chars()).take_while(|(x, y)| x == y).count()
    }

    #[test]
    fn shared_hash_ids_share_a_prefix_and_nothing_more() {
        let mut p = TracePrompts::new(TextLang::En, 64, 1, true, None);
        let a = p.prompt(&req(0, 200, &[10, 11, 12, 13]));
        let b = p.prompt(&req(1, 200, &[10, 11, 99, 100]));
        let c = p.prompt(&req(2, 200, &[50, 11, 12, 13]));
        let two_blocks = p.prompt(&req(3, 128, &[10, 11])).text;
        assert!(
            a.text.starts_with(&two_blocks),
            "the shared blocks are a's prefix"
        );
        assert!(b.text.starts_with(&two_blocks), "and b's");
        assert!(common_prefix(&a.text, &b.text) < two_blocks.chars().count() + 20);
        assert!(
            common_prefix(&a.text, &c.text) < 20,
            "a different first block shares nothing"
        );
        assert_eq!((a.max_tokens, a.ignore_eos), (7, true));
        // The same request again, even after the cache was filled: the same text.
        let again = TracePrompts::new(TextLang::En, 64, 1, true, None).prompt(&req(
            0,
            200,
            &[10, 11, 12, 13],
        ));
        assert_eq!(again.text, a.text);
        let other_seed = TracePrompts::new(TextLang::En, 64, 2, true, None).prompt(&req(
            0,
            200,
            &[10, 11, 12, 13],
        ));
        assert!(
            common_prefix(&a.text, &other_seed.text) < 20,
            "a run's seed changes every block"
        );
    }

    #[test]
    fn without_hash_ids_each_request_has_its_own_text() {
        let mut p = TracePrompts::new(TextLang::Zh, 512, 0, false, None);
        let (a, b) = (p.prompt(&req(0, 300, &[])), p.prompt(&req(1, 300, &[])));
        assert!(common_prefix(&a.text, &b.text) < 20);
        let n = a.tokens.unwrap().count;
        assert!(
            (220..=390).contains(&n),
            "about 300 estimated tokens, got {n}"
        );
    }

    #[test]
    fn lengths_are_exact_with_a_tokenizer() {
        let (_dir, t) = crate::tokenizer::tests::char_tokenizer();
        let mut p = TracePrompts::new(TextLang::Mixed, 100, 3, true, Some(Arc::new(t)));
        for (input, ids) in [
            (250u32, vec![1u64, 2, 3]),
            (80, vec![1, 2]),
            (350, vec![1]),
            (1, vec![]),
        ] {
            let prompt = p.prompt(&req(input as u64, input, &ids));
            assert_eq!(
                prompt.tokens,
                Some(TokenCount {
                    count: input,
                    source: CountSource::Tokenizer
                }),
                "{input} {ids:?}"
            );
        }
        let a = p.prompt(&req(0, 250, &[1, 2, 3])).text;
        let b = p.prompt(&req(1, 250, &[1, 2, 4])).text;
        // The char tokenizer: a token is a character, so two blocks are 200.
        let shared = common_prefix(&a, &b);
        assert!((200..220).contains(&shared), "{shared}");
    }

    #[test]
    fn the_cache_is_bounded() {
        let mut p = TracePrompts::new(TextLang::En, 4, 0, true, None);
        for h in 0..(CACHED_BLOCKS as u64 * 2 + 5) {
            p.prompt(&req(h, 8, &[h, h + 1]));
        }
        assert!(p.cache.len() <= CACHED_BLOCKS);
    }
}
