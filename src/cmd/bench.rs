//! `tokenpace bench URL`: measure a server, summarise, grade.

use crate::cli::{ApiArg, ArrivalArg, BenchArgs, BenchFormat, TextArg};
use crate::lang::Lang;
use crate::table::{Align, Csv, Markdown, Table, TableFormat, Terminal};
use crate::{environment, input, number, Status};
use anyhow::{bail, Context};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::{IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;
use tokenpace_client::backend::openai::{OpenAiChat, OpenAiCompletions};
use tokenpace_client::backend::Backend;
use tokenpace_client::bench::{self, RunOptions};
use tokenpace_client::clock::RunClock;
use tokenpace_client::dataset::Dataset;
use tokenpace_client::load::{Arrival, Driver, Load, LoadPlan};
use tokenpace_client::request::{http_client, Target, Timeouts};
use tokenpace_client::tokenizer::ModelTokenizer;
use tokenpace_client::workload::{PromptSource, Workload};
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::{CountSource, ErrorKind, RequestRecord};
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::{RunSettings, RunSummary};

/// Mixed into the seed of warm-up prompts so they differ from measured ones.
const WARMUP_SEED: u64 = 0x5741_524d_5550;

/// One load level of a run (a sweep has several).
#[derive(Debug, Clone, Copy)]
struct Level {
    load: Load,
    prompt_tokens: u32,
}

impl Level {
    /// A short name, used for sub-directories and table rows.
    fn label(&self, sweep_prompts: bool) -> String {
        match (sweep_prompts, self.load) {
            (true, _) => format!("p{}", self.prompt_tokens),
            (false, Load::Closed { concurrency }) => format!("c{concurrency}"),
            (false, Load::Open { rate, .. }) => format!("r{rate}"),
        }
    }
}

/// A finished level.
struct LevelResult {
    label: String,
    records: Vec<RequestRecord>,
    summary: RunSummary,
    grade: Grade,
}

/// Runs `tokenpace bench`.
pub fn run(mut args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.as_deref())?;
    apply_scenario(&mut args)?;
    let target = target(&args)?;
    let levels = levels(&args)?;
    let sweep_prompts = args.prompt_tokens.len() > 1;
    for (flag, v) in [
        ("--requests", args.requests),
        ("--max-tokens", u64::from(max_tokens(&args))),
    ] {
        if v == 0 {
            bail!("{flag} must be at least 1");
        }
    }
    let backend: Arc<dyn Backend> = match args.api {
        ApiArg::Chat => Arc::new(OpenAiChat),
        ApiArg::Completions => Arc::new(OpenAiCompletions),
    };
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir).with_context(|| {
            format!("could not create the output directory '{}'", dir.display())
        })?;
    }
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .context("could not start the async runtime")?;
    let max_in_flight = levels
        .iter()
        .map(|l| match l.load {
            Load::Closed { concurrency } => concurrency as usize,
            Load::Open { .. } => 64,
        })
        .max()
        .unwrap_or(1);
    let client = http_client(Duration::from_secs_f64(args.connect_timeout), max_in_flight)?;
    let mut target = target;
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
            max_tokens(&args),
            !args.no_ignore_eos,
        )?)),
        None => None,
    };
    let closed_max = levels
        .iter()
        .filter_map(|l| match l.load {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } => None,
        })
        .max();
    let self_check = if args.self_check
        || (!args.no_self_check && closed_max.is_some_and(|c| c > 100))
    {
        let streams = closed_max.unwrap_or(100);
        eprintln!("self-check: measuring this client's timing error at {streams} streams against the built-in simulator…");
        let tokens = max_tokens(&args).clamp(2, 64);
        Some(
            crate::self_check::run(
                &runtime,
                streams,
                50.0,
                tokens,
                Duration::from_secs_f64(args.ramp_up),
            )
            .context("the self-check failed (skip it with --no-self-check)")?,
        )
    } else {
        None
    };
    let mut results = Vec::new();
    let mut warnings = Vec::new();
    let mut warmup_failed = 0;
    for (i, level) in levels.iter().enumerate() {
        let label = level.label(sweep_prompts);
        let dir = args.out.as_ref().map(|d| {
            if levels.len() > 1 {
                d.join(&label)
            } else {
                d.clone()
            }
        });
        if let Some(d) = &dir {
            std::fs::create_dir_all(d)
                .with_context(|| format!("could not create '{}'", d.display()))?;
        }
        let driver = |seed: u64| {
            Arc::new(Driver {
                client: client.clone(),
                target: target.clone(),
                backend: backend.clone(),
                workload: match &dataset {
                    Some(d) => d.clone(),
                    None => Arc::new(Workload {
                        seed,
                        ..workload(&args, level.prompt_tokens, tokenizer.clone())
                    }),
                },
                timeouts: Timeouts {
                    first_token: Duration::from_secs_f64(args.first_token_timeout),
                    total: Duration::from_secs_f64(args.timeout),
                },
                clock: RunClock::start(),
            })
        };
        let plan = LoadPlan {
            load: level.load,
            requests: args.requests,
            duration: args.duration.map(Duration::from_secs_f64),
            seed: args.seed,
            ramp_up: Duration::from_secs_f64(args.ramp_up),
        };
        if args.warmup > 0 {
            // Other prompts than the measured ones, so no prefix cache is primed.
            let warm = LoadPlan {
                requests: args.warmup,
                duration: None,
                ..plan
            };
            let options = RunOptions {
                records_file: dir.as_ref().map(|d| d.join("warmup.jsonl")),
                grace: Duration::from_secs(5),
            };
            let progress = Progress::new(args.warmup, Some(format!("{label} warm-up")));
            let outcome = runtime.block_on(bench::run(
                driver(args.seed ^ WARMUP_SEED),
                warm,
                options,
                |r| progress.record(r),
            ));
            progress.finish();
            let outcome = outcome?;
            warmup_failed += outcome.records.iter().filter(|r| !r.is_ok()).count();
            if outcome.partial {
                bail!("interrupted during the warm-up; nothing was measured");
            }
        }
        let driver = driver(args.seed);
        let options = RunOptions {
            records_file: dir.as_ref().map(|d| d.join("requests.jsonl")),
            grace: Duration::from_secs(5),
        };
        let environment = environment::current();
        let progress = Progress::new(
            args.requests,
            (levels.len() > 1).then(|| format!("{label} ({}/{})", i + 1, levels.len())),
        );
        let outcome = runtime.block_on(bench::run(driver, plan, options, |r| progress.record(r)));
        progress.finish();
        let outcome = outcome?;
        warnings.extend(outcome.warnings.iter().cloned());
        let mut summary = RunSummary::from_records(
            &outcome.records,
            settings(&args, &profile, &target.model, backend.id(), *level),
            environment,
        );
        summary.partial = outcome.partial;
        if let Some(d) = &dir {
            write_json(&d.join("run.json"), &summary)?;
        }
        if summary.counts.ok == 0 {
            bail!("{}", all_failed(&outcome.records, &args.url));
        }
        let grade = profile.grade(|m, st| summary.get(m, st), false)?;
        let partial = summary.partial;
        results.push(LevelResult {
            label,
            records: outcome.records,
            summary,
            grade,
        });
        if partial {
            break;
        }
    }
    if warmup_failed > 0 {
        warnings.push(format!(
            "{warmup_failed} warm-up requests failed (see warmup.jsonl with --out)"
        ));
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    let fit = sweep_prompts.then(|| prefill_fit(&results));
    if let (Some(dir), true) = (&args.out, results.len() > 1) {
        write_json(&dir.join("sweep.json"), &sweep_json(&results, fit.as_ref()))?;
    }
    let all: Vec<&RequestRecord> = results.iter().flat_map(|r| &r.records).collect();
    let mut notes = notes(&all, results.iter().any(|r| r.summary.partial), &args, lang);
    if let Some(e) = &self_check {
        notes.push(match lang {
            Lang::En => format!(
                "timing error ±{:.2} ms (inter-token, p99) at {} streams: this client against the built-in simulator on this machine (TTFT +{:.2} ms p50, +{:.2} ms p99, including loopback and the server's intake)",
                e.itl_error_ms.1, e.streams, e.ttft_excess_ms.0, e.ttft_excess_ms.1
            ),
            Lang::Zh => format!(
                "计时误差 ±{:.2} ms（字间延迟 p99，{} 路并发）：本机上本客户端对内置模拟器的自检（首字延迟 p50 +{:.2} ms，p99 +{:.2} ms，含回环与服务器接收）",
                e.itl_error_ms.1, e.streams, e.ttft_excess_ms.0, e.ttft_excess_ms.1
            ),
        });
    }
    let text = match (args.format, results.as_slice()) {
        (BenchFormat::Json, [one]) => json_text(
            &serde_json::json!({"summary": one.summary, "grade": one.grade, "self_check": self_check}),
        )?,
        (BenchFormat::Json, _) => json_text(&sweep_json(&results, fit.as_ref()))?,
        (BenchFormat::Csv, _) => Csv.render(&csv_table(&results)),
        (BenchFormat::Table, [one]) => render(
            &one.summary,
            &one.grade,
            &profile,
            &notes,
            lang,
            &Terminal,
            false,
        ),
        (BenchFormat::Markdown, [one]) => render(
            &one.summary,
            &one.grade,
            &profile,
            &notes,
            lang,
            &Markdown,
            true,
        ),
        (BenchFormat::Table, _) => render_sweep(&results, fit.as_ref(), &notes, lang, &Terminal),
        (BenchFormat::Markdown, _) => render_sweep(&results, fit.as_ref(), &notes, lang, &Markdown),
    };
    out.write_all(text.as_bytes())?;
    let below = args
        .fail_below
        .is_some_and(|t| results.iter().any(|r| r.grade.any_below(t.into())));
    Ok(if below { Status::BelowTier } else { Status::Ok })
}

