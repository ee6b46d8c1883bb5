//! An automatic prefix cache, like vLLM's: a prompt is cut into the
//! simulator's tokens, grouped into fixed blocks, and each full block is
//! named by a chained hash (the previous block's hash and this block's
//! tokens), so equal hashes mean equal prefixes. A request's cached tokens
//! are the blocks of its longest cached prefix, at most `prompt_tokens − 1`
//! so one token is always prefilled (as vLLM does).
//!
//! Tokens: each text is cut into exactly
//! [`tokenpace_corpus::estimate_tokens`] tokens, so the
//! cache and `prompt_tokens` agree. A CJK character weighs 8 and any other
//! 3 (twelfths of a token); token `k` holds the characters whose weight span
//! overlaps `[12k, 12k + 12)`. A longer text therefore keeps every token of
//! a shorter prefix of it except the last, partial one. A chat message's
//! role (and that a message starts) is folded into its first token, so the
//! rendered conversation, not just its words, is what is matched.
//!
//! Eviction is least-recently-used by block. A prompt's blocks are touched
//! last to first, so a chain's tail is evicted before its head and a shared
//! head (a system prompt) stays as long as it is used.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Mutex, PoisonError};

use tokenpace_core::text::is_cjk;
use tokenpace_wire::{PromptPart, RequestPrompt};

use crate::config::PrefixCacheConfig;

/// The cache, shared by every connection.
#[derive(Debug)]
pub struct PrefixBlockCache {
    enabled: bool,
    block_tokens: usize,
    capacity_blocks: usize,
    lru: Mutex<Lru>,
}

/// A prompt's tokens served from the cache and written to it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct CacheHit {
    /// Tokens read from the cache (they skip prefill).
    pub cached: u64,
    /// Tokens the prefill writes to the cache: its full blocks not held
    /// when it was looked up (Anthropic's `cache_creation_input_tokens`,
    /// vLLM's `created_cache_tokens`).
    pub created: u64,
}

/// Blocks by hash with their last use, and the reverse index for eviction.
#[derive(Debug, Default)]
struct Lru {
    used: HashMap<u64, u64>,
    by_age: BTreeMap<u64, u64>,
    clock: u64,
}

impl Lru {
    fn touch(&mut self, block: u64) {
        self.clock += 1;
        if let Some(old) = self.used.insert(block, self.clock) {
            self.by_age.remove(&old);
        }
        self.by_age.insert(self.clock, block);
    }
}

impl PrefixBlockCache {
    /// An empty cache with these settings (one that never hits when off).
    pub fn new(cfg: &PrefixCacheConfig) -> Self {
        let block_tokens = cfg.block_tokens.max(1);
        PrefixBlockCache {
            enabled: cfg.enabled,
            block_tokens,
            capacity_blocks: (cfg.capacity_tokens / block_tokens as u64) as usize,
            lru: Mutex::new(Lru::default()),
        }
    }

    /// Whether the cache is on (then usage reports cached tokens).
    pub fn enabled(&self) -> bool {
        self.enabled
    }

    /// The hashes of the prompt's full blocks (none when the cache is off).
    /// Computed outside the lock.
    pub fn blocks(&self, prompt: &RequestPrompt) -> Vec<u64> {
        if !self.enabled {
            return Vec::new();
        }
        let mut w = Walker::new(self.block_tokens);
        w.prompt(prompt);
        w.blocks
    }

    /// Tokens of the longest cached prefix of `blocks`, in whole blocks and
    /// below `prompt_tokens`; the blocks hit count as used.
    pub fn lookup(&self, blocks: &[u64], prompt_tokens: u64) -> u64 {
        self.hit(blocks, prompt_tokens).cached
    }

