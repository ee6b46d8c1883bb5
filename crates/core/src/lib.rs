//! The pure core of tokenpace: one data model, statistics, grading and
//! scenario maths. Nothing here does I/O or needs an async runtime.
#![deny(missing_docs)]

pub mod text;
