//! A format-neutral layout of a human-readable result: a command builds
//! one [`Document`] of [`Block`]s, and the terminal and Markdown exporters
//! each print it their way. A note, a heading or a table therefore reads
//! the same in every command, in both formats.
//!
//! Block text is plain text, whatever it holds (tokenpace's words, a model
//! name a server chose): each exporter shows it on its line, the terminal
//! with control characters escaped ([`terminal::line`]), Markdown with its
//! metacharacters escaped ([`markdown::escape`]), so data never forges a
//! line, a heading, an image or a link.

use crate::table::{self, Table};
use crate::{markdown, terminal};

/// One piece of a human-readable result.
#[derive(Debug, Clone, PartialEq)]
pub enum Block {
    /// The first line of a result (what was measured or planned): plain in
    /// a terminal, bold in Markdown.
    Title(String),
    /// A section heading: plain in a terminal, bold in Markdown.
    Heading(String),
    /// A line of text, printed as it is.
    Line(String),
    /// A list item: indented in a terminal, `- ` in Markdown.
    Item(String),
    /// A verdict: a lead (bold in Markdown) and the rest of the line.
    Verdict {
        /// The part that matters, e.g. `overall tier: C`.
        lead: String,
        /// What follows it, e.g. `(set by: output speed)`.
        rest: String,
    },
    /// Something a reader must know to trust the numbers: `note: …` in a
    /// terminal, a `> …` quote in Markdown.
    Note(String),
    /// A table.
    Table(Table),
    /// An empty line.
    Blank,
}

/// A human-readable result, in order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Document {
    /// The blocks, top to bottom.
    pub blocks: Vec<Block>,
}

impl Document {
    /// An empty document.
    pub fn new() -> Document {
        Document::default()
    }

    /// Appends a block.
    pub fn push(&mut self, block: Block) -> &mut Document {
        self.blocks.push(block);
        self
    }

    /// Appends every block of `other`.
    pub fn append(&mut self, other: Document) -> &mut Document {
        self.blocks.extend(other.blocks);
        self
    }

    /// Appends a title line.
    pub fn title(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Title(text.into()))
    }

    /// Appends a section heading.
    pub fn heading(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Heading(text.into()))
    }

    /// Appends a line of text.
    pub fn line(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Line(text.into()))
    }

    /// Appends a list item.
    pub fn item(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Item(text.into()))
    }

    /// Appends a note.
    pub fn note(&mut self, text: impl Into<String>) -> &mut Document {
        self.push(Block::Note(text.into()))
    }

    /// Appends a verdict line.
    pub fn verdict(&mut self, lead: impl Into<String>, rest: impl Into<String>) -> &mut Document {
        self.push(Block::Verdict {
            lead: lead.into(),
            rest: rest.into(),
        })
    }

    /// Appends a table.
    pub fn table(&mut self, table: Table) -> &mut Document {
        self.push(Block::Table(table))
    }

    /// Appends an empty line.
    pub fn blank(&mut self) -> &mut Document {
        self.push(Block::Blank)
    }

    /// The document as aligned text for a terminal.
    pub fn to_terminal(&self) -> String {
        let mut out = String::new();
        let text = |t: &str| terminal::line(t).into_owned();
        for block in &self.blocks {
            match block {
                Block::Title(t) | Block::Heading(t) | Block::Line(t) => line(&mut out, &text(t)),
                Block::Item(t) => line(&mut out, &format!("  {}", text(t))),
                Block::Verdict { lead, rest } => line(&mut out, &join(&text(lead), &text(rest))),
                Block::Note(t) => line(&mut out, &format!("note: {}", text(t))),
                Block::Table(t) => out.push_str(&table::terminal(t)),
                Block::Blank => out.push('\n'),
            }
        }
        out
    }

    /// The document as GitHub-flavoured Markdown.
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let text = |t: &str| markdown::escape(t).into_owned();
        for block in &self.blocks {
            match block {
                Block::Title(t) | Block::Heading(t) => line(&mut out, &format!("**{}**", text(t))),
                Block::Line(t) => line(&mut out, &markdown::line(t)),
                Block::Item(t) => line(&mut out, &format!("- {}", markdown::line(t))),
                Block::Verdict { lead, rest } => {
                    line(&mut out, &join(&format!("**{}**", text(lead)), &text(rest)))
                }
                Block::Note(t) => line(&mut out, &format!("> {}", markdown::line(t))),
                Block::Table(t) => out.push_str(&table::markdown(t)),
                Block::Blank => out.push('\n'),
            }
        }
        out
    }
}

fn line(out: &mut String, text: &str) {
    out.push_str(text);
    out.push('\n');
}

fn join(lead: &str, rest: &str) -> String {
    if rest.is_empty() {
        lead.to_string()
    } else {
        format!("{lead} {rest}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::Align;

    fn sample() -> Document {
        let mut t = Table::new(&[("metric", Align::Left), ("value", Align::Right)]);
        t.row(vec!["decode".into(), "28.0".into()]);
        let mut d = Document::new();
        d.title("run")
            .blank()
            .table(t)
            .note("a | pipe")
            .item("x")
            .verdict("overall tier: B", "(set by: decode)");
        d
    }

    #[test]
    fn a_note_reads_alike_in_every_result() {
        let text = sample().to_terminal();
        assert_eq!(
            text,
            "run\n\n  metric  value\n  ──────  ─────\n  decode   28.0\nnote: a | pipe\n  x\noverall tier: B (set by: decode)\n"
        );
        let md = sample().to_markdown();
        assert_eq!(
            md,
            "**run**\n\n| metric | value |\n|---|---:|\n| decode | 28.0 |\n> a \\| pipe\n- x\n**overall tier: B** (set by: decode)\n"
        );
    }

    #[test]
    fn data_forges_no_line_in_either_format() {
        let mut d = Document::new();
        d.title("m\n\n## overall tier: A")
            .line("---")
            .item("x\r\n# y");
        assert_eq!(d.to_terminal(), "m⏎⏎## overall tier: A\n---\n  x⏎# y\n");
        assert_eq!(
            d.to_markdown(),
            "**m⏎⏎## overall tier: A**\n\\---\n- x⏎# y\n"
        );
        let mut d = Document::new();
        d.item("# x").note("- y");
        assert_eq!(d.to_markdown(), "- \\# x\n> \\- y\n");
        assert_eq!(Document::new().line("").to_markdown(), "\n");
    }
}
