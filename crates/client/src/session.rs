//! Conversations: multi-turn chat sessions and agent loops.
//!
//! A session sends its turns one after another. Each turn's prompt is the
//! whole history, with the answers the server actually gave, plus a new
//! user message, so a server's prefix cache meets what it would meet in
//! production: turn 5 repeats turns 1–4. Between turns the user thinks
//! (`think_time`). An agent task is a session whose turns are model calls:
//! each step's tool calls are answered with a canned result and the loop
//! continues, up to `steps` calls; what its user waits for is the whole loop.

use crate::backend::Prompt;
use crate::conversations::ConversationSource;
use crate::recorder::Transcript;
use crate::request::{execute_with, How, Stamp};
use crate::workload::estimated_prompt;
use serde_json::{json, Value};
use tokenpace_core::dist::Dist;
use tokenpace_core::record::{Nanos, RequestRecord, TurnRef};
use tokenpace_corpus::{PseudoTokens, SplitMix64, TextLang};
use tokio::sync::{mpsc, watch};

pub use crate::conversations::MAX_TURNS;

/// How sessions run.
#[derive(Debug, Clone)]
pub struct SessionPlan {
    /// Turns per session (drawn per session; a conversation file may have
    /// fewer).
    pub turns: Dist,
    /// Pause between a turn's answer and the next turn (in an agent loop:
    /// the tool's run time), seconds.
    pub think_time: Dist,
    /// Header carrying the session id, for sticky routing (`None`: none).
    pub header: Option<String>,
    /// Distinguishes this run's session ids from another run's.
    pub tag: u64,
    /// Set for agent tasks.
    pub agent: Option<AgentPlan>,
}

/// How an agent task runs.
#[derive(Debug, Clone)]
pub struct AgentPlan {
    /// Model calls per task at most; the last is asked to answer in text.
    pub steps: u32,
    /// Tokens of the canned result each tool call is answered with.
    pub tool_result_tokens: u32,
    /// `tool_choice` of every step but the last (`auto` or `required`).
    pub tool_choice: &'static str,
    /// Language of the canned results.
    pub lang: TextLang,
}

/// The tools an agent task offers: one search function, as agent
/// benchmarks use (the model chooses the query; the result is canned).
pub fn tools() -> Value {
    json!([{
        "type": "function",
        "function": {
            "name": "search",
            "description": "Search the knowledge base and return the most relevant passages.",
            "parameters": {
                "type": "object",
                "properties": {"query": {"type": "string", "description": "What to look for."}},
                "required": ["query"]
            }
        }
    }])
}

/// Sessions of a run: how many turns each has (drawn once, from the seed,
/// so shards agree) and the id of each one's first request.
#[derive(Debug, Clone)]
pub struct Sessions {
    /// The plan.
    pub plan: SessionPlan,
    /// Where the user messages come from.
    pub source: std::sync::Arc<dyn ConversationSource>,
    turns: Vec<u32>,
    first_id: Vec<u64>,
}

impl Sessions {
    /// `count` sessions of `plan`, their turn counts drawn with `seed`.
    pub fn new(
        plan: SessionPlan,
        source: std::sync::Arc<dyn ConversationSource>,
        count: u64,
        seed: u64,
    ) -> Sessions {
        let mut rng = SplitMix64::new(seed ^ 0x0054_5552_4e53);
        let mut turns = Vec::with_capacity(count as usize);
        let mut first_id = Vec::with_capacity(count as usize);
        let mut next = 0u64;
        for k in 0..count {
            let wanted = match &plan.agent {
                Some(a) => a.steps,
                None => plan.turns.sample_count(rng.next_f64()),
            };
            let n = source
                .turns(k)
                .map_or(wanted, |have| have.min(wanted))
                .clamp(1, MAX_TURNS);
            turns.push(n);
            first_id.push(next);
            next += u64::from(n);
        }
        Sessions {
            plan,
            source,
            turns,
            first_id,
        }
    }

    /// Turns of session `k`.
    pub fn turns(&self, k: u64) -> u32 {
        self.turns.get(k as usize).copied().unwrap_or(1)
    }

    /// Requests the sessions `ks` send at most.
    pub fn requests(&self, ks: impl Iterator<Item = u64>) -> u64 {
        ks.map(|k| u64::from(self.turns(k))).sum()
    }

    /// The session id sent in the header.
    fn id_value(&self, k: u64) -> String {
        format!("tokenpace-{:08x}-{k}", self.plan.tag as u32)
    }
}

