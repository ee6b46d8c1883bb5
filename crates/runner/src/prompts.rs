//! What a run's prompts may carry and how their length is made exact,
//! decided once before any load: whose server the target is (its kind
//! decides whether `ignore_eos` and per-chunk usage are sent: a hosted API
//! rejects what it does not define), and which tokenizer counts — the
//! server's own `/tokenize` (tokenpace's `serve` answers it with the
//! embedded engine's tokenizer), else `--tokenizer`, else none, and the
//! lengths are estimates, which the run says.

use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::Backend;
use tokenpace_client::count::{FileCounter, RemoteCounter, Shape, TokenCounter};
use tokenpace_client::discover::{listing, Listing, DEFAULT_TIMEOUT};
use tokenpace_client::request::{HttpClient, Target};
use tokenpace_client::server_kind::ServerKind;
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::workload::Workload;
use tokenpace_core::record::{CountSource, RequestRecord};
use tokenpace_core::setting::Setting;
use tokenpace_core::summary::{PromptLengths, RunSettings};

/// A mean prompt length the server counted this far from the one asked for
/// is worth a warning.
const OFF_SHARE: f64 = 0.05;

/// A cached share this far above what a trace's shared blocks allow means
/// the server had its prompts before (block rounding stays well below it).
const PRIMED_MARGIN: f64 = 0.05;

/// How long one `/tokenize` call may take.
const TOKENIZE_TIMEOUT: Duration = Duration::from_secs(30);

/// Counts in flight while cutting prompts.
const PARALLEL_COUNTS: usize = 8;

/// What the run's requests may carry and what counts their tokens.
pub struct PromptSetup {
    /// Whose server it is.
    pub kind: ServerKind,
    /// Whether it was discovered (not `--server-kind`).
    pub discovered: bool,
    /// The tokenizer that counts, if any.
    pub counter: Option<Arc<dyn TokenCounter>>,
    /// Ask for fixed-length answers (asked for, and the server takes it).
    pub ignore_eos: bool,
    /// Ask for usage on every chunk.
    pub per_chunk_usage: bool,
    /// How the server sees a prompt's text.
    pub shape: Shape,
    /// What the run should say about these choices.
    pub notes: Vec<String>,
}

/// The model list of `target`, if it answers (the kind is then read from
/// it); an error only matters when the model must come from it. It may
/// take no longer than a request's first token (`first_token`), nor than
/// [`DEFAULT_TIMEOUT`].
pub fn list(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    target: &Target,
    backend: &dyn Backend,
    first_token: Duration,
) -> anyhow::Result<Listing> {
    let timeout = DEFAULT_TIMEOUT.min(first_token);
    runtime.block_on(listing(client, target, backend, timeout))
}

/// Decides what requests carry and what counts tokens. `kind` is
/// `--server-kind`; else the model list's owner decides.
#[allow(clippy::too_many_arguments)]
pub fn setup(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    target: &Target,
    backend: &dyn Backend,
    kind: Option<ServerKind>,
    listed: Option<&Listing>,
    ignore_eos: bool,
    file: Option<Arc<ModelTokenizer>>,
) -> PromptSetup {
    let discovered = kind.is_none();
    let kind = kind.unwrap_or_else(|| {
        listed
            .and_then(|l| l.owned_by.as_deref())
            .map_or(ServerKind::Other, ServerKind::from_owner)
    });
    let mut notes = Vec::new();
    if ignore_eos && !kind.takes_ignore_eos() {
        notes.push(format!(
            "not sending ignore_eos: a {} server may reject arguments it does not define; answers end where the model stops (at most {}), and their lengths are reported as produced ({} vllm, sglang, llamacpp, tgi or tokenpace sends it)",
            match kind {
                ServerKind::Other => "hosted or unknown",
                other => other.id(),
            },
            Setting::MaxTokens,
            Setting::ServerKind
        ));
    }
    let shape = match backend.id() {
        "openai-chat" | "anthropic" | "responses" | "ollama-chat" => Shape::Chat,
        _ => Shape::Text,
    };
    let mut counter: Option<Arc<dyn TokenCounter>> = None;
    if let Some(api) = kind.tokenize() {
        let remote = RemoteCounter::new(client.clone(), target.clone(), api, TOKENIZE_TIMEOUT);
        match runtime.block_on(remote.works()) {
            Ok(()) => counter = Some(Arc::new(remote)),
            Err(e) => notes.push(format!(
                "the server's tokenizer did not answer ({e:#}); {}",
                match file {
                    Some(_) => format!("counting with {} instead", Setting::Tokenizer),
                    None => format!(
                        "prompt lengths are estimates (give {} tokenizer.json for exact ones)",
                        Setting::Tokenizer
                    ),
                }
            )),
        }
    }
    if counter.is_none() {
        counter = file.map(|t| Arc::new(FileCounter(t)) as Arc<dyn TokenCounter>);
    }
    PromptSetup {
        kind,
        discovered,
        counter,
        ignore_eos: ignore_eos && kind.takes_ignore_eos(),
        per_chunk_usage: kind.takes_continuous_usage(),
        shape,
        notes,
    }
}

