//! Pseudo-tokens: pieces of text shaped like an LLM tokenizer's output.
//!
//! Rules (deterministic for a given seed):
//! - a run of CJK ideographs/kana/hangul is cut into pieces of 1 or 2
//!   characters (equally likely, so about 1.5 characters per token);
//! - CJK punctuation (`，。“”`) and any other punctuation is a token of its own;
//! - a word of Latin letters or digits is one token with its leading space
//!   (`" ferry"`) if it has at most 6 letters, otherwise pieces of 3–5 letters
//!   (`" pred"`, `"ictab"`, `"ility"`), about 4 characters per token;
//! - a run of newlines is one token, as is a run of spaces not before a word.

use tokenpace_core::text::{is_cjk, CharCount};

use crate::{text, SplitMix64, TextLang};

/// How [`estimate_tokens`] estimates, for reports and truth files.
pub const ESTIMATE_METHOD: &str = "ceil(cjk_chars/1.5 + other_chars/4)";

/// Estimates how many tokens a tokenizer would make of `text` without one:
/// `ceil(cjk/1.5 + other/4)` where `cjk` counts CJK characters (see
/// [`tokenpace_core::text::is_cjk`]) and `other` every other character.
pub fn estimate_tokens(text: &str) -> u64 {
    let count = CharCount::of(text);
    let cjk = u64::from(count.cjk);
    let other = u64::from(count.chars - count.cjk);
    // cjk/1.5 + other/4 = (8·cjk + 3·other) / 12, rounded up.
    (8 * cjk + 3 * other).div_ceil(12)
}

/// Splits `text` into pseudo-tokens; concatenating them gives `text` back.
pub fn split(text: &str, seed: u64) -> Vec<&str> {
    let mut rng = SplitMix64::new(seed);
    let mut pos = 0;
    let mut out = Vec::new();
    while pos < text.len() {
        let end = next_token_end(text, pos, &mut rng);
        out.push(&text[pos..end]);
        pos = end;
    }
    out
}

/// An endless stream of pseudo-tokens from a shipped text, wrapping around
/// at its end. The same language, seed and offset give the same tokens.
#[derive(Debug, Clone)]
pub struct PseudoTokens {
    text: &'static str,
    pos: usize,
    rng: SplitMix64,
}

impl PseudoTokens {
    /// Tokens from the start of `lang`'s text.
    pub fn new(lang: TextLang, seed: u64) -> Self {
        Self::at(lang, seed, 0)
    }

    /// Tokens starting near byte `offset` (taken modulo the text's length
    /// and moved forward to a character boundary).
    pub fn at(lang: TextLang, seed: u64, offset: usize) -> Self {
        let text = text(lang);
        let mut pos = offset % text.len();
        while !text.is_char_boundary(pos) {
            pos += 1;
        }
        PseudoTokens {
            text,
            pos: pos % text.len(),
            rng: SplitMix64::new(seed),
        }
    }

    /// The next `n` tokens joined into one string (e.g. a prompt).
    pub fn take_text(&mut self, n: usize) -> String {
        self.by_ref().take(n).collect()
    }

    /// The first `bytes` bytes of [`Self::take_text`]`(n)` (all of it when
    /// shorter), making only the tokens that reach them: a prompt cut to a
    /// known length need not make the whole room it was cut from.
    /// `bytes` must fall on a character boundary of that text.
    pub fn take_bytes(&mut self, n: usize, bytes: usize) -> String {
        let mut text = String::with_capacity(bytes + 16);
        for token in self.by_ref().take(n) {
            text.push_str(token);
            if text.len() >= bytes {
                text.truncate(bytes);
                break;
            }
        }
        text
    }
}

impl Iterator for PseudoTokens {
    type Item = &'static str;

    fn next(&mut self) -> Option<&'static str> {
        let start = self.pos;
        let end = next_token_end(self.text, start, &mut self.rng);
        self.pos = if end >= self.text.len() { 0 } else { end };
        Some(&self.text[start..end])
    }
}

/// Letters that continue a word: Latin letters, digits, an inner apostrophe.
fn is_word(c: char) -> bool {
    c.is_alphanumeric() && !is_cjk(c)
}

fn is_cjk_word(c: char) -> bool {
    is_cjk(c) && c.is_alphanumeric()
}

/// The end (byte index) of the token starting at `pos`; `pos < text.len()`.
fn next_token_end(text: &str, pos: usize, rng: &mut SplitMix64) -> usize {
    let rest = &text[pos..];
    let mut chars = rest.char_indices();
    let Some((_, first)) = chars.next() else {
        return text.len();
    };
    let after_first = pos + first.len_utf8();
    let run_end = |pred: fn(char) -> bool, max: usize| {
        rest.char_indices()
            .take(max)
            .take_while(|&(_, c)| pred(c))
            .last()
            .map_or(after_first, |(i, c)| pos + i + c.len_utf8())
    };
    if first == '\n' {
        return run_end(|c| c == '\n', usize::MAX);
    }
    if first == ' ' {
        let next = rest[1..].chars().next();
        return match next {
            Some(c) if is_word(c) => word_piece_end(text, after_first, rng),
            _ => run_end(|c| c == ' ', usize::MAX),
        };
    }
    if is_cjk_word(first) {
        let want = rng.range(1, 2) as usize;
        return run_end(is_cjk_word, want);
    }
    if is_word(first) {
        return word_piece_end(text, pos, rng);
    }
    after_first
}

