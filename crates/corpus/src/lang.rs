//! The shipped texts, by language.

use std::fmt;
use std::str::FromStr;
use std::sync::OnceLock;

const ZH: &str = include_str!("text/zh.txt");
const EN: &str = include_str!("text/en.txt");

/// Which prose to draw text from. The one definition of the prose
/// languages: flags (feature `clap`) and config files (feature `serde`)
/// take it as `zh`, `en` or `mixed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
#[cfg_attr(
    feature = "serde",
    derive(serde::Serialize, serde::Deserialize),
    serde(rename_all = "snake_case")
)]
pub enum TextLang {
    /// Chinese prose.
    Zh,
    /// English prose.
    En,
    /// Chinese and English paragraphs, alternating.
    #[default]
    Mixed,
}

impl TextLang {
    /// The lowercase name used in flags and files (`zh`, `en`, `mixed`).
    pub fn as_str(self) -> &'static str {
        match self {
            TextLang::Zh => "zh",
            TextLang::En => "en",
            TextLang::Mixed => "mixed",
        }
    }
}

impl fmt::Display for TextLang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A language name that is not `zh`, `en` or `mixed`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseLangError(pub String);

impl fmt::Display for ParseLangError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "unknown language '{}': use zh, en or mixed", self.0)
    }
}

impl std::error::Error for ParseLangError {}

impl FromStr for TextLang {
    type Err = ParseLangError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "zh" => Ok(TextLang::Zh),
            "en" => Ok(TextLang::En),
            "mixed" => Ok(TextLang::Mixed),
            other => Err(ParseLangError(other.to_owned())),
        }
    }
}

/// The whole text of a language. Never empty.
pub fn text(lang: TextLang) -> &'static str {
    match lang {
        TextLang::Zh => ZH,
        TextLang::En => EN,
        TextLang::Mixed => mixed(),
    }
}

/// Paragraphs of Chinese and English taken in turn, built once.
fn mixed() -> &'static str {
    static MIXED: OnceLock<String> = OnceLock::new();
    MIXED.get_or_init(|| {
        let zh: Vec<&str> = paragraphs(ZH).collect();
        let en: Vec<&str> = paragraphs(EN).collect();
        let mut out = String::with_capacity(ZH.len() + EN.len() + 64);
        for i in 0..zh.len().max(en.len()) {
            for side in [&zh, &en] {
                if let Some(p) = side.get(i) {
                    out.push_str(p);
                    out.push_str("\n\n");
                }
            }
        }
        out
    })
}

fn paragraphs(text: &str) -> impl Iterator<Item = &str> {
    text.split("\n\n").map(str::trim).filter(|p| !p.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::text::CharCount;

    #[test]
    fn texts_are_a_few_kb_and_in_their_language() {
        let zh = CharCount::of(text(TextLang::Zh));
        assert!(text(TextLang::Zh).len() > 3000);
        assert!(zh.cjk * 10 > zh.chars * 8, "{zh:?}");
        let en = CharCount::of(text(TextLang::En));
        assert!(text(TextLang::En).len() > 3000);
        assert_eq!(en.cjk, 0);
        let mixed = CharCount::of(text(TextLang::Mixed));
        assert!(mixed.cjk >= zh.cjk && mixed.chars >= zh.chars + en.chars - 40);
    }

    #[test]
    fn names_round_trip() {
        for lang in [TextLang::Zh, TextLang::En, TextLang::Mixed] {
            assert_eq!(lang.as_str().parse::<TextLang>(), Ok(lang));
        }
        assert!("fr".parse::<TextLang>().is_err());
    }

    #[cfg(feature = "clap")]
    #[test]
    fn flag_values_are_the_names() {
        use clap::ValueEnum;
        for lang in TextLang::value_variants() {
            let value = lang.to_possible_value().unwrap();
            assert_eq!(value.get_name(), lang.as_str());
            assert!(value.get_help().is_some());
        }
    }

    #[cfg(feature = "serde")]
    #[test]
    fn serde_uses_the_names() {
        #[derive(serde::Serialize, serde::Deserialize)]
        struct Cfg {
            lang: TextLang,
        }
        let v: Cfg =
            serde::Deserialize::deserialize(serde::de::value::MapDeserializer::<
                _,
                serde::de::value::Error,
            >::new([("lang", "mixed")].into_iter()))
            .unwrap();
        assert_eq!(v.lang, TextLang::Mixed);
    }
}