/// One row per level: settings, counts, throughput, then mean, p50, p90 and
/// p99 of every metric (empty where not measured), at full precision.
fn csv_table(results: &[LevelResult]) -> Table {
    const STATS: [Statistic; 4] = [
        Statistic::Mean,
        Statistic::P50,
        Statistic::P90,
        Statistic::P99,
    ];
    let mut header: Vec<String> = [
        "level",
        "concurrency",
        "rate",
        "prompt_tokens",
        "sent",
        "ok",
        "failed",
        "duration_s",
        "requests_per_s",
        "output_tok_s",
        "overall_tier",
    ]
    .map(String::from)
    .to_vec();
    for m in Metric::ALL {
        header.extend(STATS.map(|st| format!("{}_{st}", m.id())));
    }
    let mut t = Table {
        header,
        ..Table::default()
    };
    let opt = |v: Option<String>| v.unwrap_or_default();
    for r in results {
        let s = &r.summary;
        let mut row = vec![
            r.label.clone(),
            opt(s.settings.concurrency.map(|c| c.to_string())),
            opt(s.settings.rate.map(|c| c.to_string())),
            opt(s.settings.prompt_tokens.map(|c| c.to_string())),
            s.counts.sent.to_string(),
            s.counts.ok.to_string(),
            s.counts.failed.to_string(),
            s.throughput.duration_s.to_string(),
            s.throughput.requests_per_s.to_string(),
            s.throughput.output_tok_s.to_string(),
            opt(r.grade.overall.map(|t| t.to_string())),
        ];
        for m in Metric::ALL {
            row.extend(STATS.map(|st| opt(s.get(m, st).map(|v| v.to_string()))));
        }
        t.row(row);
    }
    t
}

