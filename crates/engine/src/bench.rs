//! The engine's raw speed, measured the way llama.cpp's `llama-bench` does
//! (random prompt tokens; `pp`: one prompt decoded in `n_batch` chunks;
//! `tg`: tokens decoded one at a time after an optional `depth` of
//! context), so the two can be compared run for run.

use crate::backend::backend;
use crate::error::EngineError;
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::context::LlamaContext;
use llama_cpp_2::llama_batch::LlamaBatch;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::LlamaModel;
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::path::Path;
use std::time::Instant;

/// One test, as llama-bench names them (`pp512`, `tg128`, `tg128 @ d512`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Test {
    /// Process a prompt of this many tokens.
    Prompt(u32),
    /// Generate this many tokens after `depth` tokens of context.
    Generate {
        /// Tokens generated.
        tokens: u32,
        /// Context already in the cache.
        depth: u32,
    },
}

impl std::fmt::Display for Test {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Test::Prompt(n) => write!(f, "pp{n}"),
            Test::Generate { tokens, depth: 0 } => write!(f, "tg{tokens}"),
            Test::Generate { tokens, depth } => write!(f, "tg{tokens} @ d{depth}"),
        }
    }
}

/// A loaded model and context for raw speed tests.
pub struct RawBench {
    model: LlamaModel,
    threads: i32,
}

impl RawBench {
    /// Loads `model` for tests on `threads` threads.
    pub fn load(model: &Path, threads: usize) -> Result<RawBench, EngineError> {
        let backend = backend().map_err(EngineError::Backend)?;
        let loaded = LlamaModel::load_from_file(backend, model, &LlamaModelParams::default())
            .map_err(|e| EngineError::Load {
                path: model.to_path_buf(),
                architecture: "?".into(),
                detail: format!(": {e}"),
            })?;
        Ok(RawBench {
            model: loaded,
            threads: i32::try_from(threads).unwrap_or(i32::MAX),
        })
    }

    /// Tokens per second of each of `reps` runs of `test` (after one
    /// untimed warm-up run), with llama-bench's defaults: `n_batch` 2048,
    /// `n_ubatch` 512.
    pub fn run(&self, test: Test, reps: usize) -> Result<Vec<f64>, EngineError> {
        let (n_ctx, tokens) = match test {
            Test::Prompt(n) => (n, n),
            Test::Generate { tokens, depth } => (tokens + depth, tokens),
        };
        let backend = backend().map_err(EngineError::Backend)?;
        let params = LlamaContextParams::default()
            .with_n_ctx(NonZeroU32::new(n_ctx.max(64)))
            .with_n_batch(2048)
            .with_n_ubatch(512)
            .with_n_threads(self.threads)
            .with_n_threads_batch(self.threads);
        let mut ctx =
            self.model
                .new_context(backend, params)
                .map_err(|e| EngineError::Context {
                    tokens: u64::from(n_ctx),
                    detail: e.to_string(),
                })?;
        let mut rng = 0x2545_f491_4f6c_dd1d_u64;
        let n_vocab = self.model.n_vocab().max(1) as u64;
        let mut random = move || {
            rng ^= rng << 13;
            rng ^= rng >> 7;
            rng ^= rng << 17;
            LlamaToken::new((rng % n_vocab) as i32)
        };
        let mut out = Vec::with_capacity(reps);
        for rep in 0..=reps {
            ctx.clear_kv_cache();
            let seconds = match test {
                Test::Prompt(n) => {
                    let t = Instant::now();
                    decode_prompt(&mut ctx, n, 0, &mut random)?;
                    t.elapsed().as_secs_f64()
                }
                Test::Generate { tokens, depth } => {
                    if depth > 0 {
                        decode_prompt(&mut ctx, depth, 0, &mut random)?;
                    }
                    let t = Instant::now();
                    let mut batch = LlamaBatch::new(1, 1);
                    for i in 0..tokens {
                        batch.clear();
                        add(&mut batch, random(), (depth + i) as i32, true)?;
                        decode(&mut ctx, &mut batch)?;
                    }
                    t.elapsed().as_secs_f64()
                }
            };
            if rep > 0 {
                out.push(f64::from(tokens) / seconds);
            }
        }
        Ok(out)
    }
}

fn decode_prompt(
    ctx: &mut LlamaContext<'_>,
    n: u32,
    start: u32,
    random: &mut impl FnMut() -> LlamaToken,
) -> Result<(), EngineError> {
    let n_batch = ctx.n_batch();
    let mut batch = LlamaBatch::new(n_batch as usize, 1);
    let mut done = 0;
    while done < n {
        let len = (n - done).min(n_batch);
        batch.clear();
        for i in 0..len {
            add(
                &mut batch,
                random(),
                (start + done + i) as i32,
                i + 1 == len,
            )?;
        }
        decode(ctx, &mut batch)?;
        done += len;
    }
    Ok(())
}

fn add(batch: &mut LlamaBatch, t: LlamaToken, pos: i32, logits: bool) -> Result<(), EngineError> {
    batch
        .add(t, pos, &[0], logits)
        .map_err(|e| EngineError::Backend(e.to_string()))
}

fn decode(ctx: &mut LlamaContext<'_>, batch: &mut LlamaBatch) -> Result<(), EngineError> {
    ctx.decode(batch)
        .map_err(|e| EngineError::Backend(format!("decode failed: {e}")))
}

/// What the linked llama.cpp was compiled to use (`llama_print_system_info`:
/// "CPU : SSE3 = 1 | AVX2 = 1 | …"), the proof that a build has the CPU's
/// vector units rather than a guess from compiler flags.
pub fn system_info() -> String {
    // The backend must be initialised for the CPU backend to register.
    if backend().is_err() {
        return String::new();
    }
    // SAFETY: llama.cpp returns a pointer to a static, NUL-terminated buffer
    // that it rewrites on each call; it is copied before anything else runs.
    unsafe {
        let p = llama_cpp_sys_2::llama_print_system_info();
        if p.is_null() {
            return String::new();
        }
        std::ffi::CStr::from_ptr(p).to_string_lossy().into_owned()
    }
}
