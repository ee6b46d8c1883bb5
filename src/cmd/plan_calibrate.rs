//! `tokenpace plan calibrate`: a measured run against the roofline
//! estimate, the error per metric, and the efficiency that would match it.

use super::plan_bounds::Resolved;
use crate::cli::CalibrateArgs;
use crate::cli::Format;
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::{bail, Context};
use std::io::Write;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_plan::calibrate::{
    check_point, compare, fit, published_points, workload_of, Measured, PointCheck,
};
use tokenpace_plan::roofline::{estimate, Deployment, Workload};
use tokenpace_present::number;
use tokenpace_present::Lang;

/// Runs `tokenpace plan calibrate`.
pub fn run(args: CalibrateArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    if args.published {
        return published(&args, lang, out);
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
    let Resolved {
        catalog,
        model,
        hardware,
        efficiency,
    } = args.deployment.resolve("plan calibrate")?;
    let hw = catalog.hardware(&hardware)?;
    let d = Deployment {
        model: &model,
        hardware: hw,
        quant: args.deployment.quant.into(),
        devices: args.deployment.gpus,
    };
    let w = workload_of(&summary, &Workload::default());
    let e = estimate(&d, &w, &efficiency, &Profile::builtin())?;
    let errors = compare(&e, &measured);
    let fitted = fit(&e, &measured);
    if let Some(save) = &args.save {
        std::fs::write(save, fitted.to_toml())
            .with_context(|| format!("could not write '{}'", save.display()))?;
    }
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({
                "workload": w,
                "errors": errors,
                "efficiency": e.efficiency,
                "fitted": fitted,
            }))? + "\n"
        }
        Format::Table | Format::Markdown => {
            let markdown = args.output.format == Format::Markdown;
            let format: &dyn TableFormat = if markdown { &Markdown } else { &Terminal };
            let bullet = if markdown { "- " } else { "  " };
            let mut t = Table::new(&[
                (lang.pick("metric", "指标"), Align::Left),
                (lang.pick("measured", "实测"), Align::Right),
                (lang.pick("estimated", "估计"), Align::Right),
                (lang.pick("error", "误差"), Align::Right),
            ]);
            for m in &errors {
                t.row(vec![
                    lang.metric(m.metric).into(),
                    number::with_unit(m.metric, m.measured),
                    number::with_unit(m.metric, m.estimated),
                    format!("{:+.1} %", m.error * 100.0),
                ]);
            }
            let mut s = super::plan_bounds::title(&e, &d, lang) + "\n";
            s.push_str(&match lang {
                Lang::En => format!(
                    "{bullet}workload from the run: prompt {:.0} tok · answer {:.0} tok · {} concurrent\n\n",
                    w.prompt_tokens, w.output_tokens, w.concurrency
                ),
                Lang::Zh => format!(
                    "{bullet}取自该次运行的负载：提示 {:.0} tok · 回答 {:.0} tok · 并发 {}\n\n",
                    w.prompt_tokens, w.output_tokens, w.concurrency
                ),
            });
            s.push_str(&format.render(&t));
            s.push_str(&match lang {
                Lang::En => format!(
                    "\n{bullet}efficiency used: compute {:.2}, bandwidth {:.2}; fitted to this run: compute {:.2}, bandwidth {:.2}\n",
                    e.efficiency.compute, e.efficiency.bandwidth, fitted.compute, fitted.bandwidth
                ),
                Lang::Zh => format!(
                    "\n{bullet}所用效率：算力 {:.2}，带宽 {:.2}；按本次运行拟合：算力 {:.2}，带宽 {:.2}\n",
                    e.efficiency.compute, e.efficiency.bandwidth, fitted.compute, fitted.bandwidth
                ),
            });
            if let Some(save) = &args.save {
                s.push_str(&format!(
                    "{bullet}{} {}\n",
                    lang.pick("saved to", "已保存到"),
                    save.display()
                ));
            }
            s
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

fn published(args: &CalibrateArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let catalog = super::plan_bounds::catalog(&args.deployment.catalog)?;
    let efficiency = args.deployment.efficiency()?;
    let checks: Vec<PointCheck> = published_points()
        .iter()
        .map(|p| check_point(&catalog, p, &efficiency))
        .collect::<Result<_, _>>()?;
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => serde_json::to_string_pretty(&checks)? + "\n",
        Format::Table | Format::Markdown => {
            let format: &dyn TableFormat = if args.output.format == Format::Markdown {
                &Markdown
            } else {
                &Terminal
            };
            let mut t = Table::new(&[
                (lang.pick("model", "模型"), Align::Left),
                (lang.pick("hardware", "硬件"), Align::Left),
                (lang.pick("weights", "权重"), Align::Left),
                (lang.pick("metric", "指标"), Align::Left),
                (lang.pick("published", "公开数据"), Align::Right),
                (lang.pick("estimated", "估计"), Align::Right),
                (lang.pick("error", "误差"), Align::Right),
                (lang.pick("engine", "引擎"), Align::Left),
            ]);
            for c in &checks {
                let m: Metric = c.point.metric;
                t.row(vec![
                    c.point.model.clone(),
                    c.point.hardware.clone(),
                    c.point.quant.to_string(),
                    lang.metric(m).into(),
                    number::with_unit(m, c.point.value),
                    number::with_unit(m, c.estimated),
                    format!("{:+.1} %", c.error * 100.0),
                    c.point.engine.clone(),
                ]);
            }
            let worst = checks.iter().map(|c| c.error.abs()).fold(0.0, f64::max);
            format.render(&t)
                + &format!(
                    "\n{}: {:.1} % (compute {:.2}, bandwidth {:.2}); {}\n",
                    lang.pick("largest error", "最大误差"),
                    worst * 100.0,
                    efficiency.compute,
                    efficiency.bandwidth,
                    lang.pick(
                        "sources in crates/plan/data/measurements.toml",
                        "来源见 crates/plan/data/measurements.toml"
                    )
                )
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}
