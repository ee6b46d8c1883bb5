//! What a run shares across its levels: [`Setup`] (protocol, HTTP client,
//! model, prompts) and the [`Session`] that runs one level at a time.

use super::options::{max_tokens, settings, shard_load, workload};
use super::progress::Progress;
use super::render::all_failed;
use super::{write_json, Level, LevelResult, WARMUP_SEED};
use crate::cli::{ApiArg, BenchArgs};
use crate::environment;
use anyhow::{bail, Context};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::openai::{OpenAiChat, OpenAiCompletions};
use tokenpace_client::backend::Backend;
use tokenpace_client::bench::{self, RunOptions};
use tokenpace_client::clock::RunClock;
use tokenpace_client::dataset::Dataset;
use tokenpace_client::load::{Driver, Load, LoadPlan};
use tokenpace_client::request::{http_client, Timeouts};
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::workload::{PromptSource, Workload};
use tokenpace_core::server_metrics::Scrape;
use tokenpace_core::summary::RunSummary;

/// What a run needs before its first request: the protocol, the HTTP
/// client, the model's name, the prompts.
pub(crate) struct Setup {
    pub(crate) profile: tokenpace_core::profile::Profile,
    pub(crate) runtime: tokio::runtime::Runtime,
    client: tokenpace_client::request::HttpClient,
    target: tokenpace_client::request::Target,
    backend: Arc<dyn Backend>,
    tokenizer: Option<Arc<ModelTokenizer>>,
    dataset: Option<Arc<dyn PromptSource>>,
}

impl Setup {
    /// Prepares a run of `args` (after `apply_scenario`) against `target`,
    /// with up to `max_in_flight` requests at once.
    pub(crate) fn new(
        args: &BenchArgs,
        mut target: tokenpace_client::request::Target,
        profile: tokenpace_core::profile::Profile,
        max_in_flight: usize,
    ) -> anyhow::Result<Setup> {
        let backend: Arc<dyn Backend> = match (&args.backend, args.api) {
            (Some(id), _) => tokenpace_client::backend::by_id(id)
                .ok_or_else(|| anyhow::anyhow!("unknown --backend '{id}'"))?,
            (None, ApiArg::Chat) => Arc::new(OpenAiChat),
            (None, ApiArg::Completions) => Arc::new(OpenAiCompletions),
        };
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .enable_all()
            .build()
            .context("could not start the async runtime")?;
        let client = http_client(Duration::from_secs_f64(args.connect_timeout), max_in_flight)?;
        if target.model.is_empty() {
            target.model =
                runtime.block_on(tokenpace_client::discover::first_model(&client, &target))?;
        }
        let tokenizer = match &args.tokenizer {
            Some(path) => Some(Arc::new(ModelTokenizer::from_file(path)?)),
            None => None,
        };
        let dataset: Option<Arc<dyn PromptSource>> = match &args.dataset {
            Some(path) => Some(Arc::new(Dataset::load(
                path,
                max_tokens(args),
                !args.no_ignore_eos,
            )?)),
            None => None,
        };
        Ok(Setup {
            profile,
            runtime,
            client,
            target,
            backend,
            tokenizer,
            dataset,
        })
    }

    /// The session that runs levels of `args`.
    pub(crate) fn session<'a>(&'a self, args: &'a BenchArgs) -> Session<'a> {
        Session {
            args,
            profile: &self.profile,
            runtime: &self.runtime,
            client: self.client.clone(),
            target: self.target.clone(),
            backend: self.backend.clone(),
            tokenizer: self.tokenizer.clone(),
            dataset: self.dataset.clone(),
        }
    }

    /// The base URL requests go to.
    pub(crate) fn base_url(&self) -> &str {
        &self.target.base_url
    }

    /// The HTTP client.
    pub(crate) fn client(&self) -> &tokenpace_client::request::HttpClient {
        &self.client
    }
}

/// What every level of a run shares.
pub(crate) struct Session<'a> {
    args: &'a BenchArgs,
    profile: &'a tokenpace_core::profile::Profile,
    runtime: &'a tokio::runtime::Runtime,
    client: tokenpace_client::request::HttpClient,
    target: tokenpace_client::request::Target,
    backend: Arc<dyn Backend>,
    tokenizer: Option<Arc<ModelTokenizer>>,
    dataset: Option<Arc<dyn PromptSource>>,
}