    /// What the cache does for a prompt of `prompt_tokens` cut into
    /// `blocks`: the tokens it serves ([`PrefixBlockCache::lookup`]) and those
    /// its prefill will write (the full blocks not held now).
    pub fn hit(&self, blocks: &[u64], prompt_tokens: u64) -> CacheHit {
        if !self.enabled || prompt_tokens == 0 {
            return CacheHit::default();
        }
        let most = ((prompt_tokens - 1) / self.block_tokens as u64).min(blocks.len() as u64);
        let mut lru = self.lock();
        let hit = blocks[..most as usize]
            .iter()
            .take_while(|b| lru.used.contains_key(b))
            .count();
        // A block past the hit may be held (the last block of a prompt
        // whose every block is cached is prefilled again): not written.
        let new = blocks[hit..]
            .iter()
            .filter(|b| !lru.used.contains_key(b))
            .count();
        for &b in blocks[..hit].iter().rev() {
            lru.touch(b);
        }
        CacheHit {
            cached: (hit * self.block_tokens) as u64,
            created: (new * self.block_tokens) as u64,
        }
    }

    /// Caches `blocks` (a prefilled prompt), evicting the least recently
    /// used blocks beyond capacity.
    pub fn insert(&self, blocks: &[u64]) {
        if !self.enabled {
            return;
        }
        let mut lru = self.lock();
        for &b in blocks.iter().rev() {
            lru.touch(b);
        }
        while lru.used.len() > self.capacity_blocks {
            let Some((_, oldest)) = lru.by_age.pop_first() else {
                break;
            };
            lru.used.remove(&oldest);
        }
    }

