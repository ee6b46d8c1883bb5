//! [`RunSummary`]: what one run amounts to — its settings, the machine it ran
//! on, how many requests ended how, and the statistics of every metric.

pub use crate::aggregate::{Counts, Throughput};

use crate::aggregate::Aggregate;
use crate::conversation::{Conversation, ConversationKind};
use crate::metric::Metric;
use crate::prefix_cache::PrefixCache;
use crate::record::RequestRecord;
use crate::repeats::Repeats;
use crate::request_metrics::MetricOptions;
use crate::stats::{Statistic, Stats};
use crate::steady_state::{steady_state, SteadyOptions, SteadyState};
use crate::timeline::{timeline, Second};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// How a run's synthetic prompts got their length.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum PromptLengths {
    /// Cut to the length asked on the tokenizer that counts (the server's
    /// own, or `--tokenizer`).
    Exact,
    /// Estimated from characters; the server's usage tells the truth.
    Estimated,
}

/// How a run was configured. Commands fill what applies to them.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunSettings {
    /// What was measured: a URL (never with credentials), or `engine:<model>`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    /// The backend protocol (e.g. `openai-chat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backend: Option<String>,
    /// The model name as the server knows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model: Option<String>,
    /// Closed-loop concurrency.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub concurrency: Option<u32>,
    /// Open-loop arrival rate, requests/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rate: Option<f64>,
    /// Requests planned.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests: Option<u64>,
    /// Prompt tokens per request asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<u32>,
    /// `max_tokens` asked for.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_tokens: Option<u32>,
    /// Scenario preset, if one was used.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scenario: Option<String>,
    /// Stall threshold used, seconds.
    pub stall_threshold_s: f64,
    /// Network overhead subtracted from TTFT for client-side prefill, seconds.
    pub network_overhead_s: f64,
    /// The part of a sharded run this is (`bench --shard I/N`); absent for a
    /// whole run, including one merged from shards.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shard: Option<crate::shard::Shard>,
    /// The instant the shards of a run agreed to start their load at
    /// (`bench --start-at`), RFC 3339 UTC.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub start_at: Option<String>,
    /// Set when each unit of load was a session or an agent task:
    /// `requests` and `concurrency` then count sessions and users.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sessions: Option<SessionSettings>,
    /// Set when the load was a replayed trace: `requests` then counts the
    /// trace's requests in its window.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace: Option<TraceSettings>,
    /// Users who stop reading (`--cancel-after`), when some do.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cancel: Option<crate::cancel::CancelPlan>,
    /// Seconds after the first send the steady-state window may start at
    /// the earliest (`bench --trim-start-s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_start_s: Option<f64>,
    /// Seconds before the last end the steady-state window must end
    /// (`bench --trim-end-s`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trim_end_s: Option<f64>,
    /// Whose server it was (`vllm`, `sglang`, `llamacpp`, `tgi`,
    /// `ollama`, `tokenpace`, `other`): discovered or `--server-kind`. It
    /// decides what a request may carry (`ignore_eos`, per-chunk usage).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server_kind: Option<String>,
    /// The language of the prompt text (`zh`, `en`, `mixed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
    /// Whether synthetic prompts were cut to exact lengths on a tokenizer,
    /// or their lengths estimated.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_lengths: Option<PromptLengths>,
    /// What counted the prompts' tokens, when they were cut exactly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokenizer: Option<String>,
    /// Set when another tool measured the run and `tokenpace import` read
    /// its result file.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub imported: Option<crate::imported::Imported>,
    /// The HTTP version the requests spoke: `1.1`, or `2` (`--h2c`, or an
    /// `https://` server that picked `h2` by ALPN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub http_version: Option<String>,
    /// The models the requests were spread over, with their weights and
    /// lengths (`bench --model-mix`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub model_mix: Option<Vec<crate::model_mix::MixEntry>>,
    /// The SLO the run's goodput is counted against (`bench --slo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub slo: Option<crate::slo::Slo>,
}

impl RunSettings {
    /// What the run's sessions were, when it ran sessions: agent tasks when
    /// it offered tools, else chats.
    pub fn conversation_kind(&self) -> Option<ConversationKind> {
        self.sessions.as_ref().map(|s| match s.agent_steps {
            Some(_) => ConversationKind::Agent,
            None => ConversationKind::Chat,
        })
    }
}

