//! What each command prints, as typed results: every command builds one of
//! these (serialisable, with a JSON Schema in `schemas/`) and hands it to
//! [`tokenpace_present::export()`], which picks the exporter for `--format`.
//! The layout for people ([`tokenpace_present::Output::document`]) lives
//! beside each type, in the file named after its command.

pub mod bench;
pub mod capacity;
pub mod caveats;
pub mod ceiling;
pub mod compare;
pub mod conversation;
pub mod goodput;
pub mod grade;
pub mod history;
pub mod import;
pub mod merge;
pub mod mix;
pub mod model_mix;
pub mod models;
pub mod plan;
pub mod repeats;
pub mod report;
pub mod run;
pub mod self_test;
pub mod steady_state;
pub mod throttling;

use schemars::{JsonSchema, Schema};

/// Every command's JSON output, by the name of its schema file
/// (`schemas/NAME.schema.json`).
pub fn schemas() -> Vec<(&'static str, Schema)> {
    vec![
        ("grade", schema::<grade::GradeOutput>()),
        ("bench", schema::<run::BenchOutput>()),
        ("bench-self-test", schema::<self_test::SelfTestOutput>()),
        ("capacity", schema::<capacity::CapacityOutput>()),
        ("mix", schema::<mix::MixOutput>()),
        ("plan-scenario", schema::<plan::scenario::ScenarioOutput>()),
        ("plan-scenario-list", schema::<plan::scenario::PresetList>()),
        ("plan-bounds", schema::<plan::bounds::BoundsOutput>()),
        ("plan-bounds-list", schema::<plan::bounds::CatalogOutput>()),
        ("plan-remedies", schema::<plan::remedies::RemediesOutput>()),
        (
            "plan-capacity",
            schema::<plan::capacity::PredictedCapacityOutput>(),
        ),
        (
            "plan-calibrate",
            schema::<plan::calibrate::CalibrateOutput>(),
        ),
        (
            "plan-calibrate-published",
            schema::<plan::calibrate::PublishedOutput>(),
        ),
        ("compare", schema::<compare::CompareOutput>()),
        ("history", schema::<history::HistoryOutput>()),
        ("import", schema::<import::ImportOutput>()),
        ("merge", schema::<merge::MergeOutput>()),
        ("models", schema::<models::ModelsOutput>()),
        ("report", schema::<report::ReportOutput>()),
    ]
}

/// Every file a run stores, by the name of its schema file
/// (`schemas/NAME.schema.json`): `run.json`, one line of `requests.jsonl`,
/// `sweep.json`, `capacity.json` (`capacity-file`, as `capacity` is the
/// command's output), and one line of the simulator's truth file (`sim
/// --truth`).
pub fn stored_schemas() -> Vec<(&'static str, Schema)> {
    use tokenpace_core::record::RequestRecord;
    use tokenpace_rundir::Versioned;
    vec![
        (
            "run",
            schema::<Versioned<tokenpace_core::summary::RunSummary>>(),
        ),
        ("request-record", schema::<RequestRecord>()),
        ("sweep", schema::<Versioned<tokenpace_rundir::Sweep>>()),
        (
            "capacity-file",
            schema::<Versioned<tokenpace_rundir::Capacity>>(),
        ),
        ("truth", schema::<tokenpace_sim::truth::TruthLine>()),
    ]
}

/// JSON Schema draft 2020-12, without a `$schema` URL: the files name no
/// outside address, and validators are told the draft.
fn schema<T: JsonSchema>() -> Schema {
    let mut settings = schemars::generate::SchemaSettings::draft2020_12();
    settings.meta_schema = None;
    settings.into_generator().into_root_schema_for::<T>()
}