impl Session<'_> {
    /// A driver for `level`, its prompts drawn with `seed`.
    fn driver(&self, level: Level, seed: u64) -> Arc<Driver> {
        let args = self.args;
        Arc::new(Driver {
            client: self.client.clone(),
            target: self.target.clone(),
            backend: self.backend.clone(),
            workload: match &self.dataset {
                Some(d) => d.clone(),
                None => Arc::new(Workload {
                    seed,
                    ..workload(args, level.prompt_tokens, self.tokenizer.clone())
                }),
            },
            timeouts: Timeouts {
                first_token: Duration::from_secs_f64(args.first_token_timeout),
                total: Duration::from_secs_f64(args.timeout),
            },
            clock: RunClock::start(),
        })
    }

    /// Runs one level (after its warm-up), writes its files into `dir`, and
    /// returns it with the number of failed warm-up requests.
    pub(crate) fn run_level(
        &self,
        level: Level,
        label: String,
        position: Option<String>,
        dir: Option<&Path>,
        warnings: &mut Vec<String>,
    ) -> anyhow::Result<(LevelResult, usize)> {
        let args = self.args;
        if let Some(d) = dir {
            std::fs::create_dir_all(d)
                .with_context(|| format!("could not create '{}'", d.display()))?;
        }
        let plan = LoadPlan {
            load: shard_load(args, level.load),
            requests: args.requests,
            duration: args.duration.map(Duration::from_secs_f64),
            seed: args.seed,
            ramp_up: Duration::from_secs_f64(args.ramp_up),
            shard: args.shard,
        };
        let mut warmup_failed = 0;
        if args.warmup > 0 {
            // Other prompts than the measured ones, so no prefix cache is primed.
            let warm = LoadPlan {
                requests: args.warmup,
                duration: None,
                ..plan
            };
            let options = RunOptions {
                records_file: dir.map(|d| d.join("warmup.jsonl")),
                grace: Duration::from_secs(5),
            };
            let progress = Progress::new(args.warmup, Some(format!("{label} warm-up")));
            let outcome = self.runtime.block_on(bench::run(
                self.driver(level, level_seed(args.seed, level) ^ WARMUP_SEED),
                warm,
                options,
                |r| progress.record(r),
            ));
            progress.finish();
            let outcome = outcome?;
            warmup_failed = outcome.records.iter().filter(|r| !r.is_ok()).count();
            if outcome.partial {
                bail!("interrupted during the warm-up; nothing was measured");
            }
        }
        let options = RunOptions {
            records_file: dir.map(|d| d.join("requests.jsonl")),
            grace: Duration::from_secs(5),
        };
        let scrape_url = args.server_metrics.as_ref().map(|u| {
            if u.is_empty() {
                format!("{}/metrics", self.target.base_url)
            } else {
                u.clone()
            }
        });
        let before = scrape_url.as_ref().map(|u| self.scrape(u, warnings));
        let environment = environment::current();
        let progress = Progress::new(args.shard.requests(args.requests), position);
        let outcome = self.runtime.block_on(bench::run(
            self.driver(level, level_seed(args.seed, level)),
            plan,
            options,
            |r| progress.record(r),
        ));
        progress.finish();
        let outcome = outcome?;
        warnings.extend(outcome.warnings.iter().cloned());
        let mut summary = RunSummary::from_records(
            &outcome.records,
            settings(
                args,
                self.profile,
                &self.target.model,
                self.backend.id(),
                level,
            ),
            environment,
        );
        summary.partial = outcome.partial;
        if let Some(d) = dir {
            write_json(&d.join("run.json"), &summary)?;
        }
        if summary.counts.ok == 0 {
            bail!(
                "{}",
                all_failed(&outcome.records, args.url.as_deref().unwrap_or_default())
            );
        }
        let grade = self.profile.grade(|m, st| summary.get(m, st), false)?;
        let server = match (&scrape_url, before.flatten()) {
            (Some(u), Some(before)) => self.scrape(u, warnings).map(|after| {
                let ttft = summary.get(
                    tokenpace_core::metric::Metric::TtftS,
                    tokenpace_core::stats::Statistic::Mean,
                );
                tokenpace_core::server_metrics::decompose(
                    &before,
                    &after,
                    ttft.unwrap_or(0.0),
                    summary.counts.ok,
                )
            }),
            _ => None,
        };
        let result = LevelResult {
            label,
            records: outcome.records,
            summary,
            grade,
            server,
        };
        Ok((result, warmup_failed))
    }
}

impl Session<'_> {
    /// The server's metrics now, or a warning.
    fn scrape(&self, url: &str, warnings: &mut Vec<String>) -> Option<Scrape> {
        let request = self.client.get(url);
        let text = self.runtime.block_on(async move {
            let response = request.timeout(Duration::from_secs(10)).send().await?;
            response.error_for_status()?.text().await
        });
        match text {
            Ok(t) => Some(Scrape::parse(&t)),
            Err(e) => {
                warnings.push(format!(
                    "--server-metrics: could not scrape {url} ({e}); give the metrics URL, e.g. --server-metrics http://127.0.0.1:8000/metrics"
                ));
                None
            }
        }
    }
}

/// The prompt seed of `level`: each level of a run draws its own prompts, so
/// a server's prefix cache cannot serve a later level (or a longer prompt
/// that starts like a shorter one) from an earlier level's requests. Shards
/// of one run agree on it, and split the request ids.
fn level_seed(seed: u64, level: Level) -> u64 {
    let load = match level.load {
        Load::Closed { concurrency } => u64::from(concurrency),
        Load::Open { rate, .. } => rate.to_bits() ^ (1 << 63),
    };
    // SplitMix64's finaliser over the level's parameters.
    let mut z =
        seed ^ load.wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ (u64::from(level.prompt_tokens) << 32);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}
