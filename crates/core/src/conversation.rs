//! Runs of conversations: [`Conversation`] summarises the requests that
//! carry a [`TurnRef`] per turn index (a chat session's turn, or an agent
//! task's step) and per session (or task). Definitions in `docs/metrics.md`.
//!
//! A run is an agent run ([`ConversationKind::Agent`]) when its settings say
//! it ran agent tasks (`sessions.agent_steps`), or, for runs that do not say,
//! when any of its turns streamed or made a tool call: the workloads never
//! mix the two in one run, and a tool call is the one thing a chat turn
//! cannot have. The settings come first so that an agent whose model never
//! called its tool still reads as an agent run (every task one step long).

use crate::record::{Nanos, RequestRecord, TurnRef};
use crate::request_metrics::{MetricOptions, RequestMetrics};
use crate::stats::Stats;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// What the sessions of a run are.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum ConversationKind {
    /// Multi-turn chats: a turn is a user message and its answer.
    Chat,
    /// Agent tasks: a turn is one model call (a step) of the task's loop.
    Agent,
}

impl ConversationKind {
    /// What the run's settings `declared`, or else `Agent` when any record
    /// with a turn made or streamed a tool call.
    pub fn of(records: &[RequestRecord], declared: Option<ConversationKind>) -> ConversationKind {
        if let Some(kind) = declared {
            return kind;
        }
        if records.iter().any(|r| r.turn.is_some() && called_tool(r)) {
            ConversationKind::Agent
        } else {
            ConversationKind::Chat
        }
    }
}

/// Whether a request called a tool (counted by the backend, or streamed).
fn called_tool(r: &RequestRecord) -> bool {
    r.tool_calls > 0 || !r.tool_chunks.is_empty()
}

/// The requests of one turn index (step index in an agent run), over all
/// sessions that reached it. Latencies and rates over successful requests.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TurnStats {
    /// The turn (or step) index, from 0 as in the records.
    pub turn: u32,
    /// Requests at this index.
    pub requests: u64,
    /// Of those, successful.
    pub ok: u64,
    /// TTFT, seconds.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ttft_s: Option<Stats>,
    /// Median prefill rate of the prompt tokens the server computed (not
    /// taken from its cache), tokens/s.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prefill_tok_s: Option<f64>,
    /// Mean prompt tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub prompt_tokens: Option<f64>,
    /// Mean share of the prompt taken from the prefix cache, over requests
    /// that reported it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_share: Option<f64>,
    /// Agent runs: send → first tool-call chunk, seconds, over the steps
    /// that streamed one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_tool_s: Option<Stats>,
    /// Agent runs: mean characters of tool-call names and arguments, over
    /// the steps that streamed a tool call.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_chars: Option<f64>,
    /// Agent runs: share of successful steps that called a tool.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call_share: Option<f64>,
}

/// The sessions (agent tasks) of a run as wholes.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct SessionStats {
    /// Sessions (tasks).
    pub sessions: u64,
    /// Sessions whose every turn succeeded.
    pub complete: u64,
    /// Sessions with a failed turn (a task fails with any of its steps).
    pub failed: u64,
    /// Mean turns (steps) per session.
    pub turns_mean: f64,
    /// Most turns (steps) of one session.
    pub turns_max: u32,
    /// Agent runs: task time of the complete tasks, from the first step's
    /// scheduled send to the last step's end (what the user waits for),
    /// seconds. Absent for chats, whose sessions include the user's pauses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time_s: Option<Stats>,
}

/// A run's conversations: per turn index, and per session.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Conversation {
    /// Chats or agent tasks.
    pub kind: ConversationKind,
    /// One entry per turn (step) index, in order.
    pub turns: Vec<TurnStats>,
    /// The sessions (tasks).
    pub sessions: SessionStats,
}