fn json_text(v: &serde_json::Value) -> anyhow::Result<String> {
    Ok(serde_json::to_string_pretty(v)? + "\n")
}

/// Fills prompt and answer lengths from `--scenario`, then the defaults.
fn apply_scenario(args: &mut BenchArgs) -> anyhow::Result<()> {
    if let Some(name) = &args.scenario {
        let preset = tokenpace_core::scenario::preset_named(name).ok_or_else(|| {
            anyhow::anyhow!(
                "unknown scenario '{name}': use one of {} (tokenpace plan scenario --list shows them)",
                tokenpace_core::scenario::preset_names()
            )
        })?;
        let spec = preset.spec();
        if args.prompt_tokens.is_empty() {
            args.prompt_tokens = spec.prompt_tokens.map(|p| p as u32).into_iter().collect();
        }
        if args.max_tokens.is_none() {
            args.max_tokens = spec.output_tokens.map(|o| o as u32);
        }
    }
    if args.dataset.is_some() && (args.prompt_tokens.len() > 1 || args.shared_prefix > 0) {
        bail!("--dataset brings its own prompts: drop --prompt-tokens lists and --shared-prefix");
    }
    if args.prompt_tokens.is_empty() {
        args.prompt_tokens = vec![256];
    }
    Ok(())
}