impl PromptSetup {
    /// Whether `record` failed because the server refused an argument
    /// tokenpace added for this kind of server (an HTTP 400 naming it):
    /// then every request will, so the run stops at once, saying which
    /// argument and how to leave it out.
    pub fn watch(
        &self,
        record: &RequestRecord,
        refused: &std::cell::Cell<Option<String>>,
    ) -> tokenpace_client::bench::AfterRequest {
        use tokenpace_client::bench::AfterRequest;
        let Some(e) = &record.error else {
            return AfterRequest::Continue;
        };
        if !matches!(e.status, Some(400 | 422)) {
            return AfterRequest::Continue;
        }
        let other = format!("{} other", Setting::ServerKind);
        let added = [
            (
                "ignore_eos",
                self.ignore_eos,
                Setting::NoIgnoreEos.to_string(),
            ),
            (
                "min_tokens",
                self.ignore_eos,
                Setting::NoIgnoreEos.to_string(),
            ),
            (
                "continuous_usage_stats",
                self.per_chunk_usage,
                other.clone(),
            ),
        ];
        let Some((name, _, flag)) = added
            .into_iter()
            .find(|(name, sent, _)| *sent && e.message.contains(name))
        else {
            return AfterRequest::Continue;
        };
        refused.set(Some(format!(
            "the server refused the argument '{name}', which tokenpace sends to a {} server (HTTP {}: {}); leave it out with {flag}, or give {other} to send only what OpenAI's API defines",
            self.kind.id(),
            e.status.unwrap_or(400),
            e.message
        )));
        AfterRequest::Stop
    }

    /// Says in `settings` whose server it was and how synthetic prompts
    /// got their length.
    pub fn describe(&self, settings: &mut RunSettings, synthetic: bool) {
        settings.server_kind = Some(self.kind.id().to_string());
        if synthetic {
            settings.prompt_lengths = Some(match self.counter {
                Some(_) => PromptLengths::Exact,
                None => PromptLengths::Estimated,
            });
            settings.prompt_tokenizer = self.counter.as_ref().map(|c| c.describe());
        }
    }

    /// A warning when a trace's replay found more of its prompts in the
    /// server's cache than its shared blocks (`hash_ids`) allow on a fresh
    /// server: the server had them before this run.
    pub fn primed_trace(
        scan: Option<tokenpace_client::trace::TraceScan>,
        records: &[RequestRecord],
    ) -> Option<String> {
        let scan = scan.filter(|s| s.prompt_tokens > 0)?;
        let (prompt, cached) = records
            .iter()
            .filter_map(|r| Some((r.prompt_tokens?.count, r.cached_tokens?)))
            .fold((0u64, 0u64), |(p, c), (rp, rc)| {
                (p + u64::from(rp), c + u64::from(rc.min(rp)))
            });
        if prompt == 0 {
            return None;
        }
        let measured = cached as f64 / prompt as f64;
        let allowed = scan.shared_tokens as f64 / scan.prompt_tokens as f64;
        (measured > allowed + PRIMED_MARGIN).then(|| {
            format!(
                "{:.0} % of prompt tokens came from the server's prefix cache, where the trace's shared blocks allow at most {:.0} % on a fresh server: the server had these prompts cached before this run (an earlier replay with {}, or another client); restart it for a cold cache",
                100.0 * measured,
                100.0 * allowed,
                Setting::ReusePrompts
            )
        })
    }

    /// A warning when the prompts the server counted differ from the
    /// length asked for by more than 5 % (single requests of synthetic
    /// text; sessions and files have lengths of their own).
    pub fn off_length(
        &self,
        plan: &crate::BenchPlan,
        level: crate::LevelPlan,
        records: &[RequestRecord],
    ) -> Option<String> {
        // A mix's entries may ask for lengths of their own.
        let own_lengths = plan
            .workload
            .model_mix
            .as_ref()
            .is_some_and(|m| m.entries().iter().any(|e| e.prompt_tokens.is_some()));
        if plan.sessions.is_some()
            || plan.workload.dataset.is_some()
            || plan.workload.trace.is_some()
            || own_lengths
        {
            return None;
        }
        let counted: Vec<f64> = records
            .iter()
            .filter_map(|r| {
                r.prompt_tokens
                    .filter(|t| t.source == CountSource::ServerUsage)
            })
            .map(|t| f64::from(t.count))
            .collect();
        let asked = f64::from(level.prompt_tokens);
        if counted.is_empty() || asked == 0.0 {
            return None;
        }
        let mean = counted.iter().sum::<f64>() / counted.len() as f64;
        ((mean - asked).abs() > OFF_SHARE * asked).then(|| {
            let why = match &self.counter {
                Some(c) if !c.counts_template() => format!(
                    "{} counts the text alone, the server also its chat template",
                    c.describe()
                ),
                Some(c) => format!("no cut of the text gave the length on {}", c.describe()),
                None => format!(
                    "the lengths were estimated: the server offers no tokenizer (give {} tokenizer.json, or {} if it has /tokenize)",
                    Setting::Tokenizer,
                    Setting::ServerKind
                ),
            };
            format!(
                "the server counted {mean:.0} prompt tokens on average where {} were asked for ({:+.0} %): {why}",
                level.prompt_tokens,
                100.0 * (mean - asked) / asked
            )
        })
    }

    /// `workload` with its prompts `ids` cut to their exact length on the
    /// tokenizer that counts (as `shape`), or as it is without one.
    pub fn cut(
        &self,
        runtime: &tokio::runtime::Runtime,
        workload: Workload,
        shape: Shape,
        ids: &[u64],
    ) -> anyhow::Result<Workload> {
        let Some(counter) = &self.counter else {
            return Ok(workload);
        };
        let cuts =
            runtime.block_on(workload.make_cuts(counter.as_ref(), shape, ids, PARALLEL_COUNTS))?;
        Ok(Workload {
            cuts: Some(Arc::new(cuts)),
            ..workload
        })
    }
}
