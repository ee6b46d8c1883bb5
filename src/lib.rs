//! tokenpace as a library: [`run`] executes a parsed command line and writes
//! its output to any writer, so tests drive the tool in-process.

pub mod cli;
mod cmd;

#[cfg(feature = "engine")]
mod embedded;
mod input;
pub mod output;
mod progress;

pub use tokenpace_present::Lang;

use std::io::Write;
use std::path::Path;
use std::process::ExitCode;
use tokenpace_client::bench::{interrupted, Interrupt};
use tokenpace_present::terminal;
use tokenpace_rundir::{Lock, RunDir};

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
    /// SIGTERM (a supervisor such as Kubernetes stopping the run) cut it
    /// short, with everything written as after Ctrl-C (exit code 143).
    Terminated,
}

impl Status {
    /// The process exit code for this status.
    pub fn exit_code(self) -> ExitCode {
        match self {
            Status::Ok => ExitCode::SUCCESS,
            Status::BelowTier => ExitCode::from(1),
            Status::Interrupted => ExitCode::from(130),
            Status::Terminated => ExitCode::from(143),
        }
    }
}

/// Runs one command. Errors are the user's to fix (bad input, unreadable
/// files) and carry a message that says how; the binary exits 2 on them.
/// A command that writes a run directory (`--out`) holds it for the whole
/// command; a run that a signal interrupted ends with its status
/// ([`Status::Interrupted`], [`Status::Terminated`]) even when nothing was
/// measured.
pub fn run(cli: cli::Cli, out: &mut dyn Write) -> anyhow::Result<Status> {
    cli::flags::install();
    let lang = Lang::resolve(cli.lang);
    progress::set_quiet(cli.quiet);
    let _lock = match out_dir(&cli.command) {
        Some(dir) => Some(lock(dir)?),
        None => None,
    };
    let result = dispatch(cli.command, lang, out);
    match interrupted() {
        None => result,
        Some(signal) => {
            if let Err(e) = &result {
                eprintln!("interrupted: {}", terminal::line(&format!("{e:#}")));
            }
            Ok(match signal {
                Interrupt::Ctrl => Status::Interrupted,
                Interrupt::Term => Status::Terminated,
            })
        }
    }
}

/// The run directory a command writes, if any.
fn out_dir(command: &cli::Command) -> Option<&Path> {
    match command {
        cli::Command::Bench(args) => args.out.as_deref(),
        cli::Command::Capacity(args) => args.out.as_deref(),
        cli::Command::Merge(args) => Some(&args.out),
        cli::Command::Import(args) => args.out.as_deref(),
        _ => None,
    }
}

/// Holds `dir` for this process: one run at a time writes into it.
fn lock(dir: &Path) -> anyhow::Result<Lock> {
    let lock = RunDir::new(dir).lock()?;
    if let Some(holder) = &lock.took_over {
        let note = format!(
            "took over '{}': {}, which held it, is no longer running (a run killed before it ended; its files there may be partial)",
            dir.join(tokenpace_rundir::LOCK).display(),
            tokenpace_rundir::describe(holder)
        );
        eprintln!("note: {}", terminal::line(&note));
    }
    Ok(lock)
}

fn dispatch(command: cli::Command, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    match command {
        cli::Command::Grade(args) => cmd::grade::run(args, lang, out),
        cli::Command::Bench(args) => cmd::bench::run(*args, lang, out),
        cli::Command::Sim(args) => cmd::sim::run(args),
        cli::Command::Capacity(args) => cmd::capacity::run(args, lang, out),
        cli::Command::Merge(args) => cmd::merge::run(args, lang, out),
        cli::Command::Models(args) => cmd::models::run(args, lang, out),
        cli::Command::Serve(args) => cmd::serve::run(args, lang),
        cli::Command::Report(args) => cmd::report::run(args, lang, out),
        cli::Command::Import(args) => cmd::import::run(args, lang, out),
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
