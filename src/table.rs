//! Transitional: commands not yet moved to [`tokenpace_present::Document`]
//! print tables through this trait. Removed once every command builds a
//! document.

pub use tokenpace_present::table::{Align, Table};

/// A way to print a [`Table`].
pub trait TableFormat {
    /// Renders the table, ending with a newline.
    fn render(&self, table: &Table) -> String;
}

/// Aligned columns for a terminal.
pub struct Terminal;
/// A Markdown table.
pub struct Markdown;

impl TableFormat for Terminal {
    fn render(&self, table: &Table) -> String {
        tokenpace_present::table::terminal(table)
    }
}
impl TableFormat for Markdown {
    fn render(&self, table: &Table) -> String {
        tokenpace_present::table::markdown(table)
    }
}
