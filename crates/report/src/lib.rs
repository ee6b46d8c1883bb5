//! Reports of tokenpace runs: the statistics that compare runs (a
//! Mann-Whitney U test per metric), charts drawn as inline SVG, and
//! self-contained HTML pages assembled from run data. Nothing here reads
//! or writes files; the `tokenpace` binary does that.
#![deny(missing_docs)]

pub mod charts;
pub mod compare;
pub mod compare_page;
pub mod conversation;
pub mod format;
pub mod lang;
pub mod level;
pub mod mannwhitney;
pub mod page;
pub mod report;
pub mod sections;
pub mod style;
pub mod svg;
pub mod verdict;

pub use lang::Lang;
pub use level::Level;
pub use report::Html;
