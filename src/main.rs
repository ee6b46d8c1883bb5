//! The `tokenpace` binary: parse, run, report the error once, exit.

use clap::Parser;
use std::process::ExitCode;
use tokenpace_present::terminal::{safe, SafeWriter};

fn main() -> ExitCode {
    let cli = tokenpace::cli::Cli::parse();
    // Server text (model names, error messages) is shown, never obeyed.
    let mut stdout = SafeWriter::new(std::io::stdout().lock());
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
            eprintln!("error: {}", safe(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}
