//! From the session options `bench` and `capacity` share to a
//! [`SessionSpec`].

use crate::cli::SessionArgs;
use tokenpace_runner::{AgentSpec, SessionSpec};

/// Sessions or agent tasks, when any of their options asks for them.
pub fn sessions(a: &SessionArgs) -> Option<SessionSpec> {
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
