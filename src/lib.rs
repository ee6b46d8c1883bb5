//! tokenpace as a library: [`run`] executes a parsed command line and writes
//! its output to any writer, so tests drive the tool in-process.

pub mod cli;
mod cmd;

#[cfg(feature = "engine")]
mod embedded;
mod input;
pub mod output;
mod progress;
mod session_plan;

pub mod self_check;
mod table;

pub use tokenpace_present::Lang;

use std::io::Write;
use std::process::ExitCode;

/// How a successful command ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Status {
    /// Everything as asked.
    Ok,
    /// A `--fail-below` gate was not met (exit code 1).
    BelowTier,
    /// Ctrl-C cut the run short (exit code 130, as a shell reports SIGINT):
    /// the requests that finished are summarised and kept, but the run is
    /// not the one asked for.
    Interrupted,
}

impl Status {
    /// The process exit code for this status.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Status::Ok => ExitCode::SUCCESS,
            Status::BelowTier => ExitCode::from(1),
            Status::Interrupted => ExitCode::from(130),
        }
    }
}

/// Runs one command. Errors are the user's to fix (bad input, unreadable
/// files) and carry a message that says how; the binary exits 2 on them.
pub fn run(cli: cli::Cli, out: &mut dyn Write) -> anyhow::Result<Status> {
    let lang = Lang::resolve(cli.lang);
    progress::set_quiet(cli.quiet);
    match cli.command {
        cli::Command::Grade(args) => cmd::grade::run(args, lang, out),
        cli::Command::Bench(args) => cmd::bench::run(*args, lang, out),
        cli::Command::Sim(args) => cmd::sim::run(args),
        cli::Command::Capacity(args) => cmd::capacity::run(args, lang, out),
        cli::Command::Merge(args) => cmd::merge::run(args, lang, out),
        cli::Command::Models(args) => cmd::models::run(args, lang, out),
        cli::Command::Serve(args) => cmd::serve::run(args, lang),
        cli::Command::Report(args) => cmd::report::run(args, lang, out),
        cli::Command::Compare(args) => cmd::compare::run(args, lang, out),
        cli::Command::History(args) => cmd::history::run(args, lang, out),
        cli::Command::Completions(args) => cmd::shell::completions(args, out),
        cli::Command::Man(args) => cmd::shell::man(args, out),
        cli::Command::Plan(plan) => match plan.command {
            cli::PlanCommand::Scenario(args) => cmd::plan_scenario::run(args, lang, out),
            cli::PlanCommand::Bounds(args) => cmd::plan_bounds::run(args, lang, out),
            cli::PlanCommand::Remedies(args) => cmd::plan_remedies::run(args, lang, out),
            cli::PlanCommand::Calibrate(args) => cmd::plan_calibrate::run(args, lang, out),
            cli::PlanCommand::Capacity(args) => cmd::plan_capacity::run(args, lang, out),
        },
    }
}
