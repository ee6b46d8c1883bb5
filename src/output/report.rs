//! `tokenpace report`'s result: the page it wrote. Also the one place that
//! writes a report page to a file (`report`, and `bench --html`).

use anyhow::Context;
use serde::Serialize;
use std::path::Path;
use tokenpace_present::{Align, Document, Exporter, Format, Lang, Output, Table};
use tokenpace_report::{Html, Level};

/// A report page written to a file.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ReportOutput {
    /// Where the page was written.
    pub path: String,
    /// Its size in bytes.
    pub bytes: usize,
    /// The load levels it shows (1 for a plain run).
    pub levels: usize,
}

impl Output for ReportOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        d.line(format!(
            "{} {} ({} kB, {} {})",
            lang.pick("wrote", "已写入"),
            self.path,
            self.bytes.div_ceil(1000),
            self.levels,
            lang.pick("level(s)", "个档位")
        ));
        d
    }

    /// One row: the path, its size in bytes and its levels.
    fn csv(&self) -> Option<Table> {
        let mut t = Table::new(&["path", "bytes", "levels"].map(|h| (h, Align::Left)));
        t.row(vec![
            self.path.clone(),
            self.bytes.to_string(),
            self.levels.to_string(),
        ]);
        Some(t)
    }
}

/// Refuses a `--format` the line saying what `report` wrote has no form
/// in, before anything is read or written: the page itself is HTML.
pub fn check_format(format: Format) -> anyhow::Result<()> {
    if format == Format::Markdown {
        anyhow::bail!(
            "--format markdown: `report` writes an HTML page and prints one line saying where (--format table, json or csv); for a run's results in Markdown use `tokenpace grade --summary RUN_DIR --format markdown`, or `--format markdown` on bench, merge or compare"
        );
    }
    Ok(())
}

/// Writes the page `html` makes of `levels` to `path`.
pub fn write_html(path: &Path, html: &Html, levels: &[Level]) -> anyhow::Result<ReportOutput> {
    let page = html.export(levels)?;
    std::fs::write(path, &page)
        .with_context(|| format!("could not write the report to '{}'", path.display()))?;
    Ok(ReportOutput {
        path: path.display().to_string(),
        bytes: page.len(),
        levels: levels.len(),
    })
}
