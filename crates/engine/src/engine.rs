//! Loading a model and handing requests to the scheduler thread.

use crate::backend::{backend, clear_log, recent_errors};
use crate::config::EngineConfig;
use crate::error::EngineError;
use crate::scheduler::{self, Job, LoadCounts};
use llama_cpp_2::context::params::LlamaContextParams;
use llama_cpp_2::llama_backend::LlamaBackend;
use llama_cpp_2::model::params::LlamaModelParams;
use llama_cpp_2::model::{LlamaChatMessage, LlamaChatTemplate, LlamaModel};
use llama_cpp_2::token::LlamaToken;
use std::num::NonZeroU32;
use std::sync::atomic::Ordering;
use std::sync::{mpsc, Arc};
use std::time::Instant;
use tokenpace_core::gguf::{read_metadata, Value};
use tokenpace_core::setting::Setting;
use tokenpace_serve::{
    GenEvent, GenerationRequest, Generator, PromptInput, SubmitError, TokenizeOptions, Tokenized,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

/// A loaded model with its scheduler thread. Dropping it lets the requests
/// in flight finish, then stops the thread.
pub struct Engine {
    name: String,
    architecture: String,
    model: Arc<LlamaModel>,
    template: Option<LlamaChatTemplate>,
    jobs: Option<mpsc::Sender<Job>>,
    load: Arc<LoadCounts>,
    ctx_per_request: u32,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl std::fmt::Debug for Engine {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Engine").field("name", &self.name).finish()
    }
}

impl Engine {
    /// Loads the model and starts the scheduler.
    pub fn start(config: EngineConfig) -> Result<Engine, EngineError> {
        check(&config)?;
        let (architecture, n_swa) = architecture(&config)?;
        let backend = backend().map_err(EngineError::Backend)?;
        let model = Arc::new(load_model(backend, &config, &architecture)?);
        let template = model.chat_template(None).ok();
        let name = config
            .model
            .file_stem()
            .map_or_else(|| "model".into(), |s| s.to_string_lossy().into_owned());
        let total = u64::from(config.ctx_size) * u64::from(config.parallel);
        let (jobs, rx) = mpsc::channel();
        let load = Arc::new(LoadCounts::default());
        let setup = scheduler::Setup {
            parallel: config.parallel,
            batch: config.batch,
            ctx_per_request: config.ctx_size,
            prefix_cache: config.prefix_cache,
            n_swa,
        };
        let params = context_params(&config, total);
        let thread = spawn_scheduler(backend, &model, params, total, rx, &load, setup)?;
        Ok(Engine {
            name,
            architecture,
            model,
            template,
            jobs: Some(jobs),
            load,
            ctx_per_request: config.ctx_size,
            thread: Some(thread),
        })
    }

    /// Whether the file has a chat template (base models have none; chat
    /// messages are then sent as plain `role: text` turns).
    pub fn has_chat_template(&self) -> bool {
        self.template.is_some()
    }

    /// `general.architecture` of the model (llama, gemma3, qwen2, …).
    pub fn architecture(&self) -> &str {
        &self.architecture
    }

    /// The prompt's tokens as the engine will see them: chat messages
    /// through the model's chat template, then the model's tokenizer.
    pub fn tokenize(&self, prompt: &PromptInput) -> Result<Vec<LlamaToken>, SubmitError> {
        self.tokenize_with(prompt, TokenizeOptions::default())
    }

    /// [`Engine::tokenize`] with `/tokenize`'s options: whether the
    /// tokenizer adds its special tokens (BOS), and whether the chat
    /// template ends with the assistant's turn opening. The defaults are
    /// what [`Generator::submit`] does; token ids are taken as they are.
    fn tokenize_with(
        &self,
        prompt: &PromptInput,
        options: TokenizeOptions,
    ) -> Result<Vec<LlamaToken>, SubmitError> {
        let text = match prompt {
            PromptInput::Tokens(ids) => {
                let n_vocab = self.model.n_vocab();
                return ids
                    .iter()
                    .map(|&id| match i32::try_from(id) {
                        Ok(id) if id < n_vocab => Ok(LlamaToken::new(id)),
                        _ => Err(SubmitError::Invalid(format!(
                            "token id {id} is outside the model's vocabulary of {n_vocab}"
                        ))),
                    })
                    .collect();
            }
            PromptInput::Text(text) => text.clone(),
            PromptInput::Chat(messages) => {
                self.format_chat(messages, options.add_generation_prompt)?
            }
        };
        // Special tokens in the text (the chat template's markers) are parsed.
        let vocab = self.model.vocab();
        Ok(vocab.tokenize(text.as_bytes(), options.add_special_tokens, true))
    }

    /// The messages through the chat template; `open_turn` ends them with
    /// the opening of the assistant's turn.
    fn format_chat(
        &self,
        messages: &[tokenpace_serve::ChatMessage],
        open_turn: bool,
    ) -> Result<String, SubmitError> {
        let Some(template) = &self.template else {
            // No template in the file (a base model): plain turns.
            let mut text: String = messages
                .iter()
                .map(|m| format!("{}: {}\n", m.role, m.content))
                .collect();
            if open_turn {
                text.push_str("assistant:");
            }
            return Ok(text);
        };
        let chat = messages
            .iter()
            .map(|m| LlamaChatMessage::new(m.role.clone(), m.content.clone()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|_| SubmitError::Invalid("a message contains a NUL character".into()))?;
        self.model
            .apply_chat_template(template, &chat, open_turn)
            .map_err(|e| {
                SubmitError::Invalid(format!(
                    "the model's chat template failed on these messages: {e}"
                ))
            })
    }
}

impl Generator for Engine {
    fn model_name(&self) -> &str {
        &self.name
    }

    fn submit(
        &self,
        request: GenerationRequest,
    ) -> Result<UnboundedReceiver<GenEvent>, SubmitError> {
        let tokens = self.tokenize(&request.prompt)?;
        if tokens.is_empty() {
            return Err(SubmitError::Invalid("the prompt is empty".into()));
        }
        if tokens.len() >= self.ctx_per_request as usize {
            return Err(SubmitError::Invalid(format!(
                "the prompt has {} tokens but each request's context holds {}: start the engine with a larger {}",
                tokens.len(),
                self.ctx_per_request,
                Setting::CtxSize
            )));
        }
        let (tx, rx) = unbounded_channel();
        let prompt_tokens = u32::try_from(tokens.len()).unwrap_or(u32::MAX);
        let _ = tx.send(GenEvent::Started { prompt_tokens });
        let job = Job {
            tokens,
            request,
            events: tx,
            queued: Instant::now(),
        };
        let jobs = self
            .jobs
            .as_ref()
            .ok_or_else(|| SubmitError::Unavailable("the engine is shutting down".into()))?;
        self.load.waiting.fetch_add(1, Ordering::Relaxed);
        jobs.send(job).map_err(|_| {
            self.load.waiting.fetch_sub(1, Ordering::Relaxed);
            SubmitError::Unavailable("the engine has stopped".into())
        })?;
        Ok(rx)
    }

    fn load(&self) -> (usize, usize) {
        (
            self.load.running.load(Ordering::Relaxed),
            self.load.waiting.load(Ordering::Relaxed),
        )
    }

    fn tokenize_prompt(
        &self,
        prompt: &PromptInput,
        options: TokenizeOptions,
    ) -> Result<Tokenized, SubmitError> {
        let tokens = self.tokenize_with(prompt, options)?;
        Ok(Tokenized {
            ids: tokens.iter().map(|t| t.0 as u32).collect(),
            max_model_len: self.ctx_per_request,
        })
    }
}

impl Drop for Engine {
    fn drop(&mut self) {
        self.jobs.take();
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Loads the model file, naming its architecture and llama.cpp's own
/// errors when it cannot.
fn load_model(
    backend: &LlamaBackend,
    config: &EngineConfig,
    architecture: &str,
) -> Result<LlamaModel, EngineError> {
    clear_log();
    LlamaModel::load_from_file(backend, &config.model, &LlamaModelParams::default()).map_err(|_| {
        EngineError::Load {
            path: config.model.clone(),
            architecture: architecture.to_string(),
            detail: match recent_errors() {
                e if e.is_empty() => String::new(),
                e => format!(": {e}"),
            },
        }
    })
}

/// The context: `total` KV-cache tokens shared by the parallel sequences,
/// the batch and the threads configured.
fn context_params(config: &EngineConfig, total: u64) -> LlamaContextParams {
    let threads = i32::try_from(config.threads()).unwrap_or(i32::MAX);
    LlamaContextParams::default()
        .with_n_ctx(NonZeroU32::new(u32::try_from(total).unwrap_or(u32::MAX)))
        .with_n_batch(config.batch)
        .with_n_ubatch(config.batch.min(512))
        .with_n_seq_max(config.parallel)
        .with_n_threads(threads)
        .with_n_threads_batch(threads)
}

/// Starts the scheduler thread on a context of `params` (`total` tokens)
/// and waits until the context is made: its error when it cannot be.
fn spawn_scheduler(
    backend: &'static LlamaBackend,
    model: &Arc<LlamaModel>,
    params: LlamaContextParams,
    total: u64,
    jobs: mpsc::Receiver<Job>,
    load: &Arc<LoadCounts>,
    setup: scheduler::Setup,
) -> Result<std::thread::JoinHandle<()>, EngineError> {
    let (ready_tx, ready_rx) = mpsc::channel();
    let thread = {
        let model = Arc::clone(model);
        let load = Arc::clone(load);
        std::thread::Builder::new()
            .name("tokenpace-engine".into())
            .spawn(move || {
                let ctx = match model.new_context(backend, params) {
                    Ok(ctx) => ctx,
                    Err(e) => {
                        let _ = ready_tx.send(Err(format!("{e}; {}", recent_errors())));
                        return;
                    }
                };
                let _ = ready_tx.send(Ok(()));
                scheduler::run(ctx, &model, jobs, &load, setup);
            })
            .map_err(|e| EngineError::Backend(e.to_string()))?
    };
    match ready_rx.recv() {
        Ok(Ok(())) => Ok(thread),
        Ok(Err(detail)) => Err(EngineError::Context {
            tokens: total,
            detail,
        }),
        Err(_) => Err(EngineError::Backend(
            "the engine thread stopped while starting".into(),
        )),
    }
}

fn check(config: &EngineConfig) -> Result<(), EngineError> {
    if config.ctx_size < 16 {
        return Err(EngineError::Config(format!(
            "{} {} is too small: give at least 16 tokens",
            Setting::CtxSize,
            config.ctx_size
        )));
    }
    if !(1..=256).contains(&config.parallel) {
        return Err(EngineError::Config(format!(
            "{} {} is out of range: give 1 to 256",
            Setting::Parallel,
            config.parallel
        )));
    }
    if config.batch == 0 {
        return Err(EngineError::Config(
            "the batch size (tokens per decode step) must be at least 1".into(),
        ));
    }
    if u64::from(config.ctx_size) * u64::from(config.parallel) > u64::from(u32::MAX) {
        return Err(EngineError::Config(format!(
            "{} × {} is too large",
            Setting::CtxSize,
            Setting::Parallel
        )));
    }
    Ok(())
}

/// Reads the header first, so a missing, truncated or foreign file gets a
/// clear error before llama.cpp sees it. Returns the architecture and its
/// sliding attention window (0: none), which limits prefix reuse.
fn architecture(config: &EngineConfig) -> Result<(String, u32), EngineError> {
    let bad = |reason: String| EngineError::BadFile {
        path: config.model.clone(),
        reason,
    };
    let file = std::fs::File::open(&config.model).map_err(|e| {
        bad(format!(
            "{e}; give {} PATH.gguf, or omit it to use the default model",
            Setting::Model
        ))
    })?;
    let kv = read_metadata(std::io::BufReader::new(file)).map_err(|e| {
        bad(format!(
            "{e}: the file is corrupt or truncated; delete it and fetch it again"
        ))
    })?;
    let Some(Value::Str(arch)) = kv.get("general.architecture") else {
        return Err(bad("its header names no general.architecture".into()));
    };
    let window = kv
        .get(&format!("{arch}.attention.sliding_window"))
        .and_then(Value::as_u64)
        .map_or(0, |w| u32::try_from(w).unwrap_or(u32::MAX));
    Ok((arch.clone(), window))
}