/// Which trace a run replayed, and how fast.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TraceSettings {
    /// The trace file's name (without its directory).
    pub file: String,
    /// How many times faster than the trace's own times it was replayed.
    pub speed: f64,
    /// Trace time skipped before the window, seconds.
    pub start_s: f64,
    /// The window's length in trace time, seconds (absent: to the end).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub duration_s: Option<f64>,
}

/// How the sessions (or agent tasks) of a run were shaped.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SessionSettings {
    /// Turns per session asked for (a conversations file may have fewer).
    pub turns: crate::dist::Dist,
    /// Pause between turns (agents: the tool's run time), seconds.
    pub think_time_s: crate::dist::Dist,
    /// Agent tasks: model calls per task at most.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub agent_steps: Option<u32>,
    /// Agent tasks: tokens of each canned tool result.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_result_tokens: Option<u32>,
    /// The conversations file the user messages came from, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversations: Option<String>,
    /// The header that carried the session id, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session_header: Option<String>,
}

/// The machine and tool that produced a run.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Environment {
    /// tokenpace's version.
    pub tool_version: String,
    /// Operating system.
    pub os: String,
    /// CPU architecture.
    pub arch: String,
    /// Logical CPUs available.
    pub cpus: u32,
    /// Wall-clock start of the run's load (the zero of its records' times),
    /// RFC 3339 UTC (milliseconds since tokenpace 0.1: merge lines shards'
    /// load windows up by it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub started_at: Option<String>,
}

/// The summary of one run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RunSummary {
    /// How the run was configured.
    pub settings: RunSettings,
    /// Where it ran.
    pub environment: Environment,
    /// Whether the run was cut short (Ctrl-C, time limit).
    #[serde(default)]
    pub partial: bool,
    /// Outcomes.
    pub counts: Counts,
    /// Aggregate throughput.
    pub throughput: Throughput,
    /// Statistics per metric over successful requests (schedule lag over all
    /// requests); metrics nothing measured are absent.
    pub metrics: BTreeMap<Metric, Stats>,
    /// The confidence level of every percentile's interval (each metric's
    /// `ci`), recorded once; absent in runs written before intervals.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ci_level: Option<f64>,
    /// With `bench --until-precise`: how many requests the p99 TTFT's
    /// interval took to narrow, or that a cap came first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub precision: Option<crate::precision::Precision>,
    /// Per turn and per session, when the requests were turns of
    /// conversations (chat sessions or agent tasks). Optional so runs
    /// written before it still read.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub conversation: Option<Conversation>,
    /// The server's prefix cache, when it reported cached prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefix_cache: Option<PrefixCache>,
    /// Each repeat and the spread across them, when the level was
    /// repeated (`bench --repeat`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repeats: Option<Repeats>,
    /// Ramp-up, steady state and drain apart: closed loops of single
    /// requests, and any run given trims.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub steady_state: Option<SteadyState>,
    /// The run second by second.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub timeline: Vec<Second>,
    /// What the server's rate limits did: requests throttled, retried and
    /// waited, the least left; absent when the server said nothing of them.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub throttling: Option<crate::throttling::Throttling>,
    /// Each model's share, when the run mixed several behind one endpoint
    /// (`bench --model-mix`); the run's own figures pool them all.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub models: Vec<crate::model_mix::ModelShare>,
    /// What the client measured of itself and the limits it crossed
    /// ([`crate::ceiling`]); absent in runs that did not measure it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client: Option<crate::ceiling::Ceiling>,
    /// Requests that met the settings' SLO, and good requests/s, when the
    /// run was given one (`bench --slo`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub goodput: Option<crate::slo::Attainment>,
}

impl RunSummary {
    /// Summarises `records`.
    pub fn from_records(
        records: &[RequestRecord],
        settings: RunSettings,
        environment: Environment,
    ) -> RunSummary {
        let opts = MetricOptions {
            stall_threshold_s: settings.stall_threshold_s,
            network_overhead_s: settings.network_overhead_s,
        };
        let Aggregate {
            counts,
            throughput,
            metrics,
        } = Aggregate::of(records, &opts);
        let conversation = Conversation::of(records, &opts, settings.conversation_kind());
        // Sessions pause between turns, so their in-flight count is not
        // the target's; only their trims apply.
        let steady = SteadyOptions {
            target: settings.concurrency.filter(|_| settings.sessions.is_none()),
            trim_start_s: settings.trim_start_s.unwrap_or(0.0),
            trim_end_s: settings.trim_end_s.unwrap_or(0.0),
        };
        let goodput = settings
            .slo
            .as_ref()
            .map(|s| crate::slo::Attainment::of(records, throughput.duration_s, s, &opts));
        RunSummary {
            partial: false,
            goodput,
            throughput,
            counts,
            metrics,
            ci_level: Some(crate::confidence::CONFIDENCE),
            precision: None,
            conversation,
            prefix_cache: PrefixCache::of(records, &opts),
            repeats: Repeats::of(records, &opts),
            steady_state: steady_state(records, &steady, &opts),
            timeline: timeline(records),
            throttling: crate::throttling::Throttling::of(records),
            models: crate::model_mix::per_model(
                records,
                settings.model_mix.as_deref().unwrap_or_default(),
                &opts,
            ),
            client: None,
            settings,
            environment,
        }
    }

