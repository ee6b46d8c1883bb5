//! A `tokenpace bench` run, independent of the command line: a checked,
//! typed [`BenchPlan`] (what to measure) built before any I/O, and the
//! [`Runner`] that measures it one [`Level`] at a time with the measuring
//! client, summarises and grades each level, and says what a reader must
//! know to trust the numbers ([`caveats`]). `bench` and `capacity` both
//! build plans; neither parses the other's options.
#![deny(missing_docs)]

pub mod capacity;
pub mod caveats;
mod driver;
pub mod environment;
pub mod header;
pub mod plan;
pub mod prompts;
mod reach;
pub mod runner;
mod scrape;
pub mod stats_plan;

pub use caveats::Caveat;
pub use plan::{AgentSpec, BenchPlan, Level, SessionSpec, StatsPlan, WorkloadPlan};
pub use runner::{LevelResult, Progress, ProgressLevel, Runner};
