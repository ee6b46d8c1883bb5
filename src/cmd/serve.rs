//! `tokenpace serve`: the embedded engine behind the OpenAI API until Ctrl-C.

use crate::cli::ServeArgs;
use crate::Status;
use tokenpace_present::Lang;

/// Runs `tokenpace serve`.
#[cfg(feature = "engine")]
pub fn run(args: ServeArgs, lang: Lang) -> anyhow::Result<Status> {
    use anyhow::Context;
    use std::sync::Arc;
    use tokenpace_serve::ServeConfig;

    let path = crate::embedded::model_path(args.model.as_deref(), &args.engine, lang)?;
    let engine = crate::embedded::start(&path, &args.engine, lang)?;
    let name = tokenpace_serve::Generator::model_name(&engine).to_owned();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    runtime.block_on(async {
        let config = ServeConfig {
            host: args.host.clone(),
            port: args.port,
            ..ServeConfig::default()
        };
        let server = tokenpace_serve::start(Arc::new(engine), config).await?;
        println!(
            "tokenpace serve: {name} {} {}/v1 (Ctrl-C {})",
            lang.pick("on", "于"),
            server.url(),
            lang.pick("stops", "停止")
        );
        let interrupted = tokio::signal::ctrl_c().await;
        server.shutdown().await;
        interrupted.context("could not wait for Ctrl-C")
    })?;
    Ok(Status::Ok)
}

/// Runs `tokenpace serve` (this build has no engine).
#[cfg(not(feature = "engine"))]
pub fn run(_args: ServeArgs, _lang: Lang) -> anyhow::Result<Status> {
    anyhow::bail!("this tokenpace was built without the embedded engine (--no-default-features): rebuild with the default features (needs cmake and libclang: scripts/setup)")
}
