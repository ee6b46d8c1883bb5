//! What a run measures, checked before anything is sent.

use anyhow::bail;
use std::path::PathBuf;
use std::time::Duration;
use tokenpace_client::load::Load;
use tokenpace_client::request::Target;
use tokenpace_core::shard::Shard;
use tokenpace_core::summary::{RunSettings, TraceSettings};

pub use crate::stats_plan::StatsPlan;
pub use target::{api_key, redact, target};

mod target;

/// One load level of a run (a sweep has several).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Level {
    /// Closed loop (concurrency) or open loop (rate), for the whole run
    /// (a shard sends its share, [`BenchPlan::shard_load`]).
    pub load: Load,
    /// Prompt length in tokens.
    pub prompt_tokens: u32,
}

impl Level {
    /// A short name, used for sub-directories and table rows: `c8`, `r2.5`,
    /// or `p512` when prompt lengths are swept.
    pub fn label(&self, sweep_prompts: bool) -> String {
        match (sweep_prompts, self.load) {
            (true, _) => format!("p{}", self.prompt_tokens),
            (false, Load::Closed { concurrency }) => format!("c{concurrency}"),
            (false, Load::Open { rate, .. }) => format!("r{rate}"),
            (false, Load::Trace { speed }) => format!("t{speed}"),
        }
    }
}

/// What each request asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct WorkloadPlan {
    /// Language of synthetic prompts.
    pub text: tokenpace_corpus::Lang,
    /// Tokens to generate per request (`max_tokens`).
    pub max_tokens: u32,
    /// Tokens of a prefix shared by every prompt of a group (0: every
    /// prompt unique); in sessions, the system prompt.
    pub shared_prefix: u32,
    /// Groups of users with their own shared prefix (0 or 1: one group).
    pub prefix_groups: u32,
    /// Ask for exactly `max_tokens` (ignore end-of-sequence).
    pub ignore_eos: bool,
    /// The model's tokenizer.json, for exact prompt lengths.
    pub tokenizer: Option<PathBuf>,
    /// Prompts from a file instead of synthetic text.
    pub dataset: Option<PathBuf>,
    /// A trace to replay: its times, lengths and shared prefixes replace
    /// the synthetic ones (the levels are then [`Load::Trace`]).
    pub trace: Option<tokenpace_client::trace::TraceSpec>,
    /// Users who stop reading (`--cancel-after`).
    pub cancel: Option<tokenpace_core::cancel::CancelPlan>,
    /// The run's nonce, mixed into every prompt's salt so that no earlier
    /// run (with the same `--seed`) primed a prefix cache with them; 0
    /// with `--reuse-prompts`. See [`run_salt`].
    pub salt: u64,
}

/// A nonce for a run's prompts, from the wall clock: two runs get different
/// prompts whatever their `--seed` (shards of a run differ by request ids).
pub fn run_salt() -> u64 {
    let ns = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(1, |d| d.as_nanos() as u64);
    ns.max(1)
}

/// Multi-turn sessions or agent tasks instead of single requests.
#[derive(Debug, Clone, PartialEq)]
pub struct SessionSpec {
    /// Turns per session.
    pub turns: tokenpace_core::dist::Dist,
    /// Pause between turns (agents: the tool's run time), seconds.
    pub think_time: tokenpace_core::dist::Dist,
    /// Header carrying the session id (`None`: not sent).
    pub header: Option<String>,
    /// User messages from a conversations file instead of synthetic text.
    pub conversations: Option<PathBuf>,
    /// Set for agent tasks.
    pub agent: Option<AgentSpec>,
}

/// An agent loop's shape.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct AgentSpec {
    /// Model calls per task at most.
    pub steps: u32,
    /// Tokens of each canned tool result.
    pub tool_result_tokens: u32,
    /// `tool_choice` of every step but the last.
    pub tool_choice: &'static str,
}

