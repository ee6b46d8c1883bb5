//! `tokenpace completions SHELL` and `tokenpace man [COMMAND]`: generated
//! from the clap declaration, so they never drift from the flags.

use crate::cli::{Cli, CompletionsArgs, ManArgs, ShellArg};
use crate::Status;
use anyhow::{bail, Context};
use clap::CommandFactory;
use clap_complete::Shell;
use std::io::Write;

/// Writes the completion script of `args.shell` to `out`.
pub fn completions(args: CompletionsArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let shell = match args.shell {
        ShellArg::Bash => Shell::Bash,
        ShellArg::Zsh => Shell::Zsh,
        ShellArg::Fish => Shell::Fish,
    };
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut Cli::command(), "tokenpace", &mut script);
    out.write_all(&script)?;
    Ok(Status::Ok)
}

/// Writes the manual page of tokenpace, or of one of its commands, to `out`.
pub fn man(args: ManArgs, out: &mut dyn Write) -> anyhow::Result<Status> {
    let mut cli = Cli::command();
    cli.build();
    let (page, title) = match &args.command {
        None => (cli, "tokenpace".to_string()),
        Some(name) => match cli.find_subcommand(name) {
            Some(sub) => (sub.clone(), format!("tokenpace-{name}")),
            None => {
                let names: Vec<&str> = cli.get_subcommands().map(|c| c.get_name()).collect();
                bail!(
                    "there is no command '{name}': give one of {}",
                    names.join(", ")
                )
            }
        },
    };
    let mut roff = Vec::new();
    clap_mangen::Man::new(page)
        .title(title.to_uppercase())
        .render(&mut roff)
        .context("could not render the manual page")?;
    out.write_all(&roff)?;
    Ok(Status::Ok)
}
