//! One exporter per output format, behind one small trait (as hyperfine's
//! `export/` does): a command hands its typed result to [`export`] and
//! never formats output itself.

use crate::doc::Document;
use crate::lang::Lang;
use crate::table::{self, Table};
use serde::Serialize;
use tokenpace_core::setting::Setting;

/// A command's result, ready for every format: it serialises itself for
/// JSON, lays itself out as a [`Document`] for people, and, where it is a
/// list of like rows (levels of a sweep, runs), gives them as a table for
/// CSV.
pub trait Output: Serialize {
    /// The human-readable layout, in `lang`.
    fn document(&self, lang: Lang) -> Document;

    /// One row per item with every value at full precision, or `None` when
    /// the result has no natural rows.
    fn csv(&self) -> Option<Table> {
        None
    }
}

/// Turns a result into the text of one format.
pub trait Exporter<R: ?Sized> {
    /// The result as text, ending with a newline.
    fn export(&self, result: &R) -> Result<String, ExportError>;
}

/// Why a result could not be exported.
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// The result has no rows for CSV.
    #[error(
        "{} csv needs a result made of rows (a run or a sweep); this one is not: use {} json",
        Setting::Format,
        Setting::Format
    )]
    NoCsv,
    /// Serialising failed (a bug: every result serialises).
    #[error("could not write JSON: {0}")]
    Json(#[from] serde_json::Error),
}

/// How results are printed (`--format`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[cfg_attr(feature = "clap", derive(clap::ValueEnum))]
pub enum Format {
    /// Aligned text for a terminal.
    #[default]
    Table,
    /// One JSON document, for scripts (its schema is in schemas/).
    Json,
    /// Markdown, for pull-request comments.
    Markdown,
    /// One CSV row per level or run, every statistic at full precision.
    Csv,
}

/// Aligned text for a terminal.
#[derive(Debug, Clone, Copy)]
pub struct Terminal(pub Lang);

/// GitHub-flavoured Markdown.
#[derive(Debug, Clone, Copy)]
pub struct Markdown(pub Lang);

/// Pretty-printed JSON.
#[derive(Debug, Clone, Copy)]
pub struct Json;

/// Comma-separated values, header first.
#[derive(Debug, Clone, Copy)]
pub struct Csv;

impl<R: Output + ?Sized> Exporter<R> for Terminal {
    fn export(&self, result: &R) -> Result<String, ExportError> {
        Ok(result.document(self.0).to_terminal())
    }
}

impl<R: Output + ?Sized> Exporter<R> for Markdown {
    fn export(&self, result: &R) -> Result<String, ExportError> {
        Ok(result.document(self.0).to_markdown())
    }
}

impl<R: Serialize + ?Sized> Exporter<R> for Json {
    fn export(&self, result: &R) -> Result<String, ExportError> {
        Ok(serde_json::to_string_pretty(result)? + "\n")
    }
}

impl<R: Output + ?Sized> Exporter<R> for Csv {
    fn export(&self, result: &R) -> Result<String, ExportError> {
        result
            .csv()
            .map(|t| table::csv(&t))
            .ok_or(ExportError::NoCsv)
    }
}

/// `result` in `format`, labels in `lang`.
pub fn export<R: Output + ?Sized>(
    result: &R,
    format: Format,
    lang: Lang,
) -> Result<String, ExportError> {
    match format {
        Format::Table => Terminal(lang).export(result),
        Format::Markdown => Markdown(lang).export(result),
        Format::Json => Json.export(result),
        Format::Csv => Csv.export(result),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Align;

    #[derive(Serialize)]
    struct Levels {
        levels: Vec<(String, f64)>,
    }

    impl Output for Levels {
        fn document(&self, lang: Lang) -> Document {
            let mut d = Document::new();
            d.title(lang.pick("levels", "档位"));
            for (name, v) in &self.levels {
                d.item(format!("{name}: {v}"));
            }
            d
        }

        fn csv(&self) -> Option<Table> {
            let mut t = Table::new(&[("level", Align::Left), ("value", Align::Right)]);
            for (name, v) in &self.levels {
                t.row(vec![name.clone(), v.to_string()]);
            }
            Some(t)
        }
    }

    struct NoRows;
    impl Serialize for NoRows {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_unit()
        }
    }
    impl Output for NoRows {
        fn document(&self, _: Lang) -> Document {
            Document::new()
        }
    }

    #[test]
    fn every_format_from_one_result() {
        let r = Levels {
            levels: vec![("c1".into(), 0.5), ("c2".into(), 1.25)],
        };
        assert_eq!(
            export(&r, Format::Table, Lang::En).unwrap(),
            "levels\n  c1: 0.5\n  c2: 1.25\n"
        );
        assert_eq!(
            export(&r, Format::Markdown, Lang::Zh).unwrap(),
            "**档位**\n- c1: 0.5\n- c2: 1.25\n"
        );
        assert_eq!(
            export(&r, Format::Csv, Lang::En).unwrap(),
            "level,value\nc1,0.5\nc2,1.25\n"
        );
        let json: serde_json::Value =
            serde_json::from_str(&export(&r, Format::Json, Lang::En).unwrap()).unwrap();
        assert_eq!(json["levels"][1][1], 1.25);
    }

    #[test]
    fn csv_of_a_result_without_rows_says_what_to_use() {
        let e = export(&NoRows, Format::Csv, Lang::En).unwrap_err();
        assert!(
            e.to_string().contains(&format!("{} json", Setting::Format)),
            "{e}"
        );
    }
}
