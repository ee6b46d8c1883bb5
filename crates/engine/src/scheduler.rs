//! Continuous batching on one llama.cpp context. Each step builds one
//! batch: first the next token of every request that is generating (so a
//! long prompt arriving never stalls the answers being typed out), then as
//! many waiting prompt tokens as fit (chunked prefill); decodes it; and
//! samples each request whose logits came out.

use crate::prefix::{self, forget, Offer};
use crate::slot::{Active, Step};
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use llama_cpp_2::vocab::LlamaVocab;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, TryRecvError};

pub use crate::slot::Job;

/// Requests running and waiting, read by `/metrics`.
#[derive(Debug, Default)]
pub struct LoadCounts {
    pub running: AtomicUsize,
    pub waiting: AtomicUsize,
}

/// Scheduler limits.
pub struct Setup {
    pub parallel: u32,
    pub batch: u32,
    pub ctx_per_request: u32,
    /// Reuse a slot's KV for a prompt that starts the same (`prefix`).
    pub prefix_cache: bool,
    /// The model's sliding attention window, tokens (0: none).
    pub n_swa: u32,
}

/// One KV-cache sequence: the request using it, and the tokens its KV
/// holds, kept after the request ends for the next prompt that starts the
/// same. `kv` always matches the cache: a token joins it when it is put in
/// a batch, and a failed decode clears both.
#[derive(Default)]
struct Slot {
    active: Option<Active>,
    kv: Vec<LlamaToken>,
    used: u64,
}

/// Serves jobs until the sender is dropped and every request has ended.
pub fn run(
    mut ctx: LlamaContext<'_>,
    model: &LlamaModel,
    jobs: Receiver<Job>,
    load: &LoadCounts,
    setup: Setup,
) {
    let vocab = model.vocab();
    warm_up(&mut ctx, model);
    let mut inbox = Inbox { jobs, open: true };
    let mut s = Scheduler::new(ctx, setup);
    loop {
        // Take new jobs; block only when there is nothing else to do.
        let idle = s.slots.iter().all(|slot| slot.active.is_none());
        if idle {
            load.running.store(0, Ordering::Relaxed);
        }
        if !inbox.take(&mut s.waiting, idle) {
            return;
        }
        s.drop_cancelled();
        s.admit(load);
        let running = s.slots.iter().filter(|slot| slot.active.is_some()).count();
        load.running.store(running, Ordering::Relaxed);
        if running == 0 {
            if !inbox.open && s.waiting.is_empty() {
                return;
            }
            continue;
        }
        s.fill_batch();
        if let Err(e) = s.ctx.decode(&mut s.batch) {
            // The whole batch is lost: end its requests rather than guess.
            s.fail_all(format!("llama.cpp could not decode the batch: {e}"));
            continue;
        }
        s.sample(&vocab);
    }
}

/// Where jobs arrive, and whether more can.
struct Inbox {
    jobs: Receiver<Job>,
    /// The sender is still there.
    open: bool,
}

impl Inbox {
    /// Moves the jobs that arrived to `waiting`, blocking for one only when
    /// there is nothing else to do (`idle`, none waiting). False when there
    /// is nothing to do and no job can come any more.
    fn take(&mut self, waiting: &mut VecDeque<Job>, idle: bool) -> bool {
        if self.open && waiting.is_empty() && idle {
            match self.jobs.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => return false,
            }
        }
        while self.open {
            match self.jobs.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => self.open = false,
            }
        }
        true
    }
}

/// The context, its sequences and the batch built for each step.
struct Scheduler<'c> {
    setup: Setup,
    slots: Vec<Slot>,
    /// Jobs waiting for a slot, in order.
    waiting: VecDeque<Job>,
    /// Admissions so far: a slot's `used` is the admission it last took.
    clock: u64,
    batch: LlamaBatch<'static>,
    /// Which slot each logits row of the batch belongs to.
    outputs: Vec<(usize, i32)>,
    /// Declared last, so dropped after the samplers and the batch used
    /// with it.
    ctx: LlamaContext<'c>,
}

impl<'c> Scheduler<'c> {
    fn new(ctx: LlamaContext<'c>, setup: Setup) -> Self {
        Scheduler {
            ctx,
            slots: (0..setup.parallel).map(|_| Slot::default()).collect(),
            waiting: VecDeque::new(),
            clock: 0,
            batch: LlamaBatch::new(setup.batch as usize, 1),
            outputs: Vec::new(),
            setup,
        }
    }

    /// Cancelled requests free their slots (their KV stays: every token
    /// put in a batch so far was decoded).
    fn drop_cancelled(&mut self) {
        for slot in &mut self.slots {
            if slot.active.as_ref().is_some_and(Active::cancelled) {
                slot.active = None;
            }
        }
    }

