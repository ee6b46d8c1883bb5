//! A table built once and printed by each exporter: aligned text for a
//! terminal (CJK characters count as two columns), a Markdown table, or CSV
//! rows.

use crate::{markdown, terminal};
use std::borrow::Cow;
use unicode_width::UnicodeWidthStr;

/// Column alignment.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text columns.
    Left,
    /// Number columns.
    Right,
}

/// A table with a header row.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Table {
    /// Column headers.
    pub header: Vec<String>,
    /// Alignment per column (missing entries are left-aligned).
    pub align: Vec<Align>,
    /// Rows of cells.
    pub rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these headers and alignments.
    pub fn new(columns: &[(&str, Align)]) -> Table {
        Table {
            header: columns.iter().map(|c| c.0.to_string()).collect(),
            align: columns.iter().map(|c| c.1).collect(),
            rows: Vec::new(),
        }
    }

    /// Appends a row.
    pub fn row(&mut self, cells: Vec<String>) {
        self.rows.push(cells);
    }
}

fn widths(table: &Table) -> Vec<usize> {
    let mut w: Vec<usize> = table.header.iter().map(|h| h.width()).collect();
    for row in &table.rows {
        for (i, cell) in row.iter().enumerate() {
            if i >= w.len() {
                w.push(0);
            }
            w[i] = w[i].max(cell.width());
        }
    }
    w
}

fn pad(cell: &str, width: usize, align: Align) -> String {
    let fill = " ".repeat(width.saturating_sub(cell.width()));
    match align {
        Align::Left => format!("{cell}{fill}"),
        Align::Right => format!("{fill}{cell}"),
    }
}

/// Aligned columns, two spaces apart, with a rule under the header; every
/// cell on one line with control characters escaped
/// ([`terminal::line`]).
pub fn terminal(table: &Table) -> String {
    let shown = |cells: &[String]| -> Vec<String> {
        cells
            .iter()
            .map(|c| terminal::line(c).into_owned())
            .collect()
    };
    let table = &Table {
        header: shown(&table.header),
        align: table.align.clone(),
        rows: table.rows.iter().map(|r| shown(r)).collect(),
    };
    let w = widths(table);
    let line = |cells: &[String]| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, w[i], *table.align.get(i).unwrap_or(&Align::Left)))
            .collect();
        format!("  {}\n", padded.join("  ").trim_end())
    };
    let mut out = line(&table.header);
    let rule: Vec<String> = w.iter().map(|&n| "─".repeat(n)).collect();
    out.push_str(&format!("  {}\n", rule.join("  ")));
    for row in &table.rows {
        out.push_str(&line(row));
    }
    out
}

/// A GitHub-flavoured Markdown table, every cell escaped and on one line
/// ([`markdown::escape`]).
pub fn markdown(table: &Table) -> String {
    let row = |cells: &[String]| {
        let cells: Vec<Cow<str>> = cells.iter().map(|c| markdown::escape(c)).collect();
        format!("| {} |\n", cells.join(" | "))
    };
    let mut out = row(&table.header);
    let rule: Vec<String> = (0..table.header.len())
        .map(|i| match table.align.get(i) {
            Some(Align::Right) => "---:".to_string(),
            _ => "---".to_string(),
        })
        .collect();
    out.push_str(&format!("|{}|\n", rule.join("|")));
    for r in &table.rows {
        out.push_str(&row(r));
    }
    out
}

/// Whether `cell` is a plain number (`-1.5`, `2e-3`), which a spreadsheet
/// reads as a number and never as a formula.
fn number(cell: &str) -> bool {
    cell.chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '+' | '-' | '.' | 'e' | 'E'))
        && cell.parse::<f64>().is_ok()
}

/// One CSV cell: quoted when it holds a comma, a quote or a line break
/// (RFC 4180), and, when a spreadsheet would run it as a formula (it starts
/// with `=`, `+`, `-`, `@`, tab or CR and is not a number), written as text:
/// a single quote before it, inside quotes (OWASP's CSV injection advice).
fn escape_csv(cell: &str) -> String {
    if cell.starts_with(['=', '+', '-', '@', '\t', '\r']) && !number(cell) {
        return format!("\"'{}\"", cell.replace('"', "\"\""));
    }
    if cell.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", cell.replace('"', "\"\""))
    } else {
        cell.to_string()
    }
}

/// Comma-separated values (RFC 4180 quoting, formulas as text), header
/// first.
pub fn csv(table: &Table) -> String {
    let line = |cells: &[String]| {
        let cells: Vec<String> = cells.iter().map(|c| escape_csv(c)).collect();
        cells.join(",") + "\n"
    };
    let mut out = line(&table.header);
    for row in &table.rows {
        out.push_str(&line(row));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample() -> Table {
        let mut t = Table::new(&[("name", Align::Left), ("value", Align::Right)]);
        t.row(vec!["解码速度".into(), "28.0".into()]);
        t.row(vec!["a|b".into(), "1200".into()]);
        t
    }

    #[test]
    fn terminal_aligns_cjk_by_display_width() {
        let out = terminal(&sample());
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "  name      value");
        assert_eq!(lines[2], "  解码速度   28.0");
        assert_eq!(lines[3], "  a|b        1200");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut t = Table::new(&[("a", Align::Left), ("b", Align::Right)]);
        t.row(vec!["x,y".into(), "say \"hi\"".into()]);
        assert_eq!(csv(&t), "a,b\n\"x,y\",\"say \"\"hi\"\"\"\n");
    }

    #[test]
    fn csv_writes_formulas_as_text_and_numbers_as_numbers() {
        let mut t = Table::new(&[("a", Align::Left)]);
        for cell in [
            "=1+1",
            "+cmd|' /C calc'!A0",
            "-2+3",
            "@SUM(A1)",
            "\t=1",
            "-1.5",
            "+2",
            "-3e-2",
            "a-b",
            "",
        ] {
            t.row(vec![cell.into()]);
        }
        assert_eq!(
            csv(&t),
            "a\n\"'=1+1\"\n\"'+cmd|' /C calc'!A0\"\n\"'-2+3\"\n\"'@SUM(A1)\"\n\"'\t=1\"\n-1.5\n+2\n-3e-2\na-b\n\n"
        );
    }

    #[test]
    fn terminal_keeps_data_on_its_line() {
        let mut t = Table::new(&[("model", Align::Left)]);
        t.row(vec!["m\n## A\u{1b}[2J".into()]);
        assert_eq!(terminal(&t).lines().nth(2), Some("  m⏎## A\\x1b[2J"));
    }

    #[test]
    fn markdown_escapes_pipes() {
        let out = markdown(&sample());
        assert!(out.starts_with("| name | value |\n|---|---:|\n"), "{out}");
        assert!(out.contains("| a\\|b | 1200 |"), "{out}");
    }
}
