//! `tokenpace sim`: the simulator lives in `tokenpace-sim`; this only gives
//! it a runtime.

use crate::Status;
use anyhow::Context;

/// Runs `tokenpace sim` until Ctrl-C.
pub fn run(args: tokenpace_sim::SimArgs) -> anyhow::Result<Status> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?
        .block_on(tokenpace_sim::run(args))?;
    Ok(Status::Ok)
}
