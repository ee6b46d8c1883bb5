//! A measurement as `bench` hands it on: the HTML report and the exit
//! status (its typed output is [`crate::output::bench`]'s).

use crate::Status;
use std::path::Path;
use tokenpace_core::profile::Profile;
use tokenpace_present::Lang;
use tokenpace_runner::LevelResult;

/// How a run ended: interrupted (Ctrl-C) before a missed `--fail-below`,
/// so a script can tell a cut-short run from a slow one.
pub(super) fn status(partial: bool, below: bool) -> Status {
    if partial {
        Status::Interrupted
    } else if below {
        Status::BelowTier
    } else {
        Status::Ok
    }
}

/// Writes the HTML report of `levels`, each with its name, to `path`.
pub(super) fn write_report<'a>(
    path: &Path,
    title: &str,
    levels: impl IntoIterator<Item = (String, &'a LevelResult)>,
    profile: &Profile,
    lang: Lang,
) -> anyhow::Result<()> {
    let levels: Vec<tokenpace_report::Level> = levels
        .into_iter()
        .map(|(name, r)| tokenpace_report::Level {
            name,
            summary: r.summary.clone(),
            records: r.records.clone(),
        })
        .collect();
    let html = tokenpace_report::Html {
        lang,
        title,
        profile,
    };
    crate::output::report::write_html(path, &html, &levels)?;
    crate::progress::note(format_args!(
        "{} {}",
        lang.pick("report written to", "报告已写入"),
        path.display()
    ));
    Ok(())
}

/// A run's title from its URL: host and path, without the scheme.
pub(super) fn target_name(url: &str) -> String {
    url.split("://")
        .nth(1)
        .unwrap_or(url)
        .trim_end_matches('/')
        .to_string()
}
