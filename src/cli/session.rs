//! Options shared by `bench` and `capacity` for multi-turn sessions and
//! agent loops.

use clap::{Args, ValueEnum};
use std::path::PathBuf;
use tokenpace_core::dist::{Dist, Unit};
use tokenpace_runner::{AgentSpec, SessionSpec};

/// Sessions and agent tasks.
#[derive(Debug, Clone, Args)]
#[command(next_help_heading = "Sessions and agents")]
pub struct SessionArgs {
    /// Multi-turn chat sessions of this many turns (5, 3..8 or exp:4): each
    /// turn sends the whole history, with the server's own answers, plus a
    /// new --prompt-tokens user message. --requests then counts sessions
    /// and --concurrency users.
    #[arg(long, value_name = "N|A..B|exp:M", value_parser = turns)]
    pub turns: Option<Dist>,
    /// Pause between a turn's answer and the user's next message (2s,
    /// 500ms, 1s..5s or exp:2s); in an agent loop, the tool's run time.
    #[arg(long, value_name = "TIME", value_parser = think_time, default_value = "0s")]
    pub think_time: Dist,
    /// Header carrying each session's id, for sticky routing.
    #[arg(long, value_name = "NAME", default_value = "X-Session-ID")]
    pub session_header: String,
    /// Send no session-id header.
    #[arg(long)]
    pub no_session_header: bool,
    /// Replay conversations from a file as sessions: a multi-turn ShareGPT
    /// JSON array, or JSONL with {"messages": [...]} per line. The users'
    /// messages are sent in order; the assistant's are the server's own.
    #[arg(long, value_name = "FILE")]
    pub conversations: Option<PathBuf>,
    /// Agent tasks of up to K model calls: the model is offered a search
    /// tool, each tool call is answered with a canned result and the loop
    /// goes on; the last call is asked to answer in text (tool_choice none).
    #[arg(long, value_name = "K", conflicts_with_all = ["turns", "conversations"])]
    pub agent_steps: Option<u32>,
    /// Tokens of the canned result each tool call gets.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 200,
        requires = "agent_steps"
    )]
    pub tool_result_tokens: u32,
    /// tool_choice of every agent step but the last.
    #[arg(long, value_enum, default_value_t = ToolChoiceArg::Auto, requires = "agent_steps")]
    pub tool_choice: ToolChoiceArg,
}

/// OpenAI `tool_choice` for the steps that should call a tool.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ToolChoiceArg {
    /// The model decides (every server that supports tools).
    Auto,
    /// The model must call a tool (vLLM, SGLang and OpenAI support it).
    Required,
}

impl ToolChoiceArg {
    /// The value sent.
    pub fn as_str(self) -> &'static str {
        match self {
            ToolChoiceArg::Auto => "auto",
            ToolChoiceArg::Required => "required",
        }
    }
}

fn turns(s: &str) -> Result<Dist, String> {
    Dist::parse(s, Unit::Count, "--turns")
}

fn think_time(s: &str) -> Result<Dist, String> {
    Dist::parse(s, Unit::Seconds, "--think-time")
}

impl SessionArgs {
    /// Sessions or agent tasks (`bench` and `capacity` share these
    /// options), when any of them asks for them.
    pub fn spec(&self) -> Option<SessionSpec> {
        let a = self;
        if a.turns.is_none() && a.conversations.is_none() && a.agent_steps.is_none() {
            return None;
        }
        Some(SessionSpec {
            // A conversations file alone replays every user message it has.
            turns: a
                .turns
                .unwrap_or(tokenpace_core::dist::Dist::fixed(f64::from(
                    tokenpace_client::session::MAX_TURNS,
                ))),
            think_time: a.think_time,
            header: (!a.no_session_header && !a.session_header.trim().is_empty())
                .then(|| a.session_header.trim().to_string()),
            conversations: a.conversations.clone(),
            agent: a.agent_steps.map(|steps| AgentSpec {
                steps,
                tool_result_tokens: a.tool_result_tokens,
                tool_choice: a.tool_choice.as_str(),
            }),
        })
    }
}