/// A conversation's history, as chat messages and as plain text (for
/// completions APIs and for estimates).
struct History {
    messages: Vec<Value>,
    text: String,
}

impl History {
    fn push(&mut self, role: &str, content: &str) {
        self.messages
            .push(json!({"role": role, "content": content}));
        self.line(role, content);
    }

    fn line(&mut self, role: &str, content: &str) {
        self.text.push_str(role);
        self.text.push_str(": ");
        self.text.push_str(content);
        self.text.push('\n');
    }

    /// The assistant's turn: its answer, and its tool calls with their
    /// canned results.
    fn answer(&mut self, t: &Transcript, result: impl Fn(usize) -> String) {
        if t.tool_calls.is_empty() {
            self.push("assistant", &t.answer);
            return;
        }
        let calls: Vec<Value> = t
            .tool_calls
            .iter()
            .map(|c| {
                json!({"id": c.id, "type": "function",
                       "function": {"name": c.name, "arguments": c.arguments}})
            })
            .collect();
        let content = (!t.answer.is_empty()).then(|| t.answer.clone());
        self.messages
            .push(json!({"role": "assistant", "content": content, "tool_calls": calls}));
        for (i, c) in t.tool_calls.iter().enumerate() {
            self.line("assistant", &format!("{}({})", c.name, c.arguments));
            let text = result(i);
            self.messages
                .push(json!({"role": "tool", "tool_call_id": c.id, "content": text}));
            self.line("tool", &text);
        }
    }
}

/// Signals a session obeys: `stop` ends it between turns, `abort` cancels
/// the turn in flight.
pub struct Signals<'a> {
    /// Stop starting turns.
    pub stop: &'a watch::Receiver<bool>,
    /// Cancel the request in flight.
    pub abort: &'a watch::Receiver<bool>,
}

impl Sessions {
    /// Runs session `k` from `scheduled`, sending each turn's record to
    /// `records`. A failed turn ends the session (its history would lack
    /// the answer); `stop` ends it between turns. Returns false when the
    /// records channel closed. `how` must keep transcripts.
    pub(crate) async fn run(
        &self,
        how: How<'_>,
        k: u64,
        scheduled: Nanos,
        control: Signals<'_>,
        records: &mpsc::UnboundedSender<RequestRecord>,
    ) -> bool {
        let plan = &self.plan;
        let turns = self.turns(k);
        let mut rng = SplitMix64::new(plan.tag ^ k.wrapping_mul(0x9E37_79B9_7F4A_7C15));
        let mut history = self.opening(k);
        let headers: Vec<(String, String)> = plan
            .header
            .iter()
            .map(|h| (h.clone(), self.id_value(k)))
            .collect();
        let mut scheduled = scheduled;
        for turn in 0..turns {
            let last = turn + 1 == turns;
            let mut prompt = self.turn_prompt(&mut history, k, turn, last);
            prompt.headers = headers.clone();
            let id = self.first_id[k as usize] + u64::from(turn);
            let at = Stamp {
                id,
                scheduled_ns: scheduled,
            };
            let (mut record, transcript) =
                execute_with(how, &prompt, at, control.abort.clone()).await;
            record.turn = Some(TurnRef { session: k, turn });
            let ok = record.is_ok();
            if records.send(record).is_err() {
                return false;
            }
            let Some(transcript) = transcript.filter(|_| ok) else {
                return true;
            };
            // An agent whose model answered in text is done early.
            if plan.agent.is_some() && transcript.tool_calls.is_empty() {
                return true;
            }
            if last || *control.stop.borrow() {
                return true;
            }
            self.add_answer(&mut history, &transcript, id);
            if !think(plan.think_time.sample(rng.next_f64()), control.stop).await {
                return true;
            }
            // The user sends as soon as they are ready: that is the schedule.
            scheduled = how.clock.now();
        }
        true
    }

    /// Session `k`'s history before its first turn: its system prompt, if
    /// it has one.
    fn opening(&self, k: u64) -> History {
        let mut history = History {
            messages: Vec::new(),
            text: String::new(),
        };
        if let Some(system) = self.source.system(k) {
            history.push("system", &system);
        }
        history
    }

