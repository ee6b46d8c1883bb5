//! Counting what a reader sees: characters and CJK characters.
//!
//! Output speed in the seed is "characters per second", and for Chinese that
//! means Han characters. We count Unicode scalar values (`char`s), not bytes
//! and not grapheme clusters, so the count is cheap, exact and the same in
//! every language binding (Python's `len(str)` gives the same number).

use serde::{Deserialize, Serialize};

/// Characters in a piece of text: all of them, and the CJK ones among them.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema,
)]
pub struct CharCount {
    /// Unicode scalar values (what `str::chars` yields).
    pub chars: u32,
    /// Of those, characters that are CJK ideographs, kana, hangul or CJK
    /// punctuation (see [`is_cjk`]).
    pub cjk: u32,
}

impl CharCount {
    /// Counts the characters of `text`.
    pub fn of(text: &str) -> Self {
        let mut count = CharCount::default();
        for c in text.chars() {
            count.chars = count.chars.saturating_add(1);
            if is_cjk(c) {
                count.cjk = count.cjk.saturating_add(1);
            }
        }
        count
    }

    /// Adds another count to this one (saturating: a count never wraps).
    pub fn add(&mut self, other: CharCount) {
        self.chars = self.chars.saturating_add(other.chars);
        self.cjk = self.cjk.saturating_add(other.cjk);
    }
}

/// Whether `c` is a CJK character a reader reads as one unit: Han ideographs
/// (all blocks and extensions), CJK symbols and punctuation, full-width forms,
/// Japanese kana and Korean hangul.
pub fn is_cjk(c: char) -> bool {
    matches!(c as u32,
        0x2E80..=0x2FDF     // CJK radicals, Kangxi radicals
        | 0x3000..=0x303F   // CJK symbols and punctuation (。、「」…)
        | 0x3040..=0x30FF   // hiragana, katakana
        | 0x3100..=0x312F   // bopomofo
        | 0x3190..=0x31FF   // kanbun, bopomofo ext., CJK strokes, katakana ext.
        | 0x3400..=0x4DBF   // CJK ext. A
        | 0x4E00..=0x9FFF   // CJK unified ideographs
        | 0xAC00..=0xD7AF   // hangul syllables
        | 0xF900..=0xFAFF   // CJK compatibility ideographs
        | 0xFE30..=0xFE4F   // CJK compatibility forms
        | 0xFF00..=0xFFEF   // half- and full-width forms (，！？)
        | 0x20000..=0x323AF // CJK ext. B–H and compatibility supplement
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_chars_not_bytes() {
        let c = CharCount::of("今天天气如何?ok");
        assert_eq!(c.chars, 9);
        assert_eq!(c.cjk, 6);
        assert_eq!("今天天气如何?ok".len(), 21);
    }

    #[test]
    fn cjk_punctuation_and_extensions_count() {
        let c = CharCount::of("你好，世界。𠀀");
        assert_eq!(c, CharCount { chars: 7, cjk: 7 });
        assert_eq!(CharCount::of("hello, world").cjk, 0);
        assert_eq!(CharCount::of("こんにちは 안녕").cjk, 7);
    }

    #[test]
    fn add_saturates() {
        let mut c = CharCount {
            chars: u32::MAX,
            cjk: 1,
        };
        c.add(CharCount { chars: 5, cjk: 2 });
        assert_eq!(
            c,
            CharCount {
                chars: u32::MAX,
                cjk: 3
            }
        );
    }
}