/// `--max-tokens`, after [`apply_scenario`].
fn max_tokens(args: &BenchArgs) -> u32 {
    args.max_tokens.unwrap_or(128)
}

fn levels(args: &BenchArgs) -> anyhow::Result<Vec<Level>> {
    let loads: Vec<Load> = if !args.rate.is_empty() {
        let arrival = match args.arrival {
            ArrivalArg::Poisson => Arrival::Poisson,
            ArrivalArg::Constant => Arrival::Constant,
        };
        args.rate
            .iter()
            .map(|&rate| Load::Open { rate, arrival })
            .collect()
    } else if args.concurrency.is_empty() {
        vec![Load::Closed { concurrency: 1 }]
    } else {
        args.concurrency
            .iter()
            .map(|&c| match c {
                0 => bail!("--concurrency must be at least 1"),
                c if c > 100_000 => {
                    bail!("--concurrency {c} is implausibly large (the limit is 100000)")
                }
                c => Ok(Load::Closed { concurrency: c }),
            })
            .collect::<anyhow::Result<_>>()?
    };
    if args.prompt_tokens.contains(&0) {
        bail!("--prompt-tokens must be at least 1");
    }
    if loads.len() > 1 && args.prompt_tokens.len() > 1 {
        bail!("sweep either the load (--concurrency or --rate lists) or --prompt-tokens, not both in one run");
    }
    Ok(loads
        .iter()
        .flat_map(|&load| {
            args.prompt_tokens.iter().map(move |&prompt_tokens| Level {
                load,
                prompt_tokens,
            })
        })
        .collect())
}

fn workload(
    args: &BenchArgs,
    prompt_tokens: u32,
    tokenizer: Option<Arc<ModelTokenizer>>,
) -> Workload {
    Workload {
        lang: match args.text {
            TextArg::Zh => tokenpace_corpus::Lang::Zh,
            TextArg::En => tokenpace_corpus::Lang::En,
            TextArg::Mixed => tokenpace_corpus::Lang::Mixed,
        },
        prompt_tokens,
        shared_prefix: args.shared_prefix,
        max_tokens: max_tokens(args),
        ignore_eos: !args.no_ignore_eos,
        seed: args.seed,
        tokenizer,
    }
}

fn settings(
    args: &BenchArgs,
    profile: &Profile,
    model: &str,
    backend: &str,
    level: Level,
) -> RunSettings {
    RunSettings {
        target: Some(redact(&args.url)),
        backend: Some(backend.to_string()),
        model: Some(model.to_string()),
        concurrency: match level.load {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } => None,
        },
        rate: match level.load {
            Load::Open { rate, .. } => Some(rate),
            Load::Closed { .. } => None,
        },
        requests: Some(args.requests),
        prompt_tokens: Some(level.prompt_tokens),
        max_tokens: Some(max_tokens(args)),
        scenario: args.scenario.clone(),
        stall_threshold_s: profile.stall_threshold_ms / 1000.0,
        network_overhead_s: args.network_overhead,
    }
}

/// TTFT against prompt tokens over every successful request of a sweep.
fn prefill_fit(results: &[LevelResult]) -> Result<PrefillFit, FitError> {
    let points: Vec<(f64, f64)> = results
        .iter()
        .flat_map(|r| &r.records)
        .filter(|r| r.is_ok())
        .filter_map(|r| {
            let prompt = r.prompt_tokens?.count;
            let ttft = r.first_token_ns()?.saturating_sub(r.sent_ns);
            Some((f64::from(prompt), ttft as f64 / 1e9))
        })
        .collect();
    PrefillFit::fit(&points)
}

fn sweep_json(
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
) -> serde_json::Value {
    let levels: Vec<serde_json::Value> = results
        .iter()
        .map(|r| serde_json::json!({"label": r.label, "summary": r.summary, "grade": r.grade}))
        .collect();
    let fit = match fit {
        Some(Ok(f)) => serde_json::json!(f),
        Some(Err(e)) => serde_json::json!({"error": e.to_string()}),
        None => serde_json::Value::Null,
    };
    serde_json::json!({"levels": levels, "prefill_fit": fit})
}

