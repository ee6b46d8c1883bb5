//! `tokenpace plan calibrate`: a measured run against the roofline
//! estimate, the error per metric, and the efficiency that would match it;
//! or the published measurements checked (`--published`).

use crate::cli::CalibrateArgs;
use crate::output::plan::calibrate::{CalibrateOutput, PublishedOutput};
use crate::output::plan::Names;
use crate::{input, Status};
use anyhow::{bail, Context};
use std::io::Write;
use tokenpace_core::profile::Profile;
use tokenpace_plan::calibrate::{
    check_points, compare, fit, published_points, workload_of, Measured,
};
use tokenpace_plan::roofline::{estimate, Traffic};
use tokenpace_present::{export, Lang};

/// Runs `tokenpace plan calibrate`.
pub fn run(args: CalibrateArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let format = args.output.format;
    let setup = args.deployment.setup();
    if args.published {
        let catalog = setup.catalog()?;
        let efficiency = setup.efficiency()?;
        let checks = check_points(&catalog, &published_points(), &efficiency)?;
        let result = PublishedOutput {
            checks,
            efficiency: Some(efficiency),
        };
        out.write_all(export(&result, format, lang)?.as_bytes())?;
        return Ok(Status::Ok);
    }
    let Some(path) = &args.run else {
        bail!("give a run directory (or its run.json), or --published");
    };
    let summary = input::run_summary(path)?;
    let measured = Measured::from_summary(&summary);
    if measured.prefill_tok_s.is_none() && measured.decode_tok_s.is_none() {
        bail!(
            "run '{}' has neither prefill nor decode measurements to calibrate against (it needs prompt token counts and at least two tokens per answer)",
            path.display()
        );
    }
    let r = setup.resolve("plan calibrate")?;
    let d = r.deployment(args.deployment.quant.into(), args.deployment.gpus);
    let w = workload_of(&summary, &Traffic::default());
    let e = estimate(&d, &w, &r.efficiency, &Profile::builtin())?;
    let fitted = fit(&e, &measured);
    if let Some(save) = &args.save {
        std::fs::write(save, fitted.to_toml())
            .with_context(|| format!("could not write '{}'", save.display()))?;
    }
    let result = CalibrateOutput {
        workload: w,
        errors: compare(&e, &measured),
        efficiency: e.efficiency.clone(),
        fitted,
        estimate: Some((e, Names::of(&d))),
        saved: args.save.clone(),
    };
    out.write_all(export(&result, format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}
