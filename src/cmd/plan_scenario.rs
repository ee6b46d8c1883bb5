//! `tokenpace plan scenario`: the design method as a calculator.

use crate::cli::ScenarioArgs;
use crate::output::plan::scenario::{PresetList, ScenarioOutput};
use crate::{input, Status};
use std::io::Write;
use std::path::Path;
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_plan::remedies::for_scenario;
use tokenpace_present::{export, Lang};

/// Runs `tokenpace plan scenario`.
pub fn run(args: ScenarioArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let format = args.output.format;
    if args.list {
        out.write_all(export(&PresetList::builtin(), format, lang)?.as_bytes())?;
        return Ok(Status::Ok);
    }
    let profile = input::profile(args.profile.file.as_deref())?;
    let count = |path: &Path, text: &str| ModelTokenizer::from_file(path)?.count(text);
    let ratio = args
        .scenario
        .ratio
        .evidence(count, input::run_summary)?
        .choose(args.scenario.ratio.text)?;
    let (preset, spec) = args.scenario.spec(&ratio)?;
    let plan = spec.resolve(&profile)?.plan(&profile);
    let remedies = for_scenario(&plan, &profile, None);
    let result = ScenarioOutput::new(plan, remedies, preset);
    out.write_all(export(&result, format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}
