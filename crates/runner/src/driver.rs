//! A level's driver: its prompts (cut to their exact length before the
//! clock starts, when a tokenizer counts), its sessions and its request
//! ids, from what the [`Runner`] set up once.

use crate::plan::{BenchPlan, LevelPlan};
use crate::runner::Runner;
use std::sync::Arc;
use tokenpace_client::clock::RunClock;
use tokenpace_client::conversations::{ConversationSource, Synthetic, MAX_TURNS};
use tokenpace_client::count::Shape;
use tokenpace_client::leave::Leaving;
use tokenpace_client::load::Driver;
use tokenpace_client::model_mix::Mixed;
use tokenpace_client::request::{Target, Timeouts};
use tokenpace_client::session::{AgentPlan, SessionPlan, Sessions};
use tokenpace_client::trace::replay::TraceReplay;
use tokenpace_client::trace::{TracePrompts, TraceSpec};
use tokenpace_client::workload::{PromptSource, Workload};

impl Runner {
    /// The target with the request-id prefix of the next driver: the run's
    /// for the first, then `prefix.n`, so no two requests of a run carry
    /// the same id (a server may refuse a duplicate in flight, and a log
    /// joined on ids would mix them up).
    fn target_for_driver(&self) -> Target {
        let n = self
            .drivers
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let mut target = self.target.clone();
        if let Some(h) = target.request_id.as_mut().filter(|_| n > 0) {
            h.prefix = format!("{}.{n}", h.prefix);
        }
        target
    }

    /// The driver of a level's `units` requests (or sessions), prompts
    /// drawn with `seed` and, when a tokenizer counts, cut to their exact
    /// length before the clock starts.
    pub(crate) fn driver(
        &self,
        plan: &BenchPlan,
        level: LevelPlan,
        seed: u64,
        units: u64,
        clock: RunClock,
    ) -> anyhow::Result<Arc<Driver>> {
        let w = &plan.workload;
        let p = &self.prompts;
        let workload = Workload {
            lang: w.text,
            prompt_tokens: level.prompt_tokens,
            shared_prefix: w.shared_prefix,
            prefix_groups: w.prefix_groups,
            max_tokens: w.max_tokens,
            ignore_eos: p.ignore_eos,
            per_chunk_usage: p.per_chunk_usage,
            seed,
            salt: w.salt,
            tokenizer: self.tokenizer.clone(),
            cuts: None,
        };
        let ids: Vec<u64> = (0..plan.shard.requests(units))
            .map(|k| plan.shard.id(k))
            .collect();
        let sessions = self.sessions(plan, &workload, seed, units);
        let (workload, sessions) = match (self.synthetic(plan), sessions) {
            (false, sessions) => (workload, sessions),
            (true, None) => (p.cut(&self.runtime, workload, p.shape, &ids)?, None),
            (true, Some(s)) => self.cut_sessions(plan, workload, &s, &ids, seed, units)?,
        };
        Ok(Arc::new(Driver {
            client: self.client.clone(),
            target: self.target_for_driver(),
            backend: self.backend.clone(),
            workload: self.source(plan, workload, seed),
            timeouts: Timeouts {
                first_token: plan.timeouts.first_token,
                total: plan.timeouts.total,
                idle: plan.timeouts.idle,
                max_event_bytes: plan.timeouts.max_event_bytes,
                leaving: w.cancel.map(|plan| Leaving { plan, seed }),
                retry_throttled: plan.timeouts.retry_throttled,
            },
            clock,
            sessions,
            trace: w.trace.as_ref().map(|spec| self.replay(plan, spec, seed)),
            workers: Some(self.workers.clone()),
            run_end: Default::default(),
        }))
    }

    /// Where a level's prompts come from: the dataset or the synthetic
    /// `workload`, spread over the models of a mix.
    fn source(&self, plan: &BenchPlan, workload: Workload, seed: u64) -> Arc<dyn PromptSource> {
        let base: Arc<dyn PromptSource> = match &self.dataset {
            Some(d) => d.clone(),
            None => Arc::new(workload.clone()),
        };
        match &plan.workload.model_mix {
            Some(mix) => Arc::new(Mixed::new(
                mix.clone(),
                seed,
                base,
                &workload,
                self.dataset.is_none(),
            )),
            None => base,
        }
    }

    /// Sessions' synthetic messages cut to their exact lengths: each new
    /// message of its own length, the system prompt (the shared prefix) of
    /// its own; the sessions drawn again from the cut workload.
    fn cut_sessions(
        &self,
        plan: &BenchPlan,
        workload: Workload,
        s: &Sessions,
        ids: &[u64],
        seed: u64,
        units: u64,
    ) -> anyhow::Result<(Workload, Option<Arc<Sessions>>)> {
        let p = &self.prompts;
        let messages: Vec<u64> = ids
            .iter()
            .flat_map(|&k| (0..s.turns(k)).map(move |t| k * u64::from(MAX_TURNS) + u64::from(t)))
            .collect();
        let own = Workload {
            shared_prefix: 0,
            ..workload.clone()
        };
        let mut cuts = p.cut(&self.runtime, own, Shape::Text, &messages)?.cuts;
        if let (Some(c), Some(counter)) = (cuts.as_mut(), &p.counter) {
            let prefixes = self.runtime.block_on(workload.cut_prefixes(
                counter.as_ref(),
                ids,
                workload.shared_prefix,
            ))?;
            Arc::make_mut(c).prefixes = prefixes;
        }
        let workload = Workload { cuts, ..workload };
        let sessions = self.sessions(plan, &workload, seed, units);
        Ok((workload, sessions))
    }

    /// A trace's replay, the run's salt in every block's text so that a
    /// rerun does not find this run's prompts in the server's cache.
    fn replay(&self, plan: &BenchPlan, spec: &TraceSpec, seed: u64) -> Arc<TraceReplay> {
        let (w, p) = (&plan.workload, &self.prompts);
        let prompts = TracePrompts::new(
            w.text,
            spec.block_tokens,
            seed ^ w.salt.wrapping_mul(0x9E37_79B9_7F4A_7C15),
            p.ignore_eos,
            self.tokenizer.clone(),
        )
        .with_counter(p.counter.clone().map(|c| (c, p.shape)));
        Arc::new(TraceReplay::new(spec.clone(), prompts))
    }

    /// The sessions (or agent tasks) of a level, their synthetic user
    /// messages from `workload`.
    fn sessions(
        &self,
        plan: &BenchPlan,
        workload: &Workload,
        seed: u64,
        units: u64,
    ) -> Option<Arc<Sessions>> {
        let s = plan.sessions.as_ref()?;
        let source: Arc<dyn ConversationSource> = match &self.conversations {
            Some(c) => c.clone(),
            None => Arc::new(Synthetic(workload.clone())),
        };
        let session_plan = SessionPlan {
            turns: s.turns,
            think_time: s.think_time,
            header: s.header.clone(),
            tag: seed,
            agent: s.agent.map(|a| AgentPlan {
                steps: a.steps,
                tool_result_tokens: a.tool_result_tokens,
                tool_choice: a.tool_choice,
                lang: plan.workload.text,
            }),
        };
        Some(Arc::new(Sessions::new(session_plan, source, units, seed)))
    }
}
