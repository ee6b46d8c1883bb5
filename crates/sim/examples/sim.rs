//! The simulator on its own, from a TOML file (flags are the `tokenpace sim`
//! binary's): `cargo run -p tokenpace-sim --example sim -- sim.example.toml`
//! (no file: the defaults, on port 8000). Serves until Ctrl-C.

use std::path::Path;

use tokenpace_sim::{SimConfig, SimServer};

#[tokio::main]
async fn main() {
    if let Err(e) = run(std::env::args_os().nth(1).as_deref().map(Path::new)).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}

async fn run(file: Option<&Path>) -> anyhow::Result<()> {
    let config = match file {
        Some(path) => SimConfig::from_toml_file(path)?,
        None => SimConfig::default(),
    };
    let sim = SimServer::start(config).await?;
    println!("listening on {}", sim.url());
    let interrupted = tokio::signal::ctrl_c().await;
    sim.shutdown().await?;
    Ok(interrupted?)
}
