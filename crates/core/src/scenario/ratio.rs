//! Where a scenario's characters-per-token ratio comes from: given, a
//! tokenizer family's published figure, measured with the model's
//! tokenizer on sample text, or measured in a run. Each gives the ratio and
//! a sentence naming its source (shown with the plan and kept in its JSON,
//! [`super::Scenario::chars_per_token_source`]).

use crate::metric::Metric;
use crate::setting::Setting;
use crate::stats::Statistic;
use crate::summary::RunSummary;
use crate::text::CharCount;
use crate::tokenizer_family::{family, family_ids};
use std::path::{Path, PathBuf};

/// A characters-per-token ratio and its source.
pub type Ratio = (f64, String);

/// Why a ratio could not be had.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RatioError {
    /// No tokenizer family has this id.
    #[error("unknown tokenizer family '{0}': use one of {ids}, or give {flag}", flag = Setting::CharsPerToken, ids = family_ids())]
    UnknownFamily(String),
    /// The run has no characters-per-token measurement.
    #[error("run '{0}' has no characters-per-token measurement (it needs output token counts from the server or a tokenizer); give {flag} instead", flag = Setting::CharsPerToken)]
    NotInRun(String),
}

/// Where the ratio is to come from, as the flags say (before any file is
/// read).
#[derive(Debug, Clone, PartialEq)]
pub enum RatioSource {
    /// Given as a number (`--chars-per-token`).
    Given(f64),
    /// A tokenizer family's published figure (`--tokenizer-family`).
    Family(String),
    /// Measured with this tokenizer file on sample text (`--tokenizer`).
    Tokenizer(PathBuf),
    /// Measured in this run (`--from-run`).
    Run(PathBuf),
}

impl RatioSource {
    /// The ratio: `count` tokenizes `sample` with a tokenizer file, `read_run`
    /// reads a run summary (the caller's I/O).
    pub fn resolve<E: From<RatioError>>(
        &self,
        sample: &str,
        count: impl FnOnce(&Path, &str) -> Result<u32, E>,
        read_run: impl FnOnce(&Path) -> Result<RunSummary, E>,
    ) -> Result<Ratio, E> {
        match self {
            RatioSource::Given(r) => Ok(given(*r)),
            RatioSource::Family(id) => Ok(of_family(id)?),
            RatioSource::Tokenizer(path) => {
                measure(&path.display().to_string(), sample, |s| count(path, s))
            }
            RatioSource::Run(path) => Ok(from_run(&path.display().to_string(), &read_run(path)?)?),
        }
    }
}

/// A ratio given on the command line.
pub fn given(ratio: f64) -> Ratio {
    (ratio, format!("{} {ratio}", Setting::CharsPerToken))
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
        assert_eq!(given(1.5), (1.5, format!("{} 1.5", Setting::CharsPerToken)));
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
    fn a_source_reads_only_what_it_names() {
        let no_run = |_: &Path| -> Result<RunSummary, RatioError> { panic!("no run to read") };
        let count = |p: &Path, s: &str| -> Result<u32, RatioError> {
            assert_eq!(p, Path::new("tok.json"));
            Ok(CharCount::of(s).chars)
        };
        let measured = RatioSource::Tokenizer("tok.json".into()).resolve("你好", count, no_run);
        assert_eq!(measured.unwrap().0, 1.0);
        let no_count = |_: &Path, _: &str| -> Result<u32, RatioError> { panic!("no tokenizer") };
        let family = RatioSource::Family("llama2".into()).resolve("", no_count, no_run);
        assert_eq!(family.unwrap().0, 0.7);
        let run = RatioSource::Run("runs/a".into()).resolve("", no_count, |_| {
            Ok(RunSummary::from_records(
                &[],
                crate::summary::RunSettings::default(),
                crate::summary::Environment::default(),
            ))
        });
        assert_eq!(run.unwrap_err(), RatioError::NotInRun("runs/a".into()));
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
            err.contains("runs/a") && err.contains(&Setting::CharsPerToken.to_string()),
            "{err}"
        );
    }
}
