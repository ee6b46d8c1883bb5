//! A plan checked before anything is sent: what the levels do not check
//! themselves (counts, prompt sources, sessions, a trace, repeats).

use super::{BenchPlan, LevelPlan, SessionSpec};
use anyhow::bail;
use tokenpace_client::load::Load;
use tokenpace_core::setting::Setting;

impl BenchPlan {
    /// Checks what the levels do not: counts at least 1, a dataset not
    /// combined with synthetic prompt settings, sessions and a trace each
    /// with what they allow.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.requests == 0 {
            bail!("{} must be at least 1", Setting::Requests);
        }
        if self.workload.max_tokens == 0 {
            bail!("{} must be at least 1", Setting::MaxTokens);
        }
        if self.levels.is_empty() {
            bail!(
                "nothing to measure: give {} or {}",
                Setting::Concurrency,
                Setting::Rate
            );
        }
        if self.workload.dataset.is_some()
            && (self.sweeps_prompts() || self.workload.shared_prefix > 0)
        {
            bail!(
                "{} brings its own prompts: drop {} lists and {}",
                Setting::Dataset,
                Setting::PromptTokens,
                Setting::SharedPrefix
            );
        }
        if self.workload.prefix_groups > 1 && self.workload.shared_prefix == 0 {
            bail!(
                "{} needs {} N: the tokens each group shares",
                Setting::PrefixGroups,
                Setting::SharedPrefix
            );
        }
        if let Some(s) = &self.sessions {
            self.check_sessions(s)?;
        }
        self.check_trace()?;
        if self.workload.model_mix.is_some()
            && (self.sessions.is_some() || self.workload.trace.is_some())
        {
            bail!(
                "{} spreads single requests over models: drop {}, {}, {} or {}",
                Setting::ModelMix,
                Setting::Turns,
                Setting::AgentSteps,
                Setting::Conversations,
                Setting::Trace
            );
        }
        let counted_by_file = self.workload.trace.is_some()
            || self
                .sessions
                .as_ref()
                .is_some_and(|s| s.conversations.is_some());
        self.statistics
            .check(self.requests, self.sessions.is_some(), counted_by_file)?;
        let open = (self.levels.iter()).any(|l| !matches!(l.load, Load::Closed { .. }));
        if self.statistics.until_precise.is_some() && (open || self.shard.count > 1) {
            bail!(
                "{} keeps a closed loop going in one process: use {}, without {} or {}",
                Setting::UntilPrecise,
                Setting::Concurrency,
                Setting::Rate,
                Setting::Shard
            );
        }
        Ok(())
    }

    /// Sessions or agent tasks: counts one run can plan, their own prompt
    /// source, at least one turn and step, a protocol that streams tool
    /// calls for agents.
    fn check_sessions(&self, s: &SessionSpec) -> anyhow::Result<()> {
        // Each session's turn count is drawn up front (shards agree);
        // u64::MAX: as many as a --conversations file holds.
        if self.requests > 10_000_000 && !(self.requests == u64::MAX && s.conversations.is_some()) {
            bail!(
                "{} counts sessions with {} or {}: {} is more than the 10000000 one run can plan; split it over {} runs",
                Setting::Requests,
                Setting::Turns,
                Setting::AgentSteps,
                self.requests,
                Setting::Shard
            );
        }
        if self.workload.dataset.is_some() {
            bail!(
                "sessions take their user messages from {} FILE, not {}",
                Setting::Conversations,
                Setting::Dataset
            );
        }
        if let Some(max) = s.turns.max() {
            if max < 1.0 {
                bail!("{} must be at least 1", Setting::Turns);
            }
        }
        if let Some(a) = s.agent {
            if a.steps == 0 {
                bail!("{} must be at least 1", Setting::AgentSteps);
            }
            let tools = tokenpace_client::backend::by_id(&self.protocol)
                .is_some_and(|b| b.streams_tool_calls());
            if !tools {
                bail!(
                    "agent tasks need tool calls, which only the openai-chat, anthropic and responses backends stream: drop {} {} (or use {} chat)",
                    Setting::Backend,
                    self.protocol,
                    Setting::Api
                );
            }
        }
        Ok(())
    }

    /// A trace sets every level's load and brings its own prompts; a trace
    /// speed needs a trace.
    fn check_trace(&self) -> anyhow::Result<()> {
        let traced = |l: &LevelPlan| matches!(l.load, Load::Trace { .. });
        match &self.workload.trace {
            Some(t) => {
                if !self.levels.iter().all(traced) {
                    bail!(
                        "{} sets the load: drop {} and {}",
                        Setting::Trace,
                        Setting::Concurrency,
                        Setting::Rate
                    );
                }
                if self.workload.dataset.is_some() || self.workload.shared_prefix > 0 {
                    bail!(
                        "{} brings its own prompts: drop {} and {}",
                        Setting::Trace,
                        Setting::Dataset,
                        Setting::SharedPrefix
                    );
                }
                if self.sessions.is_some() {
                    bail!(
                        "{} replays single requests: drop the session flags ({}, {}, {})",
                        Setting::Trace,
                        Setting::Turns,
                        Setting::Conversations,
                        Setting::AgentSteps
                    );
                }
                if t.block_tokens == 0 {
                    bail!("{} must be at least 1", Setting::TraceBlockTokens);
                }
            }
            None if self.levels.iter().any(traced) => {
                bail!("a trace speed needs a trace: give {} FILE", Setting::Trace)
            }
            None => {}
        }
        Ok(())
    }
}
