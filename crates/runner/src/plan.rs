//! What a run measures, checked before anything is sent.

use anyhow::bail;
use std::path::PathBuf;
use std::time::Duration;
use tokenpace_client::load::Load;
use tokenpace_client::request::Target;
use tokenpace_core::setting::Setting;
use tokenpace_core::shard::Shard;
use tokenpace_core::summary::{RunSettings, TraceSettings};

pub use crate::stats_plan::StatsPlan;
pub use lengths::{lengths, DEFAULT_MAX_TOKENS, DEFAULT_PROMPT_TOKENS};
pub use target::{api_key, default_protocol, key_env, redact, target};

mod check;
mod lengths;
mod target;

/// Requests per level when neither `--requests` nor a file counts them.
pub const DEFAULT_REQUESTS: u64 = 100;
/// Closed-loop streams above which `bench` checks its own timing error
/// first unless told not to ([`SelfCheck::Auto`]).
pub const SELF_CHECK_ABOVE: u32 = 100;

/// One load level of a run (a sweep has several).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct LevelPlan {
    /// Closed loop (concurrency) or open loop (rate), for the whole run
    /// (a shard sends its share, [`BenchPlan::shard_load`]).
    pub load: Load,
    /// Prompt length in tokens.
    pub prompt_tokens: u32,
}

impl LevelPlan {
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
    pub text: tokenpace_corpus::TextLang,
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
    /// Several models behind one endpoint, weighted (`--model-mix`).
    pub model_mix: Option<std::sync::Arc<tokenpace_core::model_mix::ModelMix>>,
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
    /// Retry throttled requests after their `Retry-After`
    /// (`--retry-throttled`, soak runs); `None`: never, the measurement
    /// shows what the server did.
    pub retry_throttled: Option<tokenpace_client::request::RetryThrottled>,
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
    pub levels: Vec<LevelPlan>,
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
    /// Whether the client's own timing error is measured first.
    pub self_check: SelfCheck,
}

/// Whether a measurement first checks the client's own timing error
/// against the built-in simulator (`--self-check`, `--no-self-check`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SelfCheck {
    /// Never.
    #[default]
    Off,
    /// Always (at the largest closed-loop concurrency, else 100 streams).
    On,
    /// When a closed loop runs more than [`SELF_CHECK_ABOVE`] streams.
    Auto,
}

impl Default for WorkloadPlan {
    /// Synthetic Chinese prompts, [`DEFAULT_MAX_TOKENS`]-token answers of
    /// exactly that length, every prompt its own (a fresh [`run_salt`]).
    fn default() -> Self {
        WorkloadPlan {
            text: tokenpace_corpus::TextLang::Zh,
            max_tokens: DEFAULT_MAX_TOKENS,
            shared_prefix: 0,
            prefix_groups: 0,
            ignore_eos: true,
            tokenizer: None,
            dataset: None,
            trace: None,
            cancel: None,
            salt: run_salt(),
            model_mix: None,
        }
    }
}

impl Default for TimeoutPlan {
    /// `bench`'s defaults: 10 s to connect, 60 s to the first token and
    /// between tokens, 600 s in all, events of the client's default size.
    fn default() -> Self {
        TimeoutPlan {
            connect: Duration::from_secs(10),
            first_token: Duration::from_secs(60),
            total: Duration::from_secs(600),
            idle: Duration::from_secs(60),
            max_event_bytes: tokenpace_client::sse::DEFAULT_MAX_EVENT_BYTES,
            retry_throttled: None,
        }
    }
}

impl BenchPlan {
    /// A plan against `target`, whose URL as given is `url`, with the
    /// defaults `bench` and `capacity` share: the OpenAI chat protocol, one
    /// stream of [`DEFAULT_PROMPT_TOKENS`]-token prompts,
    /// [`DEFAULT_REQUESTS`] requests, no warm-up, ramp, duration or
    /// repeats, the whole run in one shard, [`WorkloadPlan::default`] and
    /// [`TimeoutPlan::default`]; results written nowhere. Set the fields a
    /// command changes, then [`BenchPlan::check`] it.
    pub fn new(target: Target, url: &str) -> BenchPlan {
        BenchPlan {
            target,
            target_label: redact(url.trim()),
            protocol: "openai-chat".into(),
            levels: vec![LevelPlan {
                load: Load::Closed { concurrency: 1 },
                prompt_tokens: DEFAULT_PROMPT_TOKENS,
            }],
            requests: DEFAULT_REQUESTS,
            duration: None,
            ramp_up: Duration::ZERO,
            workload: WorkloadPlan::default(),
            sessions: None,
            scenario: None,
            timeouts: TimeoutPlan::default(),
            warmup: 0,
            seed: 0,
            shard: Shard::WHOLE,
            start_at: None,
            network_overhead_s: 0.0,
            server_metrics: None,
            out: None,
            statistics: StatsPlan::default(),
            server_kind: None,
            self_check: SelfCheck::Off,
        }
    }

    /// The streams of the self-check to run first, if one is to run.
    pub fn self_check_streams(&self) -> Option<u32> {
        match self.self_check {
            SelfCheck::Off => None,
            SelfCheck::On => Some(self.closed_max().unwrap_or(100)),
            SelfCheck::Auto => self.closed_max().filter(|&c| c > SELF_CHECK_ABOVE),
        }
    }

    /// The largest closed-loop concurrency of the levels.
    pub fn closed_max(&self) -> Option<u32> {
        self.levels
            .iter()
            .filter_map(|l| match l.load {
                Load::Closed { concurrency } => Some(concurrency),
                Load::Open { .. } | Load::Trace { .. } => None,
            })
            .max()
    }

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
    ) -> anyhow::Result<Vec<LevelPlan>> {
        if prompt_tokens.is_empty() || prompt_tokens.contains(&0) {
            bail!("{} must be at least 1", Setting::PromptTokens);
        }
        if loads.len() > 1 && prompt_tokens.len() > 1 {
            bail!(
                "sweep either the load ({} or {} lists) or {}, not both in one run",
                Setting::Concurrency,
                Setting::Rate,
                Setting::PromptTokens
            );
        }
        for load in loads {
            if let Load::Closed { concurrency } = *load {
                match concurrency {
                    0 => bail!("{} must be at least 1", Setting::Concurrency),
                    c if c > 100_000 => {
                        bail!(
                            "{} {c} is implausibly large (the limit is 100000)",
                            Setting::Concurrency
                        )
                    }
                    c if shard.concurrency(c) == 0 => bail!(
                        "{} {c} split over {} shards leaves shard {} no stream: give at least one stream per shard",
                        Setting::Concurrency,
                        shard.count,
                        shard
                    ),
                    _ => {}
                }
            }
        }
        Ok(loads
            .iter()
            .flat_map(|&load| {
                prompt_tokens.iter().map(move |&prompt_tokens| LevelPlan {
                    load,
                    prompt_tokens,
                })
            })
            .collect())
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
    pub fn settings(&self, level: LevelPlan, model: &str, stall_threshold_s: f64) -> RunSettings {
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
            slo: self.statistics.slo.clone(),
            text: Some(self.workload.text.to_string()),
            model_mix: self
                .workload
                .model_mix
                .as_ref()
                .map(|m| m.entries().to_vec()),
            ..RunSettings::default()
        }
    }
}

#[cfg(test)]
mod tests;