fn write_json<T: serde::Serialize>(path: &Path, value: &T) -> anyhow::Result<()> {
    let text = serde_json::to_string_pretty(value)?;
    std::fs::write(path, text + "\n")
        .with_context(|| format!("could not write '{}'", path.display()))
}

fn target(args: &BenchArgs) -> anyhow::Result<Target> {
    let url = args.url.trim();
    if !(url.starts_with("http://") || url.starts_with("https://")) {
        bail!("'{}' is not an http:// or https:// URL; give the server's base URL, e.g. http://127.0.0.1:8000", args.url);
    }
    let api_key = args
        .api_key
        .clone()
        .or_else(|| std::env::var("TOKENPACE_API_KEY").ok())
        .or_else(|| std::env::var("OPENAI_API_KEY").ok())
        .filter(|k| !k.is_empty());
    let headers = args
        .headers
        .iter()
        .map(|h| match h.split_once(':') {
            Some((k, v)) if !k.trim().is_empty() => {
                Ok((k.trim().to_string(), v.trim().to_string()))
            }
            _ => bail!("--header '{h}' is not NAME:VALUE"),
        })
        .collect::<anyhow::Result<_>>()?;
    Ok(Target {
        base_url: url
            .trim_end_matches('/')
            .trim_end_matches("/v1")
            .to_string(),
        model: args.model.clone().unwrap_or_default(),
        api_key,
        headers,
    })
}

/// The URL without credentials, for files and output.
fn redact(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_string();
    };
    let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
    let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let path = path.split_once('?').map_or(path, |(p, _)| p);
    format!("{scheme}://{host}{path}")
}

/// One line saying why nothing succeeded, and what to try.
fn all_failed(records: &[RequestRecord], url: &str) -> String {
    let Some(first) = records.iter().find_map(|r| r.error.as_ref()) else {
        return "no request was sent (the run was interrupted before the first one)".into();
    };
    let hint = match (first.kind, first.status) {
        (ErrorKind::Connect, _) => format!("is the server running at {url}?"),
        (ErrorKind::Dns, _) => "is the host name right?".into(),
        (ErrorKind::Tls, _) => "does the server speak TLS (https) on that port?".into(),
        (ErrorKind::HttpStatus, Some(401 | 403)) => {
            "the API key is missing or wrong (--api-key, TOKENPACE_API_KEY or OPENAI_API_KEY)"
                .into()
        }
        (ErrorKind::HttpStatus, Some(404)) => "wrong URL or model name? (--model, --api)".into(),
        (ErrorKind::Timeout, _) => {
            "the server did not answer in time (--first-token-timeout, --timeout)".into()
        }
        _ => "see requests.jsonl (--out) for every error".into(),
    };
    format!(
        "all {} requests failed; the first with {}: {} — {hint}",
        records.len(),
        first.kind.id(),
        first.message
    )
}