impl SessionSpec {
    /// The settings recorded with results.
    pub fn settings(&self) -> tokenpace_core::summary::SessionSettings {
        tokenpace_core::summary::SessionSettings {
            turns: self.turns,
            think_time_s: self.think_time,
            agent_steps: self.agent.map(|a| a.steps),
            tool_result_tokens: self.agent.map(|a| a.tool_result_tokens),
            conversations: self.conversations.as_ref().map(|p| p.display().to_string()),
            session_header: self.header.clone(),
        }
    }
}

/// Per-request limits: time, and the size of one streamed event.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TimeoutPlan {
    /// To open a connection.
    pub connect: Duration,
    /// To the first token.
    pub first_token: Duration,
    /// For the whole request.
    pub total: Duration,
    /// Between two token-carrying events once the first came.
    pub idle: Duration,
    /// Bytes one streamed event (or line) may hold; a larger one fails its
    /// request as `event_too_large`.
    pub max_event_bytes: usize,
}

/// A whole run, as checked and typed values.
#[derive(Debug, Clone)]
pub struct BenchPlan {
    /// Where requests go (the model may be empty: the first of
    /// `GET /v1/models` is asked for then).
    pub target: Target,
    /// The target's URL as recorded in results (credentials removed).
    pub target_label: String,
    /// The protocol, by backend id (`openai-chat`, `llamacpp`, …).
    pub protocol: String,
    /// The levels, in order.
    pub levels: Vec<Level>,
    /// Requests per level (this whole run's, before sharding).
    pub requests: u64,
    /// Stop starting requests of a level after this long.
    pub duration: Option<Duration>,
    /// Closed loop: start the streams evenly over this long.
    pub ramp_up: Duration,
    /// What each request asks for.
    pub workload: WorkloadPlan,
    /// Sessions or agent tasks: `requests` then counts sessions, and a
    /// closed loop's concurrency counts users.
    pub sessions: Option<SessionSpec>,
    /// The built-in scenario the lengths came from, if any.
    pub scenario: Option<String>,
    /// Per-request limits.
    pub timeouts: TimeoutPlan,
    /// Requests sent before each level, left out of its results.
    pub warmup: u64,
    /// Seed for prompts and arrival times.
    pub seed: u64,
    /// The part of the run this process sends.
    pub shard: Shard,
    /// The wall-clock instant the first level's load starts at
    /// (`--start-at`), so the shards of a run load the server together.
    pub start_at: Option<std::time::SystemTime>,
    /// Network time subtracted from TTFT for client-side prefill, seconds.
    pub network_overhead_s: f64,
    /// Prometheus endpoint scraped around each level, if any.
    pub server_metrics: Option<String>,
    /// Where results are written, if anywhere.
    pub out: Option<PathBuf>,
    /// Repeats and steady-state trims.
    pub statistics: StatsPlan,
    /// Whose server the target is (`--server-kind`); `None`: discovered
    /// from its model list.
    pub server_kind: Option<tokenpace_client::server_kind::ServerKind>,
}

impl BenchPlan {
    /// Whether the levels differ in prompt length (a prefill line).
    pub fn sweeps_prompts(&self) -> bool {
        let first = self.levels.first().map(|l| l.prompt_tokens);
        self.levels.iter().any(|l| Some(l.prompt_tokens) != first)
    }

    /// The levels' loads × prompt lengths, checked: a sweep varies one of
    /// them, every level has a stream per shard, lengths are at least 1.
    pub fn levels_of(
        loads: &[Load],
        prompt_tokens: &[u32],
        shard: Shard,
    ) -> anyhow::Result<Vec<Level>> {
        if prompt_tokens.is_empty() || prompt_tokens.contains(&0) {
            bail!("--prompt-tokens must be at least 1");
        }
        if loads.len() > 1 && prompt_tokens.len() > 1 {
            bail!("sweep either the load (--concurrency or --rate lists) or --prompt-tokens, not both in one run");
        }
        for load in loads {
            if let Load::Closed { concurrency } = *load {
                match concurrency {
                    0 => bail!("--concurrency must be at least 1"),
                    c if c > 100_000 => {
                        bail!("--concurrency {c} is implausibly large (the limit is 100000)")
                    }
                    c if shard.concurrency(c) == 0 => bail!(
                        "--concurrency {c} split over {} shards leaves shard {} no stream: give at least one stream per shard",
                        shard.count, shard
                    ),
                    _ => {}
                }
            }
        }
        Ok(loads
            .iter()
            .flat_map(|&load| {
                prompt_tokens.iter().map(move |&prompt_tokens| Level {
                    load,
                    prompt_tokens,
                })
            })
            .collect())
    }

