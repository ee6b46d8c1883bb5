//! Labels in the user's language. Numbers, units and ids stay the same in
//! every language so output can be compared and parsed.

use clap::ValueEnum;
use tokenpace_core::metric::Metric;

/// A language for labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
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

    /// A metric's human label.
    pub fn metric(self, m: Metric) -> &'static str {
        let (en, zh) = match m {
            Metric::TtftS => ("time to first token", "首字延迟"),
            Metric::TtfvS => ("time to first visible char", "首个可见字延迟"),
            Metric::PrefillTokS => ("prefill", "预填充速度"),
            Metric::ServerPrefillTokS => ("prefill, server-reported", "预填充速度（服务器报告）"),
            Metric::ServerDecodeTokS => ("decode, server-reported", "解码速度（服务器报告）"),
            Metric::DecodeTokS => ("decode", "解码速度"),
            Metric::OutputCharsS => ("output speed", "输出速度"),
            Metric::ItlS => ("inter-token latency", "字间延迟"),
            Metric::E2eS => ("end-to-end latency", "端到端延迟"),
            Metric::LongestStallS => ("longest stall", "最长停顿"),
            Metric::Stalls => ("stalls", "停顿次数"),
            Metric::CharsPerToken => ("characters per token", "每 token 字数"),
            Metric::ScheduleLagS => ("schedule lag", "调度滞后"),
            Metric::PromptTokens => ("prompt tokens", "提示 token 数"),
            Metric::OutputTokens => ("output tokens", "输出 token 数"),
        };
        self.pick(en, zh)
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

    #[test]
    fn every_metric_has_both_labels() {
        for m in Metric::ALL {
            assert!(!Lang::En.metric(m).is_empty());
            assert_ne!(Lang::En.metric(m), Lang::Zh.metric(m));
        }
    }
}
