//! The language of labels. Numbers, units and ids stay the same in every
//! language, so outputs can be compared and parsed whatever the locale.

/// A language for labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Lang {
    /// 中文
    Zh,
    /// English
    En,
}

impl Lang {
    /// `--lang` if given, else the locale: Chinese when the first set of
    /// LC_ALL, LC_MESSAGES, LANG starts with "zh", English otherwise.
    pub fn resolve(flag: Option<Lang>) -> Lang {
        flag.unwrap_or_else(|| {
            Lang::from_locale(
                ["LC_ALL", "LC_MESSAGES", "LANG"]
                    .iter()
                    .filter_map(|k| std::env::var(k).ok())
                    .find(|v| !v.is_empty())
                    .as_deref(),
            )
        })
    }

    /// The language a locale string (such as `zh_CN.UTF-8`) asks for.
    pub fn from_locale(locale: Option<&str>) -> Lang {
        match locale {
            Some(l) if l.to_ascii_lowercase().starts_with("zh") => Lang::Zh,
            _ => Lang::En,
        }
    }

    /// Picks the text for this language.
    pub fn pick<'a>(self, en: &'a str, zh: &'a str) -> &'a str {
        match self {
            Lang::En => en,
            Lang::Zh => zh,
        }
    }

    /// The `lang` attribute of an HTML page.
    pub fn html_code(self) -> &'static str {
        self.pick("en", "zh-CN")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locale_picks_chinese_only_for_zh() {
        assert_eq!(Lang::from_locale(Some("zh_CN.UTF-8")), Lang::Zh);
        assert_eq!(Lang::from_locale(Some("zh_TW")), Lang::Zh);
        assert_eq!(Lang::from_locale(Some("C.UTF-8")), Lang::En);
        assert_eq!(Lang::from_locale(None), Lang::En);
        assert_eq!(Lang::resolve(Some(Lang::Zh)), Lang::Zh);
    }
}
