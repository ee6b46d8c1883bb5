//! One module per subcommand: each maps its flags to core types, computes,
//! and renders.

pub mod bench;
pub mod capacity;
pub mod compare;
pub mod grade;
pub mod history;
pub mod import;
pub mod merge;
pub mod models;
pub mod plan_bounds;
pub mod plan_calibrate;
pub mod plan_capacity;
pub mod plan_remedies;
pub mod plan_scenario;
pub mod report;
pub mod serve;
pub mod shell;
pub mod sim;

use tokenpace_core::setting::Setting;
use tokenpace_wire::server::ListenError;

/// A server that could not listen, with the flags that choose another
/// address: the server's library says only what failed.
pub(crate) fn advise_listen(e: anyhow::Error) -> anyhow::Error {
    match e.downcast::<ListenError>() {
        Ok(l) => l
            .advise(format!(
                "use {}/{}; port 0 picks a free one",
                Setting::Host,
                Setting::Port
            ))
            .into(),
        Err(e) => e,
    }
}
