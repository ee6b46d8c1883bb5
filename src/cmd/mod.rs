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
