//! Where a scenario's characters-per-token ratio comes from: given, a
//! tokenizer family's published figure, measured with the model's
//! tokenizer on sample text, or measured in a run. Each gives the ratio and
//! a sentence naming its source (shown with the plan and kept in its JSON,
//! [`super::Scenario::chars_per_token_source`]).

use crate::metric::Metric;
use crate::stats::Statistic;
use crate::summary::RunSummary;
use crate::text::CharCount;
use crate::tokenizer_family::{family, family_ids};

/// A characters-per-token ratio and its source.
pub type Ratio = (f64, String);

/// Why a ratio could not be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RatioError {
    /// No tokenizer family has this id.
    #[error("unknown tokenizer family '{0}': use one of {ids}, or give --chars-per-token", ids = family_ids())]
    UnknownFamily(String),
    /// The run has no characters-per-token measurement.
    #[error("run '{0}' has no characters-per-token measurement (it needs output token counts from the server or a tokenizer); give --chars-per-token instead")]
    NotInRun(String),
}

/// A ratio given on the command line.
pub fn given(ratio: f64) -> Ratio {
    (ratio, format!("--chars-per-token {ratio}"))
}

/// A tokenizer family's published ratio on Chinese prose.
pub fn of_family(id: &str) -> Result<Ratio, RatioError> {
    let f = family(id).ok_or_else(|| RatioError::UnknownFamily(id.to_string()))?;
    Ok((
        f.zh_chars_per_token,
        format!(
            "{} tokenizer family ({}); source: {}",
            f.id, f.models, f.source
        ),
    ))
}

/// The ratio on `sample` (Chinese sample text): its visible characters ÷
/// the tokens `count` (the model's tokenizer, named `tokenizer`) makes of
/// it. An empty tokenisation counts as one token.
pub fn measure<E>(
    tokenizer: &str,
    sample: &str,
    count: impl FnOnce(&str) -> Result<u32, E>,
) -> Result<Ratio, E> {
    let chars = CharCount::of(sample).chars;
    let tokens = count(sample)?.max(1);
    Ok((
        f64::from(chars) / f64::from(tokens),
        format!(
            "measured with '{tokenizer}' on tokenpace's Chinese sample text ({chars} characters, {tokens} tokens)"
        ),
    ))
}

/// The mean ratio measured in a run (named `run`).
pub fn from_run(run: &str, summary: &RunSummary) -> Result<Ratio, RatioError> {
    let stats = summary
        .metrics
        .get(&Metric::CharsPerToken)
        .ok_or_else(|| RatioError::NotInRun(run.to_string()))?;
    Ok((
        stats.get(Statistic::Mean),
        format!("measured in run '{run}' (mean over {} requests)", stats.n),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_source_names_itself() {
        assert_eq!(given(1.5), (1.5, "--chars-per-token 1.5".to_string()));
        let (r, source) = of_family("qwen").unwrap();
        assert!(
            r > 1.0 && source.starts_with("qwen tokenizer family"),
            "{source}"
        );
        let err = of_family("gpt9").unwrap_err().to_string();
        assert!(err.contains("'gpt9'") && err.contains("llama2"), "{err}");
    }

    #[test]
    fn measuring_divides_characters_by_tokens() {
        let (r, source) = measure("t.json", "你好世界", |_| Ok::<u32, ()>(2)).unwrap();
        assert_eq!(r, 2.0);
        assert!(source.contains("4 characters, 2 tokens"), "{source}");
        // No tokens is one token, never a division by zero.
        assert_eq!(measure("t", "你好", |_| Ok::<u32, ()>(0)).unwrap().0, 2.0);
        assert_eq!(
            measure("t", "你好", |_| Err("no tokenizer")),
            Err("no tokenizer")
        );
    }

    #[test]
    fn a_run_without_token_counts_has_no_ratio() {
        let empty: RunSummary = RunSummary::from_records(
            &[],
            crate::summary::RunSettings::default(),
            crate::summary::Environment::default(),
        );
        let err = from_run("runs/a", &empty).unwrap_err().to_string();
        assert!(
            err.contains("runs/a") && err.contains("--chars-per-token"),
            "{err}"
        );
    }
}
