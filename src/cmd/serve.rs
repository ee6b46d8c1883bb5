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
            api_key: api_key(&args),
            seed: args.seed,
            ..ServeConfig::default()
        };
        let server = tokenpace_serve::start(Arc::new(engine), config)
            .await
            .map_err(super::advise_listen)?;
        println!(
            "tokenpace serve: {name} {} {}/v1 (Ctrl-C {})",
            lang.pick("on", "于"),
            server.url(),
            lang.pick("stops", "停止")
        );
        if server.open_to_others() {
            eprintln!("{}", open_warning(&server.url(), lang));
        }
        let interrupted = tokio::signal::ctrl_c().await;
        server.shutdown().await;
        interrupted.context("could not wait for Ctrl-C")
    })?;
    Ok(Status::Ok)
}

/// The environment variable the key is read from when `--api-key` is not
/// given (a flag on the command line shows in `ps`).
#[cfg(feature = "engine")]
const API_KEY_ENV: &str = "TOKENPACE_SERVE_API_KEY";

/// The key every route but `/health` needs: `--api-key`, else
/// [`API_KEY_ENV`] (when not empty).
#[cfg(feature = "engine")]
fn api_key(args: &ServeArgs) -> Option<String> {
    args.api_key
        .clone()
        .or_else(|| std::env::var(API_KEY_ENV).ok())
        .filter(|k| !k.trim().is_empty())
}

/// The warning for a server other machines can use without a key.
#[cfg(feature = "engine")]
fn open_warning(url: &str, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "tokenpace serve: warning: {url} listens beyond this machine and asks for no key: \
             anyone who can reach it can use the engine and read /metrics. Set \
             {API_KEY_ENV} (or --api-key), or use --host 127.0.0.1."
        ),
        Lang::Zh => format!(
            "tokenpace serve：警告：{url} 对本机以外开放且不要求密钥，任何能访问它的人都可以\
             使用引擎并读取 /metrics。请设置 {API_KEY_ENV}（或 --api-key），或使用 --host 127.0.0.1。"
        ),
    }
}

/// Runs `tokenpace serve` (this build has no engine).
#[cfg(not(feature = "engine"))]
pub fn run(_args: ServeArgs, _lang: Lang) -> anyhow::Result<Status> {
    anyhow::bail!("this tokenpace was built without the embedded engine (--no-default-features): rebuild with the default features (needs cmake and libclang: scripts/setup)")
}
