//! Options of `tokenpace plan …`: one file per planner, and one per group
//! of flags several planners share (the scenario, characters per token,
//! the deployment, the workload and how its prompts arrive).

mod bounds;
mod calibrate;
mod capacity;
mod deployment;
mod ratio;
mod remedies;
mod scenario;
mod workload;

pub use bounds::*;
pub use calibrate::*;
pub use capacity::*;
pub use deployment::*;
pub use ratio::*;
pub use remedies::*;
pub use scenario::*;
pub use workload::*;

use clap::{Args, Subcommand};

/// `tokenpace plan …`.
#[derive(Debug, Args)]
pub struct PlanArgs {
    /// What to plan.
    #[command(subcommand)]
    pub command: PlanCommand,
}

/// The planners.
#[derive(Debug, Subcommand)]
#[allow(clippy::large_enum_variant)] // parsed once per process; size is irrelevant
pub enum PlanCommand {
    /// From a product scenario, derive the prefill and decode rates it needs;
    /// from given rates, predict what users experience.
    Scenario(ScenarioArgs),
    /// Roofline bounds of a model on a device: prefill, decode, TTFT and
    /// reading speed, graded, with the resource that binds.
    Bounds(BoundsArgs),
    /// What int4/int8, speculative decoding, a prefix KV cache, split
    /// prefill or another card would make of the metrics.
    Remedies(RemediesArgs),
    /// Compare a measured run with the estimate and fit the efficiency.
    Calibrate(CalibrateArgs),
    /// Predict the largest concurrency that keeps every graded metric in
    /// tier A: from the roofline (--model, --hardware) or from rates and a
    /// batching law (--decode, --batch-slowdown), as `tokenpace sim` has.
    Capacity(PlanCapacityArgs),
}
