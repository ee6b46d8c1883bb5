//! A `tokenpace` measurement, independent of the command line: a checked,
//! typed [`BenchPlan`] (what to measure) built before any I/O, the
//! [`Runner`] that measures it one level ([`LevelPlan`]) at a time with the measuring
//! client (summarising and grading each level), and the whole measurements
//! built on it: [`measure()`] (every level of a plan: `bench URL`, with the
//! client's own timing error checked first when asked, [`self_check`]),
//! [`mix::run`] (`bench`'s default mix against the embedded engine) and
//! [`capacity::run`] (`capacity`'s search). Each returns typed results and
//! says what a reader must know to trust the numbers ([`caveats`]); what
//! happens meanwhile goes to a [`Progress`]. `bench` and `capacity` both
//! build plans from [`BenchPlan::new`]; neither parses the other's options.
#![deny(missing_docs)]

pub mod capacity;
pub mod caveats;
pub mod ceiling;
mod driver;
pub mod environment;
pub mod header;
mod level;
pub mod measure;
pub mod mix;
pub mod plan;
pub mod progress;
pub mod prompts;
mod reach;
pub mod runner;
mod scrape;
pub mod seeds;
pub mod self_check;
pub mod self_test;
pub mod stats_plan;
mod sweep;

pub use caveats::Caveat;
pub use level::{LevelResult, LevelRun};
pub use measure::{measure, Measurement};
pub use plan::{AgentSpec, BenchPlan, LevelPlan, SelfCheck, SessionSpec, StatsPlan, WorkloadPlan};
pub use progress::{Progress, ProgressLevel, Quiet, Stage};
pub use runner::Runner;