impl Conversation {
    /// The conversations of `records` (shaped as `declared` says, when the
    /// run's settings say), or `None` when no record carries a turn (a run
    /// of independent requests).
    pub fn of(
        records: &[RequestRecord],
        opts: &MetricOptions,
        declared: Option<ConversationKind>,
    ) -> Option<Conversation> {
        let kind = ConversationKind::of(records, declared);
        let mut by_turn: BTreeMap<u32, Vec<&RequestRecord>> = BTreeMap::new();
        let mut by_session: BTreeMap<u64, Vec<&RequestRecord>> = BTreeMap::new();
        for r in records {
            let Some(TurnRef { session, turn }) = r.turn else {
                continue;
            };
            by_turn.entry(turn).or_default().push(r);
            by_session.entry(session).or_default().push(r);
        }
        if by_turn.is_empty() {
            return None;
        }
        let turns = by_turn
            .into_iter()
            .map(|(turn, rs)| turn_stats(turn, &rs, kind, opts))
            .collect();
        Some(Conversation {
            kind,
            turns,
            sessions: session_stats(&by_session, kind),
        })
    }
}

fn mean(values: &[f64]) -> Option<f64> {
    (!values.is_empty()).then(|| values.iter().sum::<f64>() / values.len() as f64)
}

fn secs(from: Nanos, to: Nanos) -> f64 {
    to.saturating_sub(from) as f64 / 1e9
}

fn turn_stats(
    turn: u32,
    records: &[&RequestRecord],
    kind: ConversationKind,
    opts: &MetricOptions,
) -> TurnStats {
    let ok: Vec<&RequestRecord> = records.iter().copied().filter(|r| r.is_ok()).collect();
    let (mut ttft, mut prefill, mut prompt, mut share) = (vec![], vec![], vec![], vec![]);
    let (mut first_tool, mut tool_chars, mut called) = (vec![], vec![], 0u64);
    for r in &ok {
        let m = RequestMetrics::of(r, opts);
        ttft.extend(m.ttft_s);
        prefill.extend(m.prefill_tok_s);
        prompt.extend(m.prompt_tokens.map(f64::from));
        share.extend(r.cached_share());
        if let Some(t) = r.first_tool_ns() {
            first_tool.push(secs(r.sent_ns, t));
            tool_chars.push(f64::from(r.tool_chars()));
        }
        called += u64::from(called_tool(r));
    }
    let agent = kind == ConversationKind::Agent;
    TurnStats {
        turn,
        requests: records.len() as u64,
        ok: ok.len() as u64,
        ttft_s: Stats::from_values(&mut ttft),
        prefill_tok_s: Stats::from_values(&mut prefill).map(|s| s.p50),
        prompt_tokens: mean(&prompt),
        cached_share: mean(&share),
        first_tool_s: Stats::from_values(&mut first_tool).filter(|_| agent),
        tool_chars: mean(&tool_chars).filter(|_| agent),
        tool_call_share: (agent && !ok.is_empty()).then(|| called as f64 / ok.len() as f64),
    }
}

