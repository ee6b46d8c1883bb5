//! What every level of a run shares, set up once ([`Runner::new`]): the
//! async runtime, the HTTP client, the protocol, the model name and the
//! prompt sources. Each level then runs on it (`level.rs`), with drivers
//! made per level (`driver.rs`).

use crate::plan::BenchPlan;
use anyhow::Context;
use std::sync::Arc;
use tokenpace_client::backend::Backend;
use tokenpace_client::conversations::{ConversationSource, FileConversations};
use tokenpace_client::dataset::Dataset;
use tokenpace_client::discover::Listing;
use tokenpace_client::request::{client_for, HttpClient, HttpVersion, Target};
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::trace::TraceScan;
use tokenpace_client::workers::Workers;
use tokenpace_client::workload::PromptSource;
use tokenpace_core::profile::Profile;
use tokenpace_core::setting::Setting;

/// What every level of a run shares: the runtime, HTTP client, protocol,
/// model name and prompt sources.
pub struct Runner {
    /// The async runtime the levels run on.
    pub runtime: tokio::runtime::Runtime,
    /// The profile levels are graded on.
    pub profile: Profile,
    pub(crate) client: HttpClient,
    pub(crate) target: Target,
    pub(crate) backend: Arc<dyn Backend>,
    pub(crate) tokenizer: Option<Arc<ModelTokenizer>>,
    /// What requests carry and what counts their tokens.
    pub(crate) prompts: crate::prompts::PromptSetup,
    pub(crate) dataset: Option<Arc<dyn PromptSource>>,
    pub(crate) conversations: Option<Arc<dyn ConversationSource>>,
    /// The conversations a `--conversations` file holds.
    pub(crate) conversation_count: Option<u64>,
    pub(crate) trace: Option<TraceScan>,
    /// Set once a level's load has started: only the first waits for
    /// `--start-at`.
    pub(crate) started: std::sync::atomic::AtomicBool,
    /// Drivers made so far: each after the first sends request ids of its
    /// own (a sweep's levels and the warm-up number records from 0 again).
    pub(crate) drivers: std::sync::atomic::AtomicU32,
    /// The single-threaded runtimes the streams run on, one per core.
    pub(crate) workers: Arc<Workers>,
}

/// Prompts read from files: a dataset, or a conversations file (and how
/// many conversations it holds).
struct Sources {
    dataset: Option<Arc<dyn PromptSource>>,
    conversations: Option<Arc<dyn ConversationSource>>,
    conversation_count: Option<u64>,
}

impl Runner {
    /// Prepares `plan` (checked) with up to `max_in_flight` requests at
    /// once: asks the server for its model when none was given.
    pub fn new(plan: &BenchPlan, profile: Profile, max_in_flight: usize) -> anyhow::Result<Runner> {
        plan.check()?;
        // Every line checked before the server is asked anything: a bad
        // line stops the run before a request is sent.
        let trace = match &plan.workload.trace {
            Some(spec) => Some(tokenpace_client::trace::scan(spec)?),
            None => None,
        };
        let backend = tokenpace_client::backend::by_id(&plan.protocol)
            .ok_or_else(|| anyhow::anyhow!("unknown {} '{}'", Setting::Backend, plan.protocol))?;
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("could not start the async runtime")?;
        let workers = Workers::per_core().context("could not start the load's threads")?;
        let client = client_for(&plan.target, plan.timeouts.connect, max_in_flight);
        let client = runtime.block_on(client)?;
        let mut target = plan.target.clone();
        let first_token = plan.timeouts.first_token;
        let listed =
            crate::prompts::list(&runtime, &client, &target, backend.as_ref(), first_token);
        if target.model.is_empty() {
            target.model = model(&listed, &runtime, &target, plan)?;
        }
        let tokenizer = match &plan.workload.tokenizer {
            Some(path) => Some(Arc::new(ModelTokenizer::from_file(path)?)),
            None => None,
        };
        let prompts = crate::prompts::setup(
            &runtime,
            &client,
            &target,
            backend.as_ref(),
            plan.server_kind,
            listed.as_ref().ok(),
            plan.workload.ignore_eos,
            tokenizer.clone(),
        );
        let sources = sources(plan, prompts.ignore_eos)?;
        Ok(Runner {
            conversations: sources.conversations,
            conversation_count: sources.conversation_count,
            runtime,
            profile,
            client,
            target,
            backend,
            tokenizer,
            prompts,
            dataset: sources.dataset,
            trace,
            started: Default::default(),
            drivers: Default::default(),
            workers,
        })
    }

    /// The HTTP version the run's requests speak.
    pub fn http_version(&self) -> HttpVersion {
        self.client.http_version()
    }

    /// The model asked for.
    pub fn model(&self) -> &str {
        &self.target.model
    }

    /// What the run's requests carry and what counts their tokens.
    pub fn prompts(&self) -> &crate::prompts::PromptSetup {
        &self.prompts
    }

    /// Whether the prompts are synthetic (cut from the corpus).
    pub fn synthetic(&self, plan: &BenchPlan) -> bool {
        self.dataset.is_none() && self.conversations.is_none() && plan.workload.trace.is_none()
    }

    /// The trace's requests in its window, when a trace is replayed.
    pub fn trace_requests(&self) -> Option<u64> {
        self.trace.map(|t| t.requests)
    }

    /// Fails before any load when nothing answers at the target.
    pub fn probe(&self) -> anyhow::Result<()> {
        crate::reach::probe(&self.runtime, &self.client, &self.target)
    }
}

/// The model the server lists first (none was given), or why it could not
/// be asked, explained.
fn model(
    listed: &anyhow::Result<Listing>,
    runtime: &tokio::runtime::Runtime,
    target: &Target,
    plan: &BenchPlan,
) -> anyhow::Result<String> {
    match listed {
        Ok(l) => Ok(l.model.clone()),
        Err(e) => {
            let e = anyhow::anyhow!("{e:#}");
            Err(crate::reach::explain(
                e,
                runtime,
                target,
                plan.timeouts.connect,
            ))
        }
    }
}

/// The plan's prompt files, read (each line checked) before any load.
fn sources(plan: &BenchPlan, ignore_eos: bool) -> anyhow::Result<Sources> {
    let dataset: Option<Arc<dyn PromptSource>> = match &plan.workload.dataset {
        Some(path) => Some(Arc::new(Dataset::load(
            path,
            plan.workload.max_tokens,
            ignore_eos,
        )?)),
        None => None,
    };
    let file = match plan
        .sessions
        .as_ref()
        .and_then(|s| s.conversations.as_ref())
    {
        Some(path) => Some(FileConversations::load(
            path,
            plan.workload.max_tokens,
            ignore_eos,
        )?),
        None => None,
    };
    // Without --requests a conversations file is replayed once, whole.
    let conversation_count = file.as_ref().map(|f| f.len() as u64);
    Ok(Sources {
        dataset,
        conversations: file.map(|f| Arc::new(f) as Arc<dyn ConversationSource>),
        conversation_count,
    })
}