    /// Waiting jobs, in order, take the free slot holding most of their
    /// prompt; jobs whose client left are dropped.
    fn admit(&mut self, load: &LoadCounts) {
        let prefix_cache = self.setup.prefix_cache;
        while let Some(job) = self.waiting.front() {
            if job.events.is_closed() {
                self.waiting.pop_front();
                load.waiting.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            let free = self
                .slots
                .iter()
                .enumerate()
                .filter(|(_, s)| s.active.is_none());
            let offers = free.map(|(seq, s)| {
                let kv: &[LlamaToken] = if prefix_cache { &s.kv } else { &[] };
                (seq, Offer { kv, used: s.used })
            });
            let Some(seq) = prefix::pick(offers, &job.tokens) else {
                break;
            };
            let Some(job) = self.waiting.pop_front() else {
                break;
            };
            load.waiting.fetch_sub(1, Ordering::Relaxed);
            self.clock += 1;
            let slot = &mut self.slots[seq];
            let cached = if prefix_cache {
                prefix::reuse(
                    &mut self.ctx,
                    seq,
                    &mut slot.kv,
                    &job.tokens,
                    self.setup.n_swa,
                )
            } else {
                forget(&mut self.ctx, seq, &mut slot.kv);
                0
            };
            slot.used = self.clock;
            slot.active = Some(Active::new(job, cached, prefix_cache));
        }
    }

    /// Builds the step's batch: the next token of every request that is
    /// generating first, then as many waiting prompt tokens as fit.
    fn fill_batch(&mut self) {
        let batch = &mut self.batch;
        let outputs = &mut self.outputs;
        batch.clear();
        outputs.clear();
        let capacity = self.setup.batch as usize;
        for (seq, slot) in self.slots.iter_mut().enumerate() {
            let Some(a) = &slot.active else { continue };
            if let Some(token) = a.pending {
                outputs.push((seq, batch.n_tokens()));
                if batch
                    .add(token, a.position() as i32, &[seq as i32], true)
                    .is_ok()
                {
                    slot.kv.push(token);
                }
            }
        }
        for (seq, slot) in self.slots.iter_mut().enumerate() {
            let Some(a) = &mut slot.active else { continue };
            let room = capacity.saturating_sub(batch.n_tokens() as usize);
            let n = a.prompt_left().min(room);
            for _ in 0..n {
                let token = a.job.tokens[a.fed];
                let last = a.fed + 1 == a.job.tokens.len();
                if last {
                    outputs.push((seq, batch.n_tokens()));
                }
                if batch.add(token, a.fed as i32, &[seq as i32], last).is_ok() {
                    slot.kv.push(token);
                }
                a.fed += 1;
            }
        }
        for (seq, _) in outputs.iter() {
            if let Some(a) = &mut self.slots[*seq].active {
                a.pending = None;
            }
        }
    }

    /// Ends every running request with `message` and clears its KV.
    fn fail_all(&mut self, message: String) {
        for (seq, slot) in self.slots.iter_mut().enumerate() {
            if let Some(a) = slot.active.take() {
                a.fail(message.clone());
                forget(&mut self.ctx, seq, &mut slot.kv);
            }
        }
    }

    /// Samples each request whose logits came out of the decoded batch,
    /// ending those that finished (their KV stays for a later prompt that
    /// starts the same).
    fn sample(&mut self, vocab: &LlamaVocab<'_>) {
        let ctx_limit = self.setup.ctx_per_request as usize;
        let mut piece = Vec::with_capacity(32);
        for &(seq, row) in &self.outputs {
            let Some(a) = self.slots[seq].active.as_mut() else {
                continue;
            };
            let token = a.sampler.sample(&self.ctx, row);
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let room = a.fed + (a.generated as usize) < ctx_limit;
            if let Step::Finished(reason) = a.accept(token, &piece, vocab.is_eog(token), room) {
                if let Some(a) = self.slots[seq].active.take() {
                    a.finish(reason);
                }
            }
        }
    }
}

/// One throw-away decode, so the first real request does not pay for
/// llama.cpp's buffer allocation and a cold cache (llama.cpp's own server
/// and llama-bench do the same).
fn warm_up(ctx: &mut LlamaContext<'_>, model: &LlamaModel) {
    let vocab = model.vocab();
    let token = vocab.bos();
    let mut batch = LlamaBatch::new(1, 1);
    if batch.add(token, 0, &[0], true).is_ok() {
        let _ = ctx.decode(&mut batch);
    }
    ctx.clear_kv_cache();
}