/// Things a reader must know to trust the numbers.
fn notes(records: &[&RequestRecord], partial: bool, args: &BenchArgs, lang: Lang) -> Vec<String> {
    let mut notes = Vec::new();
    if partial {
        notes.push(
            lang.pick(
                "interrupted: these results cover the requests that finished before Ctrl-C",
                "已中断：结果只包含中断前完成的请求",
            )
            .to_string(),
        );
    }
    let ok: Vec<&RequestRecord> = records.iter().copied().filter(|r| r.is_ok()).collect();
    let by_chunks = ok
        .iter()
        .filter(|r| {
            r.output_tokens
                .is_some_and(|t| t.source == CountSource::ChunkCount)
        })
        .count();
    if by_chunks > 0 {
        notes.push(format!(
            "{by_chunks} {}",
            lang.pick("responses reported no usage: their output tokens are counted as streamed events (a lower bound if the server sends several tokens per event)", "个响应未返回 usage：输出 token 按流式事件数计（若服务器每个事件发送多个 token，则偏低）")
        ));
    }
    if !args.no_ignore_eos {
        let short = ok
            .iter()
            .filter(|r| r.output_tokens.is_some_and(|t| t.count < max_tokens(args)))
            .count();
        if short > 0 {
            notes.push(format!(
                "{short} {} {}",
                lang.pick(
                    "responses stopped before --max-tokens",
                    "个响应在 --max-tokens 之前结束"
                ),
                lang.pick(
                    "(the server may not honour ignore_eos)",
                    "（服务器可能不支持 ignore_eos）"
                )
            ));
        }
    }
    if ok.iter().any(|r| r.server_timings.is_none()) && args.network_overhead == 0.0 {
        notes.push(
            lang.pick(
                "prefill is prompt tokens ÷ TTFT: a lower bound, since TTFT also holds fixed costs (network, queueing, the first decode step); --prompt-tokens 128,512,2048 separates them by a fit",
                "prefill 为提示 token ÷ 首字延迟：这是下限，因为首字延迟还包含固定开销（网络、排队、首个解码步）；用 --prompt-tokens 128,512,2048 拟合可将其分离",
            )
            .to_string(),
        );
    }
    let estimated = ok
        .iter()
        .filter(|r| {
            r.prompt_tokens
                .is_some_and(|t| t.source == CountSource::Estimate)
        })
        .count();
    if estimated > 0 {
        notes.push(format!(
            "{estimated} {}",
            lang.pick("responses reported no prompt tokens: prompt lengths (and client-side prefill) are estimates", "个响应未返回提示 token 数：提示长度（及客户端推算的 prefill）为估计值")
        ));
    }
    notes
}

