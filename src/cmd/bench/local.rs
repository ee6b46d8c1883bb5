//! `tokenpace bench` without a URL: start the embedded engine behind
//! `serve` on a loopback port, and measure it with the same client as any
//! remote server. Given load flags, it runs exactly those; otherwise the
//! default mix ([`tokenpace_runner::mix`]): a prompt-length sweep (the
//! prefill line), the seed's scenarios scaled down to finish in a few
//! minutes, and what the measured rates predict for the full-size
//! scenarios, with remedies where they fall short.

use crate::cli::BenchArgs;
use crate::Status;
use std::io::Write;
use tokenpace_present::Lang;

/// Runs `bench` against the embedded engine.
#[cfg(feature = "engine")]
pub(super) fn run(args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let embedded = crate::embedded::Embedded::start(args.model.as_deref(), &args.engine, lang)?;
    crate::embedded::announce(&embedded.header(lang), args.output.format, out)?;
    let status = measure(&args, &embedded, lang, out);
    embedded.shutdown();
    status
}

/// Runs `bench` against the embedded engine (this build has none).
#[cfg(not(feature = "engine"))]
pub(super) fn run(_args: BenchArgs, _lang: Lang, _out: &mut dyn Write) -> anyhow::Result<Status> {
    anyhow::bail!("give the server's URL (this tokenpace was built without the embedded engine, --no-default-features; rebuild with the default features to measure a model in-process)")
}

/// The plan of `args` against the engine's server and model: the load
/// asked for, or the default mix.
#[cfg(feature = "engine")]
fn measure(
    args: &BenchArgs,
    embedded: &crate::embedded::Embedded,
    lang: Lang,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let mut plan = crate::cli::bench_plan::plan(args, &embedded.url)?;
    plan.target.model = embedded.name.clone();
    if custom_load(args) {
        super::run_plan(&plan, args, lang, out)
    } else {
        mix::run(&plan, args, lang, out, embedded.weights)
    }
}

/// Whether the user asked for a particular load rather than the mix.
#[cfg(feature = "engine")]
fn custom_load(args: &BenchArgs) -> bool {
    !args.concurrency.is_empty()
        || !args.rate.is_empty()
        || !args.prompt_tokens.is_empty()
        || args.scenario.is_some()
        || args.dataset.is_some()
        || args.trace.trace.is_some()
        || args.max_tokens.is_some()
}

#[cfg(feature = "engine")]
mod mix;
