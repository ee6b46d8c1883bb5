//! The words of a report: the same [`Lang`], metric labels and definitions
//! as the terminal tables ([`tokenpace_present`]), so a page and a table
//! name each metric alike.

pub use tokenpace_present::Lang;
