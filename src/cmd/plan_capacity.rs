//! `tokenpace plan capacity`: the largest concurrency that keeps every
//! graded metric in tier A, from the roofline or from a batching law.

use crate::cli::PlanCapacityArgs;
use crate::output::plan::capacity::{PredictedCapacityOutput, PredictionBasis};
use crate::{input, Status};
use std::io::Write;
use std::path::Path;
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_plan::capacity::{roofline_capacity, BatchingLaw};
use tokenpace_present::{export, Lang};

/// Runs `tokenpace plan capacity`.
pub fn run(args: PlanCapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let count = |path: &Path, text: &str| ModelTokenizer::from_file(path)?.count(text);
    let mut evidence = args.ratio.evidence(count, input::run_summary)?;
    let result = match args.decode {
        Some(decode) => {
            let ratio = evidence.choose(args.ratio.text)?;
            let law = BatchingLaw {
                fixed_ttft_s: args.ttft_ms / 1000.0,
                prefill_tok_s: args.prefill,
                decode_tok_s: decode,
                slowdown: args.batch_slowdown,
                max_batch: args.max_batch,
            };
            let w = args.workload.workload(&ratio);
            PredictedCapacityOutput {
                capacity: law.capacity(w.prompt_tokens, w.chars_per_token, &profile)?,
                model: PredictionBasis::Law(law),
                workload: w,
            }
        }
        None => {
            let r = args.deployment.setup().resolve("plan capacity")?;
            evidence.model = r.model.tokenizer_family();
            let ratio = evidence.choose(args.ratio.text)?;
            let d = r.deployment(
                args.deployment.weights(),
                args.deployment.kv_cache(),
                args.deployment.gpus,
            );
            let w = args.workload.workload(&ratio);
            PredictedCapacityOutput {
                capacity: roofline_capacity(&d, &w, &r.efficiency, &profile)?,
                model: PredictionBasis::Roofline {
                    model: r.model.id.clone(),
                    hardware: r.hardware.clone(),
                    quant: d.quant,
                    kv_cache: d.kv_cache,
                    devices: d.devices,
                },
                workload: w,
            }
        }
    };
    out.write_all(export(&result, args.output.format, lang)?.as_bytes())?;
    Ok(Status::Ok)
}
