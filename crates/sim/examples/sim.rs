//! `tokenpace sim` on its own, until the main binary wires it in:
//! `cargo run -p tokenpace-sim --example sim -- --port 0 --ttft-ms 200 --decode 50 --truth t.jsonl`

use clap::Parser;
use tokenpace_sim::SimArgs;

#[derive(Parser)]
#[command(name = "tokenpace-sim")]
struct Cli {
    #[command(flatten)]
    sim: SimArgs,
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = tokenpace_sim::run(cli.sim).await {
        eprintln!("error: {e:#}");
        std::process::exit(1);
    }
}