    /// The prompt of turn `turn` of session `k`: the history with the
    /// turn's user message added (an agent's first step only); an agent's
    /// steps offer the tools, and its last asks for text.
    fn turn_prompt(&self, history: &mut History, k: u64, turn: u32, last: bool) -> Prompt {
        let source = self.source.as_ref();
        // An agent's first step carries the task; later steps carry only
        // the tool results added to the history.
        if self.plan.agent.is_none() || turn == 0 {
            history.push("user", &source.user_message(k, turn));
        }
        let mut prompt: Prompt = estimated_prompt(
            history.text.clone(),
            Some(Value::Array(history.messages.clone())),
            source.max_tokens(),
            source.ignore_eos(),
        );
        if let Some(agent) = &self.plan.agent {
            prompt.tools = Some(tools());
            prompt.tool_choice = Some(if last { "none" } else { agent.tool_choice });
        }
        prompt
    }

    /// Adds request `id`'s answer to the history, each tool call answered
    /// with a canned result.
    fn add_answer(&self, history: &mut History, transcript: &Transcript, id: u64) {
        let plan = &self.plan;
        let lang = plan.agent.as_ref().map_or(TextLang::En, |a| a.lang);
        let result_tokens = plan.agent.as_ref().map_or(0, |a| a.tool_result_tokens);
        history.answer(transcript, |i| {
            let seed = plan.tag ^ (id << 8) ^ i as u64;
            PseudoTokens::new(lang, seed).take_text(result_tokens as usize)
        });
    }
}

/// The user's pause of `pause` seconds before the next turn; false when
/// `stop` came first.
async fn think(pause: f64, stop: &watch::Receiver<bool>) -> bool {
    if pause > 0.0 {
        let mut stop = stop.clone();
        tokio::select! {
            _ = tokio::time::sleep(std::time::Duration::from_secs_f64(pause)) => {}
            _ = stop.wait_for(|s| *s) => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::conversations::Synthetic;
    use crate::workload::Workload;
    use std::sync::Arc;

    fn sessions(turns: Dist, count: u64) -> Sessions {
        let w = Workload {
            lang: TextLang::En,
            prompt_tokens: 20,
            shared_prefix: 0,
            prefix_groups: 0,
            max_tokens: 8,
            ignore_eos: true,
            per_chunk_usage: false,
            seed: 1,
            salt: 0,
            tokenizer: None,
            cuts: None,
        };
        let plan = SessionPlan {
            turns,
            think_time: Dist::fixed(0.0),
            header: Some("X-Session-ID".into()),
            tag: 7,
            agent: None,
        };
        Sessions::new(plan, Arc::new(Synthetic(w)), count, 3)
    }

    #[test]
    fn ids_are_unique_and_contiguous_per_session() {
        let s = sessions(
            Dist::Uniform {
                low: 1.0,
                high: 6.0,
            },
            50,
        );
        let mut next = 0;
        for k in 0..50 {
            assert_eq!(s.first_id[k as usize], next);
            assert!((1..=6).contains(&s.turns(k)));
            next += u64::from(s.turns(k));
        }
        assert_eq!(s.requests(0..50), next);
        // Drawn from the seed: another process (a shard) agrees.
        let again = sessions(
            Dist::Uniform {
                low: 1.0,
                high: 6.0,
            },
            50,
        );
        assert_eq!(s.turns, again.turns);
    }

    #[test]
    fn history_keeps_answers_tool_calls_and_results() {
        let mut h = History {
            messages: Vec::new(),
            text: String::new(),
        };
        h.push("user", "q");
        h.answer(
            &Transcript {
                answer: "a".into(),
                ..Transcript::default()
            },
            |_| unreachable!(),
        );
        let t = Transcript {
            tool_calls: vec![crate::recorder::StreamedToolCall {
                id: "call_9".into(),
                name: "search".into(),
                arguments: "{\"query\":\"x\"}".into(),
            }],
            ..Transcript::default()
        };
        h.answer(&t, |i| format!("result {i}"));
        assert_eq!(h.messages.len(), 4);
        assert_eq!(h.messages[1]["content"], "a");
        assert_eq!(h.messages[2]["tool_calls"][0]["id"], "call_9");
        assert_eq!(h.messages[2]["content"], Value::Null);
        assert_eq!(h.messages[3]["role"], "tool");
        assert_eq!(h.messages[3]["tool_call_id"], "call_9");
        assert_eq!(h.messages[3]["content"], "result 0");
        assert!(h.text.starts_with("user: q\nassistant: a\n"), "{}", h.text);
    }
}
