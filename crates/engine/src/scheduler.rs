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
    let ctx_limit = setup.ctx_per_request as usize;
    let mut slots: Vec<Slot> = (0..setup.parallel).map(|_| Slot::default()).collect();
    let mut clock = 0u64;
    let mut waiting: VecDeque<Job> = VecDeque::new();
    let mut batch = LlamaBatch::new(setup.batch as usize, 1);
    // Which slot each logits row of the batch belongs to.
    let mut outputs: Vec<(usize, i32)> = Vec::new();
    let mut open = true;
    warm_up(&mut ctx, model);
    loop {
        // Take new jobs; block only when there is nothing else to do.
        let idle = slots.iter().all(|s| s.active.is_none());
        if idle {
            load.running.store(0, Ordering::Relaxed);
        }
        if open && waiting.is_empty() && idle {
            match jobs.recv() {
                Ok(job) => waiting.push_back(job),
                Err(_) => return,
            }
        }
        while open {
            match jobs.try_recv() {
                Ok(job) => waiting.push_back(job),
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => open = false,
            }
        }
        // Cancelled requests free their slots (their KV stays: every token
        // put in a batch so far was decoded).
        for slot in &mut slots {
            if slot.active.as_ref().is_some_and(Active::cancelled) {
                slot.active = None;
            }
        }
        // Waiting jobs, in order, take the free slot holding most of their
        // prompt.
        while let Some(job) = waiting.front() {
            if job.events.is_closed() {
                waiting.pop_front();
                load.waiting.fetch_sub(1, Ordering::Relaxed);
                continue;
            }
            let free = slots.iter().enumerate().filter(|(_, s)| s.active.is_none());
            let offers = free.map(|(seq, s)| {
                let kv: &[LlamaToken] = if setup.prefix_cache { &s.kv } else { &[] };
                (seq, Offer { kv, used: s.used })
            });
            let Some(seq) = prefix::pick(offers, &job.tokens) else {
                break;
            };
            let Some(job) = waiting.pop_front() else {
                break;
            };
            load.waiting.fetch_sub(1, Ordering::Relaxed);
            clock += 1;
            let slot = &mut slots[seq];
            let cached = if setup.prefix_cache {
                prefix::reuse(&mut ctx, seq, &mut slot.kv, &job.tokens, setup.n_swa)
            } else {
                forget(&mut ctx, seq, &mut slot.kv);
                0
            };
            slot.used = clock;
            slot.active = Some(Active::new(job, cached, setup.prefix_cache));
        }
        let running = slots.iter().filter(|s| s.active.is_some()).count();
        load.running.store(running, Ordering::Relaxed);
        if running == 0 {
            if !open && waiting.is_empty() {
                return;
            }
            continue;
        }
        // Build the batch: answers first, then prompt chunks.
        batch.clear();
        outputs.clear();
        let capacity = setup.batch as usize;
        for (seq, slot) in slots.iter_mut().enumerate() {
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
        for (seq, slot) in slots.iter_mut().enumerate() {
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
        for (seq, _) in &outputs {
            if let Some(a) = &mut slots[*seq].active {
                a.pending = None;
            }
        }
        if let Err(e) = ctx.decode(&mut batch) {
            // The whole batch is lost: end its requests rather than guess.
            let message = format!("llama.cpp could not decode the batch: {e}");
            for (seq, slot) in slots.iter_mut().enumerate() {
                if let Some(a) = slot.active.take() {
                    a.fail(message.clone());
                    forget(&mut ctx, seq, &mut slot.kv);
                }
            }
            continue;
        }
        let mut piece = Vec::with_capacity(32);
        for &(seq, row) in &outputs {
            let Some(a) = slots[seq].active.as_mut() else {
                continue;
            };
            let token = a.sampler.sample(&ctx, row);
            piece.clear();
            vocab.token_to_piece_into(token, &mut piece, false, None);
            let room = a.fed + (a.generated as usize) < ctx_limit;
            if let Step::Finished(reason) = a.accept(token, &piece, vocab.is_eog(token), room) {
                // The KV stays for a later prompt that starts the same.
                if let Some(a) = slots[seq].active.take() {
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
