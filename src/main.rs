//! The `tokenpace` binary: parse, run, report the error once, exit.

use clap::Parser;
use std::process::ExitCode;

fn main() -> ExitCode {
    let cli = tokenpace::cli::Cli::parse();
    let mut stdout = std::io::stdout().lock();
    match tokenpace::run(cli, &mut stdout) {
        Ok(status) => status.exit_code(),
        Err(err) => {
            // A closed pipe (`tokenpace … | head`) is not an error.
            if err
                .chain()
                .filter_map(|e| e.downcast_ref::<std::io::Error>())
                .any(|e| e.kind() == std::io::ErrorKind::BrokenPipe)
            {
                return ExitCode::SUCCESS;
            }
            eprintln!("error: {err:#}");
            ExitCode::from(2)
        }
    }
}