/// The end of a word piece starting at `start` (a word character).
fn word_piece_end(text: &str, start: usize, rng: &mut SplitMix64) -> usize {
    let rest = &text[start..];
    // The word's letters, and an inner apostrophe followed by a letter.
    let word = rest.char_indices().take_while(|&(i, c)| {
        is_word(c) || (c == '\'' && i > 0 && rest[i + 1..].chars().next().is_some_and(is_word))
    });
    // Counted, not collected: this runs for every token of every prompt.
    let letters = word.clone().count();
    let take = if letters <= 6 {
        letters
    } else {
        let take = rng.range(3, 5) as usize;
        if letters - take < 2 {
            letters
        } else {
            take
        }
    };
    let mut word = word;
    match take.checked_sub(1).and_then(|k| word.nth(k)) {
        Some((i, c)) => start + i + c.len_utf8(),
        None => start + rest.chars().next().map_or(0, char::len_utf8),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chars_per_token(lang: TextLang) -> f64 {
        let text = text(lang);
        let tokens = split(text, 7);
        CharCount::of(text).chars as f64 / tokens.len() as f64
    }

    #[test]
    fn split_is_lossless_and_deterministic() {
        for lang in [TextLang::Zh, TextLang::En, TextLang::Mixed] {
            let t = text(lang);
            let a = split(t, 1);
            assert_eq!(a.concat(), t);
            assert_eq!(a, split(t, 1));
            assert!(a.iter().all(|p| !p.is_empty()));
        }
        assert_ne!(split(text(TextLang::En), 1), split(text(TextLang::En), 2));
    }

    #[test]
    fn token_sizes_look_like_a_tokenizer() {
        let zh = chars_per_token(TextLang::Zh);
        assert!((1.2..=2.0).contains(&zh), "zh {zh}");
        let en = chars_per_token(TextLang::En);
        assert!((3.5..=5.0).contains(&en), "en {en}");
    }

    #[test]
    fn english_words_keep_their_space_and_long_words_split() {
        let t = split("The predictability of ferries", 3);
        assert_eq!(t[0], "The");
        assert!(t[1].starts_with(" pre"), "{t:?}");
        assert!(t.contains(&" of"));
        assert!(t.iter().all(|p| p.trim_start().chars().count() <= 6));
        assert_eq!(split("don't stop", 0), vec!["don't", " stop"]);
    }

    #[test]
    fn chinese_pieces_are_one_or_two_chars_and_punctuation_alone() {
        let t = split("清晨六点，小镇的面包店已经亮起了灯。", 5);
        assert!(t.contains(&"，") && t.contains(&"。"));
        assert!(t.iter().all(|p| (1..=2).contains(&p.chars().count())));
    }

    #[test]
    fn pseudo_tokens_wrap_and_respect_offset() {
        let all = text(TextLang::Zh);
        let n = split(all, 9).len();
        let mut it = PseudoTokens::new(TextLang::Zh, 9);
        let first: String = it.take_text(n);
        assert_eq!(first, all);
        assert!(all.starts_with(it.next().unwrap_or_default()));
        // Any offset lands on a character boundary.
        for off in 0..12 {
            let t = PseudoTokens::at(TextLang::Zh, 1, off).take_text(3);
            assert!(!t.is_empty());
        }
        let a = PseudoTokens::at(TextLang::En, 4, 100).take_text(50);
        assert_eq!(a, PseudoTokens::at(TextLang::En, 4, 100).take_text(50));
    }

    #[test]
    fn take_bytes_is_the_start_of_take_text() {
        for lang in [TextLang::Zh, TextLang::En, TextLang::Mixed] {
            for seed in 0..4 {
                let tokens = || PseudoTokens::at(lang, seed, seed as usize * 7919);
                let whole = tokens().take_text(96);
                let bounds = (0..=whole.len()).filter(|&b| whole.is_char_boundary(b));
                for bytes in bounds.step_by(7).chain([whole.len(), whole.len() + 50]) {
                    let cut = tokens().take_bytes(96, bytes);
                    assert_eq!(
                        cut,
                        whole[..bytes.min(whole.len())],
                        "{lang} {seed} {bytes}"
                    );
                }
            }
        }
    }

    #[test]
    fn estimate_agrees_with_the_splitter() {
        // A prompt of n pseudo-tokens is estimated at about n tokens, so a
        // client and the simulator agree on prompt sizes.
        for lang in [TextLang::Zh, TextLang::En, TextLang::Mixed] {
            for seed in 0..5 {
                let n = 1000;
                let prompt = PseudoTokens::at(lang, seed, seed as usize * 997).take_text(n);
                let est = estimate_tokens(&prompt) as f64;
                assert!((est / n as f64 - 1.0).abs() < 0.15, "{lang}: {est} for {n}");
            }
        }
    }

    #[test]
    fn estimate_follows_the_documented_formula() {
        assert_eq!(estimate_tokens(""), 0);
        assert_eq!(estimate_tokens("abcd"), 1);
        assert_eq!(estimate_tokens("abcde"), 2);
        assert_eq!(estimate_tokens("你好你"), 2);
        assert_eq!(estimate_tokens("你好你好你好abcdefgh"), 6);
    }
}