    /// Checks what the levels do not: counts at least 1, a dataset not
    /// combined with synthetic prompt settings.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.requests == 0 {
            bail!("--requests must be at least 1");
        }
        if self.workload.max_tokens == 0 {
            bail!("--max-tokens must be at least 1");
        }
        if self.levels.is_empty() {
            bail!("nothing to measure: give --concurrency or --rate");
        }
        if self.workload.dataset.is_some()
            && (self.sweeps_prompts() || self.workload.shared_prefix > 0)
        {
            bail!(
                "--dataset brings its own prompts: drop --prompt-tokens lists and --shared-prefix"
            );
        }
        if self.workload.prefix_groups > 1 && self.workload.shared_prefix == 0 {
            bail!("--prefix-groups needs --shared-prefix N: the tokens each group shares");
        }
        if let Some(s) = &self.sessions {
            // Each session's turn count is drawn up front (shards agree);
            // u64::MAX: as many as a --conversations file holds.
            if self.requests > 10_000_000
                && !(self.requests == u64::MAX && s.conversations.is_some())
            {
                bail!(
                    "--requests counts sessions with --turns or --agent-steps: {} is more than the 10000000 one run can plan; split it over --shard runs",
                    self.requests
                );
            }
            if self.workload.dataset.is_some() {
                bail!("sessions take their user messages from --conversations FILE, not --dataset");
            }
            if let Some(max) = s.turns.max() {
                if max < 1.0 {
                    bail!("--turns must be at least 1");
                }
            }
            if let Some(a) = s.agent {
                if a.steps == 0 {
                    bail!("--agent-steps must be at least 1");
                }
                let tools = tokenpace_client::backend::by_id(&self.protocol)
                    .is_some_and(|b| b.streams_tool_calls());
                if !tools {
                    bail!(
                        "agent tasks need tool calls, which only the openai-chat, anthropic and responses backends stream: drop --backend {} (or use --api chat)",
                        self.protocol
                    );
                }
            }
        }
        let traced = |l: &Level| matches!(l.load, Load::Trace { .. });
        match &self.workload.trace {
            Some(t) => {
                if !self.levels.iter().all(traced) {
                    bail!("--trace sets the load: drop --concurrency and --rate");
                }
                if self.workload.dataset.is_some() || self.workload.shared_prefix > 0 {
                    bail!("--trace brings its own prompts: drop --dataset and --shared-prefix");
                }
                if self.sessions.is_some() {
                    bail!("--trace replays single requests: drop the session flags (--turns, --conversations, --agent-steps)");
                }
                if t.block_tokens == 0 {
                    bail!("--trace-block-tokens must be at least 1");
                }
            }
            None if self.levels.iter().any(traced) => {
                bail!("a trace speed needs a trace: give --trace FILE")
            }
            None => {}
        }
        let counted_by_file = self.workload.trace.is_some()
            || self
                .sessions
                .as_ref()
                .is_some_and(|s| s.conversations.is_some());
        self.statistics
            .check(self.requests, self.sessions.is_some(), counted_by_file)?;
        Ok(())
    }

    /// This shard's part of a level's load (levels keep the whole run's
    /// load, so every shard names its levels alike).
    pub fn shard_load(&self, load: Load) -> Load {
        match load {
            Load::Closed { concurrency } => Load::Closed {
                concurrency: self.shard.concurrency(concurrency),
            },
            // Each shard sends its requests at the trace's own times.
            Load::Trace { speed } => Load::Trace { speed },
            Load::Open { rate, arrival } => Load::Open {
                rate: self.shard.rate(rate),
                arrival,
            },
        }
    }

    /// The most requests in flight at once (open loops: a generous guess).
    pub fn max_in_flight(&self) -> usize {
        self.levels
            .iter()
            .map(|l| match l.load {
                Load::Closed { concurrency } => concurrency as usize,
                Load::Open { .. } | Load::Trace { .. } => 64,
            })
            .max()
            .unwrap_or(1)
    }

    /// The settings recorded with a level's results.
    pub fn settings(&self, level: Level, model: &str, stall_threshold_s: f64) -> RunSettings {
        let load = self.shard_load(level.load);
        RunSettings {
            target: Some(self.target_label.clone()),
            backend: Some(self.protocol.clone()),
            model: Some(model.to_string()),
            concurrency: match load {
                Load::Closed { concurrency } => Some(concurrency),
                Load::Open { .. } | Load::Trace { .. } => None,
            },
            rate: match load {
                Load::Open { rate, .. } => Some(rate),
                Load::Closed { .. } | Load::Trace { .. } => None,
            },
            requests: Some(self.requests),
            // A trace's lengths vary by request.
            prompt_tokens: self.workload.trace.is_none().then_some(level.prompt_tokens),
            max_tokens: self
                .workload
                .trace
                .is_none()
                .then_some(self.workload.max_tokens),
            scenario: self.scenario.clone(),
            stall_threshold_s,
            network_overhead_s: self.network_overhead_s,
            shard: self.shard.is_split().then_some(self.shard),
            start_at: self.start_at.map(tokenpace_core::wall_clock::format),
            sessions: self.sessions.as_ref().map(SessionSpec::settings),
            trace: match (&self.workload.trace, load) {
                (Some(spec), Load::Trace { speed }) => Some(TraceSettings {
                    file: spec.path.file_name().map_or_else(
                        || spec.path.display().to_string(),
                        |n| n.to_string_lossy().into_owned(),
                    ),
                    speed,
                    start_s: spec.start.as_secs_f64(),
                    duration_s: spec.duration.map(|d| d.as_secs_f64()),
                }),
                _ => None,
            },
            cancel: self.workload.cancel,
            trim_start_s: Some(self.statistics.trim_start_s).filter(|t| *t > 0.0),
            trim_end_s: Some(self.statistics.trim_end_s).filter(|t| *t > 0.0),
            text: Some(self.workload.text.to_string()),
            ..RunSettings::default()
        }
    }
}