    /// One statistic of one metric, if it was measured. A run-level metric
    /// ([`Metric::RUN`]) has one value whatever the statistic.
    pub fn get(&self, metric: Metric, statistic: Statistic) -> Option<f64> {
        match metric {
            Metric::AnsweredPct => self.counts.answered_pct(),
            _ => self.metrics.get(&metric).map(|s| s.get(statistic)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Chunk, CountSource, ErrorKind, RequestError, TokenCount};

    const MS: u64 = 1_000_000;

    fn ok(id: u64, start_ms: u64, ttft_ms: u64) -> RequestRecord {
        let mut r = RequestRecord::new(id, start_ms * MS, start_ms * MS);
        for i in 0..11 {
            let at = (start_ms + ttft_ms + 20 * i) * MS;
            r.chunks.push(Chunk {
                at_ns: at,
                tokens: 1,
                chars: 1,
            });
        }
        r.output_chars = 11;
        r.output_tokens = Some(TokenCount {
            count: 11,
            source: CountSource::ServerUsage,
        });
        r.end_ns = Some((start_ms + ttft_ms + 200) * MS);
        r
    }

    #[test]
    fn counts_add_up_and_metrics_are_over_successes() {
        let mut failed = RequestRecord::new(2, 0, 0);
        failed.error = Some(RequestError {
            kind: ErrorKind::HttpStatus,
            status: Some(503),
            message: "busy".into(),
        });
        failed.end_ns = Some(5 * MS);
        let records = vec![ok(0, 0, 100), ok(1, 0, 300), failed];
        let s = RunSummary::from_records(&records, RunSettings::default(), Environment::default());
        assert_eq!((s.counts.sent, s.counts.ok, s.counts.failed), (3, 2, 1));
        assert_eq!(s.counts.by_kind[&ErrorKind::HttpStatus], 1);
        let ttft = s.metrics[&Metric::TtftS];
        assert_eq!(ttft.n, 2);
        assert!((ttft.mean - 0.2).abs() < 1e-9);
        let decode = s.get(Metric::DecodeTokS, Statistic::Mean).unwrap();
        assert!((decode - 50.0).abs() < 1e-9);
        assert_eq!(s.metrics[&Metric::ItlS].n, 20);
        assert_eq!(s.metrics[&Metric::ScheduleLagS].n, 3);
        assert!((s.throughput.duration_s - 0.5).abs() < 1e-9);
        assert!((s.throughput.output_tok_s - 44.0).abs() < 1e-9);
        assert!(s.get(Metric::PrefillTokS, Statistic::Mean).is_none());
    }

    #[test]
    fn turns_and_cache_are_summarised_only_when_recorded() {
        let plain = RunSummary::from_records(
            &[ok(0, 0, 100)],
            RunSettings::default(),
            Environment::default(),
        );
        assert_eq!((plain.conversation, plain.prefix_cache), (None, None));
        let mut r = ok(0, 0, 100);
        r.turn = Some(crate::record::TurnRef {
            session: 0,
            turn: 0,
        });
        r.prompt_tokens = Some(TokenCount {
            count: 10,
            source: CountSource::ServerUsage,
        });
        r.cached_tokens = Some(4);
        let s = RunSummary::from_records(&[r], RunSettings::default(), Environment::default());
        assert_eq!(s.conversation.map(|c| c.turns.len()), Some(1));
        assert_eq!(s.prefix_cache.map(|c| c.hit_rate), Some(0.4));
    }

    #[test]
    fn summary_round_trips_through_json() {
        let s = RunSummary::from_records(
            &[ok(0, 0, 100)],
            RunSettings::default(),
            Environment::default(),
        );
        let json = serde_json::to_string(&s).unwrap();
        assert!(json.contains("\"ttft_s\":{"), "{json}");
        let back: RunSummary = serde_json::from_str(&json).unwrap();
        assert_eq!(back, s);
    }
}
