//! `tokenpace plan remedies`: what int4/int8 weights, speculative decoding,
//! a prefix KV cache, split prefill or another card would make of the four
//! metrics, ranked by what reaches the target.

use crate::cli::RemediesArgs;
use crate::output::plan::remedies::RemediesOutput;
use crate::output::plan::Names;
use crate::{input, Status};
use anyhow::bail;
use std::io::Write;
use std::path::Path;
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_plan::remedies::{remedies, RooflineContext, Situation};
use tokenpace_plan::roofline::{estimate, Traffic};
use tokenpace_present::{export, Lang};

/// Runs `tokenpace plan remedies`.
pub fn run(args: RemediesArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let count = |path: &Path, text: &str| ModelTokenizer::from_file(path)?.count(text);
    let mut evidence = args.scenario.ratio.evidence(count, input::run_summary)?;
    let setup = args.deployment.setup();
    let resolved = if setup.has_model() || setup.hardware.is_some() {
        let r = setup.resolve("plan remedies with a model")?;
        evidence.model = r.model.tokenizer_family();
        Some(r)
    } else {
        None
    };
    let ratio = evidence.choose(args.scenario.ratio.text)?;
    let (_, spec) = args.scenario.spec(&ratio)?;
    if setup.has_model() && (args.scenario.prefill.is_some() || args.scenario.decode.is_some()) {
        bail!("--prefill and --decode give the rates reached now; with --model they come from the roofline estimate: drop one or the other");
    }
    let scenario = spec.resolve(&profile)?;
    let params = args.remedy.params();

    let result = if let Some(r) = &resolved {
        let dep = &args.deployment;
        let d = r.deployment(dep.weights(), dep.kv_cache(), dep.gpus);
        let w = Traffic {
            prompt_tokens: scenario.prompt_tokens,
            output_tokens: scenario.output_tokens,
            concurrency: args.concurrency,
            rtt_s: scenario.rtt_s,
            ..args.arrivals.traffic()
        }
        .with_ratio(&ratio);
        let e = estimate(&d, &w, &r.efficiency, &profile)?;
        let s = Situation::of(&scenario, e.prefill_tok_s, e.decode_tok_s, d.quant);
        let ctx = RooflineContext {
            catalog: &r.catalog,
            deployment: d,
            workload: w,
            efficiency: &r.efficiency,
        };
        let list = remedies(&s, &params, &profile, Some(&ctx))?;
        RemediesOutput::new(s, list, ratio.describe(), Some((e, Names::of(&d))))
    } else {
        let (Some(prefill), Some(decode)) = (scenario.prefill_tok_s, scenario.decode_tok_s) else {
            bail!("plan remedies needs the rates reached now: give --prefill and --decode, a --preset that has them (long-summary), or --model and --hardware to estimate them");
        };
        let weights = args.deployment.weights().unwrap_or_default();
        let s = Situation::of(&scenario, prefill, decode, weights);
        let list = remedies(&s, &params, &profile, None)?;
        RemediesOutput::new(s, list, ratio.describe(), None)
    };
    out.write_all(export(&result, args.output.format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}