    /// Blocks held now.
    #[cfg(test)]
    fn len(&self) -> usize {
        self.lock().used.len()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Lru> {
        self.lru.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A prompt's length in the cache's tokens.
#[cfg(test)]
pub(crate) fn token_count(prompt: &RequestPrompt) -> u64 {
    let mut w = Walker::new(usize::MAX);
    w.prompt(prompt);
    w.tokens
}

const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

fn fnv(mut h: u64, bytes: &[u8]) -> u64 {
    for &b in bytes {
        h ^= u64::from(b);
        h = h.wrapping_mul(FNV_PRIME);
    }
    h
}

/// Walks a prompt's tokens, hashing each and chaining them into blocks.
struct Walker {
    block_tokens: usize,
    /// Tokens in the current block so far, and its running hash.
    in_block: usize,
    block: u64,
    prev: u64,
    /// Bytes (a message's role) to fold into the next token.
    header: Vec<u8>,
    blocks: Vec<u64>,
    tokens: u64,
}

impl Walker {
    fn new(block_tokens: usize) -> Self {
        Walker {
            block_tokens,
            in_block: 0,
            block: fnv(FNV_OFFSET, &0u64.to_le_bytes()),
            prev: 0,
            header: Vec::new(),
            blocks: Vec::new(),
            tokens: 0,
        }
    }

    fn prompt(&mut self, prompt: &RequestPrompt) {
        match prompt {
            RequestPrompt::Chat(messages) => {
                for m in messages {
                    // 0x1e (record separator) cannot be confused with text.
                    self.header.push(0x1e);
                    self.header.extend_from_slice(m.role.as_bytes());
                    for part in &m.parts {
                        self.text(part);
                    }
                    for call in &m.tool_calls {
                        self.text(&call.name);
                        self.text(&call.arguments);
                    }
                }
            }
            RequestPrompt::Completion(parts) => {
                for part in parts {
                    match part {
                        PromptPart::Text(t) => self.text(t),
                        PromptPart::Tokens(ids) => {
                            for id in ids {
                                let h = fnv(self.start_token(), &id.to_le_bytes());
                                self.push(h);
                            }
                        }
                    }
                }
            }
        }
    }

    /// A new token's hash state, with any pending header folded in.
    fn start_token(&mut self) -> u64 {
        let h = fnv(FNV_OFFSET, &self.header);
        self.header.clear();
        h
    }

    /// Cuts `text` into `estimate_tokens(text)` tokens (see the module docs).
    fn text(&mut self, text: &str) {
        let mut at = 0u64;
        let mut token = 0u64;
        let mut h = self.start_token();
        let mut buf = [0u8; 4];
        for c in text.chars() {
            let bytes = c.encode_utf8(&mut buf).as_bytes();
            let weight = if is_cjk(c) { 8 } else { 3 };
            let (first, last) = (at / 12, (at + weight - 1) / 12);
            at += weight;
            if first > token {
                self.push(h);
                h = self.start_token();
                token = first;
            }
            h = fnv(h, bytes);
            if last > first {
                self.push(h);
                h = fnv(self.start_token(), bytes);
                token = last;
            }
        }
        if at > 0 {
            self.push(h);
        }
    }

    fn push(&mut self, token: u64) {
        self.tokens += 1;
        self.block = fnv(self.block, &token.to_le_bytes());
        self.in_block += 1;
        if self.in_block == self.block_tokens {
            // A final mix so nearby states give unrelated block names.
            let mut z = self.block;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            let name = z ^ (z >> 31);
            self.blocks.push(name);
            self.prev = name;
            self.in_block = 0;
            self.block = fnv(FNV_OFFSET, &self.prev.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_corpus::{estimate_tokens, PseudoTokens, TextLang};
    use tokenpace_wire::{request, Endpoint};

    fn cache(block_tokens: usize, capacity_tokens: u64) -> PrefixBlockCache {
        PrefixBlockCache::new(&PrefixCacheConfig {
            enabled: true,
            block_tokens,
            capacity_tokens,
        })
    }

    fn chat(turns: &[(&str, &str)]) -> RequestPrompt {
        let messages: Vec<serde_json::Value> = turns
            .iter()
            .map(|(role, text)| serde_json::json!({"role": role, "content": text}))
            .collect();
        let body = serde_json::to_vec(&serde_json::json!({ "messages": messages })).unwrap();
        request::parse(Endpoint::Chat, &body, 10).unwrap().prompt
    }

    fn tokens(prompt: &RequestPrompt, block_tokens: usize) -> (u64, Vec<u64>) {
        let mut w = Walker::new(block_tokens);
        w.prompt(prompt);
        (w.tokens, w.blocks)
    }

    fn corpus(lang: TextLang, seed: u64, n: usize) -> String {
        PseudoTokens::new(lang, seed).take_text(n)
    }

    #[test]
    fn a_text_is_cut_into_as_many_tokens_as_it_is_estimated_at() {
        for lang in [TextLang::En, TextLang::Zh, TextLang::Mixed] {
            for seed in 0..40 {
                let text = corpus(lang, seed, seed as usize * 7);
                for cut in [0, text.len() / 3, text.len()] {
                    let cut = (cut..=text.len())
                        .find(|&i| text.is_char_boundary(i))
                        .unwrap();
                    let t = &text[..cut];
                    let (n, blocks) = tokens(
                        &RequestPrompt::Completion(vec![PromptPart::Text(t.into())]),
                        4,
                    );
                    assert_eq!(n, estimate_tokens(t), "{t:?}");
                    assert_eq!(blocks.len() as u64, n / 4);
                }
            }
        }
        let ids = RequestPrompt::Completion(vec![PromptPart::Tokens(vec![1, 2, 3])]);
        assert_eq!(tokens(&ids, 2).0, 3);
    }

    #[test]
    fn a_longer_conversation_shares_the_blocks_of_its_history() {
        let history = [
            ("system", corpus(TextLang::Mixed, 1, 150)),
            ("user", corpus(TextLang::Mixed, 2, 90)),
        ];
        let turns: Vec<(&str, &str)> = history.iter().map(|(r, t)| (*r, t.as_str())).collect();
        let first = chat(&turns);
        let mut longer = turns.clone();
        longer.push(("assistant", "Sure."));
        longer.push(("user", "And then?"));
        let second = chat(&longer);
        let (n1, b1) = tokens(&first, 16);
        let (n2, b2) = tokens(&second, 16);
        // Messages are cut one by one, so every full block of the history
        // starts the longer chat too.
        assert_eq!(b1.len() as u64, n1 / 16);
        assert!(n2 > n1 && b2.len() > b1.len());
        assert_eq!(b2[..b1.len()], b1[..]);
        // The same words under another role are another prompt.
        let other = chat(&[("user", &history[0].1), ("user", &history[1].1)]);
        assert_ne!(tokens(&other, 16).1[0], b1[0]);
    }

    #[test]
    fn hits_are_whole_blocks_of_the_longest_cached_prefix() {
        let c = cache(4, 1024);
        let a: Vec<u64> = (1..=5).collect();
        assert_eq!(c.lookup(&a, 22), 0, "a cold cache misses");
        c.insert(&a);
        // 22 tokens = 5 full blocks and 2 more: all 5 blocks hit.
        assert_eq!(c.lookup(&a, 22), 20);
        // A prompt diverging in its third block hits the first two.
        let b = [1, 2, 99, 4, 5];
        assert_eq!(c.lookup(&b, 22), 8);
        // The chain breaks at the first miss, even if later blocks are held.
        assert_eq!(c.lookup(&[7, 2, 3], 12), 0);
    }

    #[test]
    fn blocks_not_held_are_created() {
        let c = cache(4, 1024);
        let a: Vec<u64> = (1..=5).collect();
        // Cold: every full block is written (22 tokens: 5 blocks + 2).
        assert_eq!(
            c.hit(&a, 22),
            CacheHit {
                cached: 0,
                created: 20
            }
        );
        c.insert(&a[..3]);
        assert_eq!(
            c.hit(&a, 22),
            CacheHit {
                cached: 12,
                created: 8
            }
        );
        c.insert(&a);
        assert_eq!(
            c.hit(&a, 22),
            CacheHit {
                cached: 20,
                created: 0
            }
        );
        // Every block held: the last is prefilled again but not written.
        assert_eq!(
            c.hit(&a, 20),
            CacheHit {
                cached: 16,
                created: 0
            }
        );
    }

    #[test]
    fn at_least_one_token_is_prefilled() {
        let c = cache(4, 1024);
        let a = [1, 2, 3];
        c.insert(&a);
        // 12 tokens, all cached: the last block is prefilled again.
        assert_eq!(c.lookup(&a, 12), 8);
        assert_eq!(c.lookup(&a, 13), 12);
        assert_eq!(c.lookup(&a, 1), 0);
        assert_eq!(c.lookup(&[], 0), 0);
    }

    #[test]
    fn least_recently_used_blocks_are_evicted_at_capacity() {
        // Room for 4 blocks of 4 tokens.
        let c = cache(4, 16);
        c.insert(&[1, 2]);
        c.insert(&[3, 4]);
        // Using chain 1 makes chain 2 the older.
        assert_eq!(c.lookup(&[1, 2], 100), 8);
        c.insert(&[5, 6]);
        assert_eq!(c.len(), 4);
        assert_eq!(c.lookup(&[1, 2], 100), 8);
        assert_eq!(c.lookup(&[3, 4], 100), 0);
        assert_eq!(c.lookup(&[5, 6], 100), 8);
        // A chain longer than the cache keeps its head, not its tail.
        c.insert(&[10, 11, 12, 13, 14, 15]);
        assert_eq!(c.len(), 4);
        assert_eq!(c.lookup(&[10, 11, 12, 13, 14, 15], 100), 16);
    }

    #[test]
    fn a_disabled_cache_never_hits() {
        let c = PrefixBlockCache::new(&PrefixCacheConfig {
            enabled: false,
            ..PrefixCacheConfig::default()
        });
        let p = chat(&[("user", &corpus(TextLang::En, 3, 200))]);
        let blocks = c.blocks(&p);
        c.insert(&blocks);
        c.insert(&[1, 2, 3]);
        assert_eq!(c.lookup(&[1, 2, 3], 1000), 0);
        assert!(!c.enabled() && blocks.is_empty());
        let on = PrefixBlockCache::new(&PrefixCacheConfig::default());
        let blocks = on.blocks(&p);
        assert!(!blocks.is_empty());
        on.insert(&blocks);
        assert!(on.lookup(&blocks, 200) > 0);
    }
}
