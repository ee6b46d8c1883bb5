//! How tokenpace's results read, whatever the command: labels in English
//! and Chinese ([`Lang`], [`labels`]), numbers with just enough digits
//! ([`number`]), tables ([`Table`]), a format-neutral [`Document`] that a
//! command builds once, and one [`Exporter`] per output format (aligned
//! text, Markdown, JSON, CSV). Terminal output and HTML reports use the same
//! words and numbers because both come from here.
//!
//! Nothing here computes a result or touches a file: commands hand over a
//! typed result that implements [`Output`], and an exporter turns it into
//! text.
#![deny(missing_docs)]

pub mod conversation;
pub mod doc;
pub mod export;
pub mod imported;
pub mod labels;
pub mod lang;
pub mod line;
pub mod markdown;
pub mod number;
pub mod span;
pub mod table;
pub mod terminal;

pub use doc::{Block, Document};
pub use export::{export, Csv, ExportError, Exporter, Format, Json, Markdown, Output, Terminal};
pub use lang::Lang;
pub use table::{Align, Table};
