//! Options of `tokenpace completions` and `tokenpace man`.

use clap::{Args, ValueEnum};

/// Options of `tokenpace completions`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  tokenpace completions bash > ~/.local/share/bash-completion/completions/tokenpace
  tokenpace completions zsh > ~/.zfunc/_tokenpace      (with fpath+=~/.zfunc before compinit)
  tokenpace completions fish > ~/.config/fish/completions/tokenpace.fish")]
pub struct CompletionsArgs {
    /// The shell to complete in.
    #[arg(value_enum)]
    pub shell: ShellArg,
}

/// A shell with completions.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ShellArg {
    /// GNU Bash.
    Bash,
    /// Z shell.
    Zsh,
    /// fish.
    Fish,
}

/// Options of `tokenpace man`.
#[derive(Debug, Clone, Args)]
#[command(after_help = "Examples:
  tokenpace man | man -l -
  tokenpace man bench > tokenpace-bench.1")]
pub struct ManArgs {
    /// The page of one command (e.g. bench) instead of tokenpace's.
    #[arg(value_name = "COMMAND")]
    pub command: Option<String>,
}
