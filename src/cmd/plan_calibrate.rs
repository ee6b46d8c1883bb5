//! `tokenpace plan calibrate`: a measured run against the roofline
//! estimate, the error per metric, and the efficiency that would match it;
//! or the published measurements checked (`--published`).

use crate::cli::CalibrateArgs;
use crate::output::plan::calibrate::{CalibrateOutput, PublishedOutput, RunCheck};
use crate::output::plan::Names;
use crate::{input, Status};
use anyhow::{bail, Context};
use std::io::Write;
use tokenpace_core::profile::Profile;
use tokenpace_plan::calibrate::{compare, fit, fit_runs, workload_of, Measured};
use tokenpace_plan::published::{check_points, published_points};
use tokenpace_plan::roofline::estimate;
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
    if args.run.is_empty() {
        bail!("give a run directory (or its run.json), or --published");
    }
    let r = setup.resolve("plan calibrate")?;
    let d = r.deployment(
        args.deployment.weights(),
        args.deployment.kv_cache(),
        args.deployment.gpus,
    );
    let mut runs = Vec::new();
    for path in &args.run {
        let summary = input::run_summary(path)?;
        let measured = Measured::from_summary(&summary);
        if measured.prefill_tok_s.is_none() && measured.decode_tok_s.is_none() {
            bail!(
                "run '{}' has neither prefill nor decode measurements to calibrate against (it needs prompt token counts and at least two tokens per answer)",
                path.display()
            );
        }
        let w = workload_of(&summary, &args.arrivals.traffic());
        let e = estimate(&d, &w, &r.efficiency, &Profile::builtin())?;
        runs.push((e, measured));
    }
    let fitted = match runs.as_slice() {
        [(e, m)] => fit(e, m),
        _ => fit_runs(&runs).unwrap_or_else(|| r.efficiency.clone()),
    };
    if let Some(save) = &args.save {
        std::fs::write(save, fitted.to_toml())
            .with_context(|| format!("could not write '{}'", save.display()))?;
    }
    let checks = if runs.len() > 1 {
        runs.iter()
            .zip(&args.run)
            .map(|((e, m), path)| {
                let again = estimate(&d, &e.workload, &fitted, &Profile::builtin())?;
                Ok(RunCheck {
                    run: path.display().to_string(),
                    concurrency: e.concurrency,
                    errors: compare(e, m),
                    fitted_errors: compare(&again, m),
                })
            })
            .collect::<anyhow::Result<Vec<_>>>()?
    } else {
        Vec::new()
    };
    let (e, measured) = runs.swap_remove(0);
    let result = CalibrateOutput {
        workload: e.workload.clone(),
        errors: compare(&e, &measured),
        efficiency: e.efficiency.clone(),
        fitted,
        runs: checks,
        estimate: Some((e, Names::of(&d))),
        saved: args.save.clone(),
    };
    out.write_all(export(&result, format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}
