//! `tokenpace bench URL`: measure a server, summarise, grade.

use crate::cli::{ApiArg, ArrivalArg, BenchArgs, Format, TextArg};
use crate::lang::Lang;
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
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
use tokenpace_client::load::{Arrival, Driver, Load, LoadPlan};
use tokenpace_client::request::{http_client, Target, Timeouts};
use tokenpace_client::workload::Workload;
use tokenpace_core::grade::Grade;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::record::{CountSource, ErrorKind, RequestRecord};
use tokenpace_core::summary::{RunSettings, RunSummary};

/// Runs `tokenpace bench`.
pub fn run(args: BenchArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.as_deref())?;
    let target = target(&args)?;
    let load = load(&args)?;
    for (flag, v) in [
        ("--requests", args.requests),
        ("--prompt-tokens", u64::from(args.prompt_tokens)),
        ("--max-tokens", u64::from(args.max_tokens)),
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
    let environment = environment::current();
    let in_flight = match load {
        Load::Closed { concurrency } => concurrency as usize,
        Load::Open { .. } => 64,
    };
    let outcome = runtime.block_on(async {
        let client = http_client(Duration::from_secs_f64(args.connect_timeout), in_flight)?;
        let mut target = target;
        if target.model.is_empty() {
            target.model = tokenpace_client::discover::first_model(&client, &target).await?;
        }
        let driver = Arc::new(Driver {
            client,
            target,
            backend: backend.clone(),
            workload: Workload {
                lang: match args.text {
                    TextArg::Zh => tokenpace_corpus::Lang::Zh,
                    TextArg::En => tokenpace_corpus::Lang::En,
                    TextArg::Mixed => tokenpace_corpus::Lang::Mixed,
                },
                prompt_tokens: args.prompt_tokens,
                shared_prefix: args.shared_prefix,
                max_tokens: args.max_tokens,
                ignore_eos: !args.no_ignore_eos,
                seed: args.seed,
            },
            timeouts: Timeouts {
                first_token: Duration::from_secs_f64(args.first_token_timeout),
                total: Duration::from_secs_f64(args.timeout),
            },
            clock: RunClock::start(),
        });
        let plan = LoadPlan {
            load,
            requests: args.requests,
            duration: args.duration.map(Duration::from_secs_f64),
            seed: args.seed,
        };
        let options = RunOptions {
            records_file: args.out.as_ref().map(|d| d.join("requests.jsonl")),
            grace: Duration::from_secs(5),
        };
        let progress = Progress::new(args.requests);
        let model = driver.target.model.clone();
        let outcome = bench::run(driver, plan, options, |r| progress.record(r)).await;
        progress.finish();
        outcome.map(|o| (o, model))
    });
    let (outcome, model) = outcome?;
    for w in &outcome.warnings {
        eprintln!("warning: {w}");
    }

    let settings = RunSettings {
        target: Some(redact(&args.url)),
        backend: Some(backend.id().to_string()),
        model: Some(model),
        concurrency: match load {
            Load::Closed { concurrency } => Some(concurrency),
            Load::Open { .. } => None,
        },
        rate: match load {
            Load::Open { rate, .. } => Some(rate),
            Load::Closed { .. } => None,
        },
        requests: Some(args.requests),
        prompt_tokens: Some(args.prompt_tokens),
        max_tokens: Some(args.max_tokens),
        scenario: None,
        stall_threshold_s: profile.stall_threshold_ms / 1000.0,
        network_overhead_s: args.network_overhead,
    };
    let mut summary = RunSummary::from_records(&outcome.records, settings, environment);
    summary.partial = outcome.partial;
    if let Some(dir) = &args.out {
        write_summary(dir, &summary)?;
    }
    if summary.counts.ok == 0 {
        bail!("{}", all_failed(&outcome.records, &args.url));
    }
    let grade = profile.grade(|m, st| summary.get(m, st), false)?;
    let notes = notes(&outcome.records, &summary, &args, lang);
    let text = match args.output.format {
        Format::Json => {
            serde_json::to_string_pretty(&serde_json::json!({"summary": summary, "grade": grade}))?
                + "\n"
        }
        Format::Table => render(&summary, &grade, &profile, &notes, lang, &Terminal, false),
        Format::Markdown => render(&summary, &grade, &profile, &notes, lang, &Markdown, true),
    };
    out.write_all(text.as_bytes())?;
    Ok(match args.fail_below {
        Some(tier) if grade.any_below(tier.into()) => Status::BelowTier,
        _ => Status::Ok,
    })
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

fn load(args: &BenchArgs) -> anyhow::Result<Load> {
    Ok(match (args.rate, args.concurrency) {
        (Some(rate), _) => Load::Open {
            rate,
            arrival: match args.arrival {
                ArrivalArg::Poisson => Arrival::Poisson,
                ArrivalArg::Constant => Arrival::Constant,
            },
        },
        (None, Some(0)) => bail!("--concurrency must be at least 1"),
        (None, Some(c)) if c > 100_000 => {
            bail!("--concurrency {c} is implausibly large (the limit is 100000)")
        }
        (None, c) => Load::Closed {
            concurrency: c.unwrap_or(1),
        },
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

fn write_summary(dir: &Path, summary: &RunSummary) -> anyhow::Result<()> {
    let path = dir.join("run.json");
    let text = serde_json::to_string_pretty(summary)?;
    std::fs::write(&path, text + "\n")
        .with_context(|| format!("could not write '{}'", path.display()))
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
fn notes(
    records: &[RequestRecord],
    summary: &RunSummary,
    args: &BenchArgs,
    lang: Lang,
) -> Vec<String> {
    let mut notes = Vec::new();
    if summary.partial {
        notes.push(
            lang.pick(
                "interrupted: these results cover the requests that finished before Ctrl-C",
                "已中断：结果只包含中断前完成的请求",
            )
            .to_string(),
        );
    }
    let ok: Vec<&RequestRecord> = records.iter().filter(|r| r.is_ok()).collect();
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
            .filter(|r| r.output_tokens.is_some_and(|t| t.count < args.max_tokens))
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
    for m in [
        Metric::TtftS,
        Metric::TtfvS,
        Metric::PrefillTokS,
        Metric::DecodeTokS,
        Metric::OutputCharsS,
        Metric::ItlS,
        Metric::E2eS,
        Metric::LongestStallS,
        Metric::Stalls,
        Metric::CharsPerToken,
        Metric::ScheduleLagS,
    ] {
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

/// A live line on stderr while requests finish (only on a terminal).
struct Progress {
    bar: ProgressBar,
    ttft: std::cell::RefCell<Vec<f64>>,
    errors: std::cell::Cell<u64>,
}

impl Progress {
    fn new(total: u64) -> Self {
        let bar = ProgressBar::with_draw_target(
            Some(total),
            if std::io::stderr().is_terminal() {
                ProgressDrawTarget::stderr()
            } else {
                ProgressDrawTarget::hidden()
            },
        );
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
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