fn render(
    summary: &RunSummary,
    grade: &Grade,
    profile: &Profile,
    notes: &[String],
    lang: Lang,
    format: &dyn TableFormat,
    markdown: bool,
) -> String {
    let mut out = String::new();
    let s = &summary.settings;
    let load = match (s.concurrency, s.rate) {
        (Some(c), _) => format!("{} {c}", lang.pick("concurrency", "并发")),
        (_, Some(r)) => format!("{} {r}/s", lang.pick("rate", "速率")),
        _ => String::new(),
    };
    out.push_str(&format!(
        "{} · {} · {load} · {:.1} s\n\n",
        s.target.as_deref().unwrap_or("-"),
        s.model.as_deref().unwrap_or("-"),
        summary.throughput.duration_s
    ));
    let mut t = Table::new(&[
        (lang.pick("metric", "指标"), Align::Left),
        ("mean", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let graded: std::collections::BTreeMap<Metric, &tokenpace_core::grade::MetricGrade> =
        grade.metrics.iter().map(|g| (g.metric, g)).collect();
    // Every per-request metric but the token counts, which are settings.
    let shown = Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::PromptTokens | Metric::OutputTokens));
    for m in shown {
        let Some(st) = summary.metrics.get(&m) else {
            continue;
        };
        let tier = graded.get(&m).map_or(String::new(), |g| match g.pass {
            Some(true) => lang.pick("pass", "达标").to_string(),
            Some(false) => lang.pick("fail", "未达标").to_string(),
            None => g.tier.to_string(),
        });
        t.row(vec![
            format!("{} ({})", lang.metric(m), m.unit()).replace(" ()", ""),
            number::value(m, st.mean),
            number::value(m, st.p50),
            number::value(m, st.p90),
            number::value(m, st.p99),
            tier,
        ]);
    }
    out.push_str(&format.render(&t));
    let c = &summary.counts;
    out.push_str(&format!(
        "\n{}: {} {}, {} ok, {} {}; {:.2} req/s, {:.1} {}\n",
        lang.pick("requests", "请求"),
        c.sent,
        lang.pick("sent", "已发送"),
        c.ok,
        c.failed,
        lang.pick("failed", "失败"),
        summary.throughput.requests_per_s,
        summary.throughput.output_tok_s,
        lang.pick("output tok/s over all streams", "输出 tok/s（所有流合计）"),
    ));
    if !c.by_kind.is_empty() {
        let mut e = Table::new(&[
            (lang.pick("error", "错误"), Align::Left),
            (lang.pick("count", "次数"), Align::Right),
        ]);
        for (kind, n) in &c.by_kind {
            e.row(vec![kind.id().to_string(), n.to_string()]);
        }
        out.push('\n');
        out.push_str(&format.render(&e));
    }
    for n in notes {
        out.push_str(&format!("{}{n}\n", if markdown { "> " } else { "note: " }));
    }
    out.push('\n');
    out.push_str(&super::grade::render(
        grade,
        profile,
        &[],
        lang,
        format,
        markdown,
    ));
    out
}

/// One row per level, then the prefill line when prompt lengths were swept.
fn render_sweep(
    results: &[LevelResult],
    fit: Option<&Result<PrefillFit, FitError>>,
    notes: &[String],
    lang: Lang,
    format: &dyn TableFormat,
) -> String {
    let first = &results[0].summary.settings;
    let mut out = format!(
        "{} · {}\n\n",
        first.target.as_deref().unwrap_or("-"),
        first.model.as_deref().unwrap_or("-")
    );
    let mut t = Table::new(&[
        (lang.pick("level", "档位"), Align::Left),
        ("ok", Align::Right),
        ("TTFT mean", Align::Right),
        ("TTFT p99", Align::Right),
        (lang.pick("decode", "解码"), Align::Right),
        (lang.pick("chars/s", "字/s"), Align::Right),
        ("ITL p99", Align::Right),
        ("req/s", Align::Right),
        (lang.pick("out tok/s", "输出 tok/s"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    for r in results {
        let s = &r.summary;
        let get = |m: Metric, st: Statistic| {
            s.get(m, st)
                .map_or("-".to_string(), |v| number::value(m, v))
        };
        t.row(vec![
            r.label.clone(),
            format!("{}/{}", s.counts.ok, s.counts.sent),
            get(Metric::TtftS, Statistic::Mean),
            get(Metric::TtftS, Statistic::P99),
            get(Metric::DecodeTokS, Statistic::Mean),
            get(Metric::OutputCharsS, Statistic::Mean),
            get(Metric::ItlS, Statistic::P99),
            format!("{:.2}", s.throughput.requests_per_s),
            format!("{:.0}", s.throughput.output_tok_s),
            r.grade.overall.map_or("-".into(), |t| t.to_string()),
        ]);
    }
    out.push_str(&format.render(&t));
    match fit {
        Some(Ok(f)) => out.push_str(&format!(
            "\n{}: TTFT ≈ {:.3} s + n / {:.0} tok/s (R² {:.3}, {} {})\n",
            lang.pick("prefill line", "prefill 拟合"),
            f.overhead_s,
            f.prefill_tok_s,
            f.r2,
            f.n,
            lang.pick("requests", "个请求"),
        )),
        Some(Err(e)) => out.push_str(&format!(
            "\n{}: {e}\n",
            lang.pick("prefill line", "prefill 拟合")
        )),
        None => {}
    }
    for n in notes {
        out.push_str(&format!("note: {n}\n"));
    }
    out
}

/// A live line on stderr while requests finish (only on a terminal).
struct Progress {
    bar: ProgressBar,
    ttft: std::cell::RefCell<Vec<f64>>,
    errors: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64, label: Option<String>) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if std::io::stderr().is_terminal() {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template("{prefix}{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        if let Some(l) = label {
            bar.set_prefix(format!("{l} "));
        }
        Progress {
            bar,
            ttft: Default::default(),
            errors: Default::default(),
        }
    }

    fn record(&self, r: &RequestRecord) {
        self.bar.inc(1);
        if !r.is_ok() {
            self.errors.set(self.errors.get() + 1);
        }
        if let Some(t) = r.first_token_ns() {
            self.ttft
                .borrow_mut()
                .push(t.saturating_sub(r.sent_ns) as f64 / 1e9);
        }
        let mut ttft = self.ttft.borrow_mut();
        let n = ttft.len();
        if n > 0 && (n < 100 || n % 10 == 0) {
            let mid = n / 2;
            let (_, median, _) = ttft.select_nth_unstable_by(mid, f64::total_cmp);
            self.bar.set_message(format!(
                "errors {} · TTFT p50 {:.3} s",
                self.errors.get(),
                median
            ));
        }
    }

    fn finish(&self) {
        self.bar.finish_and_clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_never_leave_the_url() {
        assert_eq!(
            redact("https://user:secret@api.example.com/v1?key=abc"),
            "https://api.example.com/v1"
        );
        assert_eq!(redact("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
    }
}
