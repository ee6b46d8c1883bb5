//! `tokenpace plan bounds`: the roofline estimate of a model on a device,
//! graded on tokenpace's built-in UX tiers, or the catalog (`--list`).

use crate::cli::BoundsArgs;
use crate::output::plan::bounds::{BoundsOutput, CatalogOutput};
use crate::output::plan::Names;
use crate::{input, Status};
use std::io::Write;
use std::path::Path;
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_plan::roofline::estimate;
use tokenpace_present::{export, Lang};

/// Runs `tokenpace plan bounds`.
pub fn run(args: BoundsArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let format = args.output.format;
    let setup = args.deployment.setup();
    if args.list {
        let result = CatalogOutput::of(setup.catalog()?);
        out.write_all(export(&result, format, lang)?.as_bytes())?;
        return Ok(Status::Ok);
    }
    let profile = input::profile(args.profile.file.as_deref())?;
    let r = setup.resolve("plan bounds")?;
    let count = |path: &Path, text: &str| ModelTokenizer::from_file(path)?.count(text);
    let mut evidence = args.ratio.evidence(count, input::run_summary)?;
    evidence.model = r.model.tokenizer_family();
    let ratio = evidence.choose(args.ratio.text)?;
    let d = r.deployment(
        args.deployment.weights(),
        args.deployment.kv_cache(),
        args.deployment.gpus,
    );
    let result = BoundsOutput {
        estimate: estimate(&d, &args.workload.workload(&ratio), &r.efficiency, &profile)?,
        names: Names::of(&d),
    };
    out.write_all(export(&result, format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}
