//! `tokenpace sim`: the simulator lives in `tokenpace-sim`; this reads its
//! configuration (the `--config` file, the key's environment variable, the
//! flags), gives it a runtime and serves until Ctrl-C.

use crate::cli::{SimArgs, SIM_API_KEY_ENV};
use crate::Status;
use anyhow::Context;
use std::io::Write;
use tokenpace_sim::{SimConfig, SimServer};

/// Runs `tokenpace sim` until Ctrl-C.
pub fn run(args: SimArgs) -> anyhow::Result<Status> {
    let config = config(&args)?;
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?
        .block_on(serve(config))?;
    Ok(Status::Ok)
}

/// The `--config` file (or the defaults), the key from
/// [`SIM_API_KEY_ENV`] when it is set, and the flags on top, validated.
fn config(args: &SimArgs) -> anyhow::Result<SimConfig> {
    let mut base = match &args.config {
        Some(path) => SimConfig::from_toml_file(path)?,
        None => SimConfig::default(),
    };
    if let Some(key) = env_key(SIM_API_KEY_ENV) {
        base.api_key = Some(key);
    }
    Ok(args.apply(base)?)
}

/// A non-empty environment variable.
fn env_key(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

/// Prints the address, serves until Ctrl-C, then lets in-flight requests
/// end and flushes the truth file.
async fn serve(config: SimConfig) -> anyhow::Result<()> {
    let sim = SimServer::start(config)
        .await
        .map_err(super::advise_listen)?;
    // A closed stdout (the reader went away) must not stop the server.
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "tokenpace sim listening on {}", sim.url());
    if let Some(tls) = sim.tls() {
        let _ = writeln!(stdout, "certificate SHA-256 {}", tls.fingerprint);
        // The file is named by the port, never by anything a client sent.
        let file = std::env::temp_dir().join(format!("tokenpace-sim-{}.pem", sim.addr().port()));
        match std::fs::write(&file, &tls.cert_pem) {
            Ok(()) => {
                let _ = writeln!(stdout, "certificate: {} (bench --ca-cert)", file.display());
            }
            Err(e) => eprintln!("could not write the certificate to {}: {e}", file.display()),
        }
    }
    if let Some(path) = sim.truth_path() {
        let _ = writeln!(stdout, "ground truth: {}", path.display());
    }
    let interrupted = tokio::signal::ctrl_c().await;
    let stopped = sim.shutdown().await;
    interrupted.context("could not wait for Ctrl-C")?;
    stopped
}