/// Prompt length and answer length when neither flag nor scenario gives one.
pub const DEFAULT_PROMPT_TOKENS: u32 = 256;
/// See [`DEFAULT_PROMPT_TOKENS`].
pub const DEFAULT_MAX_TOKENS: u32 = 128;

/// Prompt lengths and answer length: the flags, else the scenario's, else
/// the defaults.
pub fn lengths(
    scenario: Option<&str>,
    prompt_tokens: &[u32],
    max_tokens: Option<u32>,
) -> anyhow::Result<(Vec<u32>, u32)> {
    let spec = match scenario {
        Some(name) => Some(
            tokenpace_core::scenario::preset_named(name)
                .ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown scenario '{name}': use one of {} (tokenpace plan scenario --list shows them)",
                        tokenpace_core::scenario::preset_names()
                    )
                })?
                .spec(),
        ),
        None => None,
    };
    let prompts = match (prompt_tokens, &spec) {
        ([], Some(s)) => s.prompt_tokens.map(|p| p as u32).into_iter().collect(),
        (given, _) => given.to_vec(),
    };
    let prompts = if prompts.is_empty() {
        vec![DEFAULT_PROMPT_TOKENS]
    } else {
        prompts
    };
    let max = max_tokens
        .or_else(|| spec.and_then(|s| s.output_tokens.map(|o| o as u32)))
        .unwrap_or(DEFAULT_MAX_TOKENS);
    if prompts.contains(&0) {
        anyhow::bail!("--prompt-tokens must be at least 1");
    }
    Ok((prompts, max))
}

#[cfg(test)]
mod tests;
