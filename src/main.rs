//! The `tokenpace` binary: parse, run, report the error once, exit.

use clap::Parser;
use std::process::ExitCode;
use tokenpace_present::terminal::{line, SafeWriter};

fn main() -> ExitCode {
    let cli = tokenpace::cli::Cli::parse();
    // A run stops on SIGTERM as on Ctrl-C, with everything written.
    tokenpace_client::bench::catch_signals();
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
            // Paths and server text in it stay on this line, escaped.
            eprintln!("error: {}", line(&format!("{err:#}")));
            ExitCode::from(2)
        }
    }
}