fn session_stats(
    sessions: &BTreeMap<u64, Vec<&RequestRecord>>,
    kind: ConversationKind,
) -> SessionStats {
    let (mut complete, mut turns_max, mut turns_sum) = (0u64, 0u32, 0u64);
    let mut times = Vec::new();
    for rs in sessions.values() {
        let turns = rs.len() as u32;
        turns_max = turns_max.max(turns);
        turns_sum += u64::from(turns);
        if rs.iter().any(|r| !r.is_ok()) {
            continue;
        }
        complete += 1;
        let start = rs.iter().map(|r| r.scheduled_ns.min(r.sent_ns)).min();
        let end = rs.iter().map(|r| r.end_ns.unwrap_or(r.sent_ns)).max();
        if let (Some(start), Some(end)) = (start, end) {
            times.push(secs(start, end));
        }
    }
    let n = sessions.len() as u64;
    SessionStats {
        sessions: n,
        complete,
        failed: n - complete,
        turns_mean: if n > 0 {
            turns_sum as f64 / n as f64
        } else {
            0.0
        },
        turns_max,
        time_s: Stats::from_values(&mut times).filter(|_| kind == ConversationKind::Agent),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Chunk, CountSource, ErrorKind, RequestError, TokenCount};

    const MS: u64 = 1_000_000;

    /// Session `s`, turn `t`: sent at `sent_ms`, first token `ttft_ms`
    /// later, ends 100 ms after that; `prompt` tokens, `cached` of them
    /// from the cache.
    fn turn(s: u64, t: u32, sent_ms: u64, ttft_ms: u64, prompt: u32, cached: u32) -> RequestRecord {
        let mut r = RequestRecord::new(0, sent_ms * MS, sent_ms * MS);
        r.turn = Some(TurnRef {
            session: s,
            turn: t,
        });
        r.chunks.push(Chunk {
            at_ns: (sent_ms + ttft_ms) * MS,
            tokens: 1,
            chars: 4,
        });
        r.end_ns = Some((sent_ms + ttft_ms + 100) * MS);
        r.prompt_tokens = Some(TokenCount {
            count: prompt,
            source: CountSource::ServerUsage,
        });
        r.cached_tokens = Some(cached);
        r
    }

    /// `turn` that streamed a tool call: its first chunk `tool_ms` after the
    /// send, then a second; `chars` characters in all.
    fn tool_step(mut r: RequestRecord, tool_ms: u64, chars: u32) -> RequestRecord {
        let at = r.sent_ns + tool_ms * MS;
        r.chunks.clear();
        for (k, c) in [(0, chars / 2), (10, chars - chars / 2)] {
            r.tool_chunks.push(Chunk {
                at_ns: at + k * MS,
                tokens: 1,
                chars: c,
            });
        }
        r.tool_calls = 1;
        r
    }

    fn fail(mut r: RequestRecord) -> RequestRecord {
        r.error = Some(RequestError {
            kind: ErrorKind::StreamCut,
            status: None,
            message: "cut".into(),
        });
        r
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() < 1e-9)
    }

    #[test]
    fn chat_turns_are_summarised_per_index() {
        let records = vec![
            turn(0, 0, 0, 200, 400, 0),
            turn(1, 0, 0, 400, 400, 0),
            turn(0, 1, 1000, 100, 800, 400),
            turn(1, 1, 1000, 50, 800, 600),
            fail(turn(2, 0, 0, 900, 400, 0)),
            RequestRecord::new(9, 0, 0),
        ];
        let c = Conversation::of(&records, &MetricOptions::default(), None).unwrap();
        assert_eq!(c.kind, ConversationKind::Chat);
        assert_eq!(c.turns.len(), 2);
        let t0 = &c.turns[0];
        assert_eq!((t0.turn, t0.requests, t0.ok), (0, 3, 2));
        // TTFT 0.2 and 0.4 s: p50 0.3, p90 0.2 + 0.9·0.2 = 0.38.
        let ttft = t0.ttft_s.unwrap();
        assert!(close(Some(ttft.p50), 0.3) && close(Some(ttft.p90), 0.38));
        // 400 tokens in 0.2 s and 0.4 s: 2000 and 1000, median 1500.
        assert!(close(t0.prefill_tok_s, 1500.0));
        assert!(close(t0.prompt_tokens, 400.0));
        assert!(close(t0.cached_share, 0.0));
        let t1 = &c.turns[1];
        // 400 computed in 0.1 s (4000) and 200 in 0.05 s (4000).
        assert!(close(t1.prefill_tok_s, 4000.0));
        // Shares 0.5 and 0.75.
        assert!(close(t1.cached_share, 0.625));
        assert_eq!((t1.first_tool_s, t1.tool_call_share), (None, None));
        let s = &c.sessions;
        assert_eq!((s.sessions, s.complete, s.failed), (3, 2, 1));
        assert!(close(Some(s.turns_mean), 5.0 / 3.0));
        assert_eq!((s.turns_max, s.time_s), (2, None));
    }

    #[test]
    fn agent_steps_and_tasks() {
        let records = vec![
            // Task 0: a tool call at 150 ms, then an answer; 0 → 2360 ms.
            tool_step(turn(0, 0, 0, 300, 500, 0), 150, 40),
            turn(0, 1, 2000, 260, 700, 500),
            // Task 1: a tool call at 250 ms, another at 90 ms, an answer.
            tool_step(turn(1, 0, 0, 300, 500, 0), 250, 60),
            tool_step(turn(1, 1, 1000, 300, 700, 500), 90, 20),
            turn(1, 2, 3000, 400, 900, 700),
            // Task 2 fails at its second step.
            tool_step(turn(2, 0, 0, 300, 500, 0), 350, 30),
            fail(turn(2, 1, 1000, 300, 700, 0)),
        ];
        let c = Conversation::of(&records, &MetricOptions::default(), None).unwrap();
        assert_eq!(c.kind, ConversationKind::Agent);
        let s0 = &c.turns[0];
        assert_eq!((s0.requests, s0.ok), (3, 3));
        // Tool-call chunks are tokens: TTFT is the first of them.
        let first = s0.first_tool_s.unwrap();
        assert!(close(Some(first.p50), 0.25) && close(Some(first.max), 0.35));
        assert!(close(Some(s0.ttft_s.unwrap().p50), 0.25));
        assert!(close(s0.tool_chars, 130.0 / 3.0));
        assert!(close(s0.tool_call_share, 1.0));
        let s1 = &c.turns[1];
        assert_eq!((s1.requests, s1.ok), (3, 2));
        assert!(close(s1.tool_call_share, 0.5));
        assert!(close(s1.tool_chars, 20.0));
        let s2 = &c.turns[2];
        assert!(close(s2.tool_call_share, 0.0));
        assert_eq!((s2.first_tool_s, s2.tool_chars), (None, None));
        let t = &c.sessions;
        assert_eq!(
            (t.sessions, t.complete, t.failed, t.turns_max),
            (3, 2, 1, 3)
        );
        assert!(close(Some(t.turns_mean), 7.0 / 3.0));
        // Task 0 ends at 2000 + 260 + 100 ms; task 1 at 3000 + 400 + 100.
        let time = t.time_s.unwrap();
        assert_eq!(time.n, 2);
        assert!(close(Some(time.min), 2.36) && close(Some(time.max), 3.5));
    }

    #[test]
    fn a_task_starts_when_its_first_step_was_scheduled() {
        let mut first = tool_step(turn(0, 0, 100, 300, 500, 0), 150, 10);
        first.scheduled_ns = 40 * MS;
        let records = vec![first, turn(0, 1, 1000, 200, 600, 0)];
        let c = Conversation::of(&records, &MetricOptions::default(), None).unwrap();
        // 40 ms → 1000 + 200 + 100 ms.
        assert!(close(c.sessions.time_s.map(|s| s.p50), 1.26));
    }

    #[test]
    fn an_agent_run_whose_model_never_called_its_tool_is_still_an_agent_run() {
        // Every task answered in text at its first step.
        let records = vec![turn(0, 0, 0, 200, 500, 0), turn(1, 0, 100, 200, 500, 0)];
        let opts = MetricOptions::default();
        let kind = |declared| Conversation::of(&records, &opts, declared).unwrap().kind;
        assert_eq!(kind(None), ConversationKind::Chat);
        assert_eq!(kind(Some(ConversationKind::Chat)), ConversationKind::Chat);
        let c = Conversation::of(&records, &opts, Some(ConversationKind::Agent)).unwrap();
        assert_eq!(c.kind, ConversationKind::Agent);
        // Tasks are timed (as agent tasks are), one step each.
        assert_eq!(c.sessions.time_s.map(|s| s.n), Some(2));
    }

    #[test]
    fn no_turns_no_conversation() {
        let records = vec![RequestRecord::new(0, 0, 0), RequestRecord::new(1, 0, 0)];
        assert_eq!(
            Conversation::of(&records, &MetricOptions::default(), None),
            None
        );
    }
}
