//! `tokenpace capacity URL`: measure levels of concurrency chosen by the
//! pure search in `tokenpace_core::capacity`, and report the largest
//! concurrency that keeps every graded metric in tier A (and in tier B),
//! each metric's curve against load, and the knee.

use crate::cli::{BenchArgs, CapacityArgs, Cli, Command, Format, TextArg};
use crate::cmd::bench::options::{apply_scenario, target};
use crate::cmd::bench::{write_json, Level, LevelResult, Setup};
use crate::table::{Align, Markdown, Table, TableFormat, Terminal};
use crate::{input, Status};
use anyhow::{bail, Context};
use clap::Parser;
use std::collections::BTreeMap;
use std::io::Write;
use std::time::{Duration, Instant};
use tokenpace_client::load::Load;
use tokenpace_core::capacity::{bracket, level_tier, meets_targets, next_level, Bracket};
use tokenpace_core::grade::Tier;
use tokenpace_core::request_metrics::MetricOptions;
use tokenpace_present::number;
use tokenpace_present::Lang;

/// One measured level of the search.
struct Measured {
    concurrency: u32,
    tier: Tier,
    result: LevelResult,
    /// Requests/s that met every tier-A target, and every tier-B target.
    goodput: (f64, f64),
}

/// Runs `tokenpace capacity`: against the URL, or without one against the
/// embedded engine on a loopback port.
pub fn run(args: CapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    match args.url.clone() {
        Some(url) => search(args, &url, lang, out),
        None => embedded(args, lang, out),
    }
}

#[cfg(feature = "engine")]
fn embedded(mut args: CapacityArgs, lang: Lang, out: &mut dyn Write) -> anyhow::Result<Status> {
    let engine = crate::cmd::engine::Embedded::start(args.model.as_deref(), &args.engine, lang)?;
    args.model = Some(engine.name.clone());
    out.write_all(engine.header(lang).as_bytes())?;
    let status = search(args, &engine.url.clone(), lang, out);
    engine.shutdown();
    status
}

#[cfg(not(feature = "engine"))]
fn embedded(_args: CapacityArgs, _lang: Lang, _out: &mut dyn Write) -> anyhow::Result<Status> {
    bail!("give the server's URL (this tokenpace was built without the embedded engine, --no-default-features; rebuild with the default features to search a model in-process)")
}

/// The search against `url`.
fn search(
    args: CapacityArgs,
    url: &str,
    lang: Lang,
    out: &mut dyn Write,
) -> anyhow::Result<Status> {
    let profile = input::profile(args.profile.file.as_deref())?;
    let mut bench = bench_args(&args, url)?;
    apply_scenario(&mut bench)?;
    let target = target(&bench)?;
    if let Some(dir) = &args.out {
        std::fs::create_dir_all(dir)
            .with_context(|| format!("could not create '{}'", dir.display()))?;
    }
    let setup = Setup::new(&bench, target, profile, args.max_concurrency as usize)?;
    probe(&setup, url)?;
    let profile = &setup.profile;
    let opts = MetricOptions {
        stall_threshold_s: profile.stall_threshold_ms / 1000.0,
        network_overhead_s: 0.0,
    };
    let started = Instant::now();
    let budget = Duration::from_secs_f64(args.time_budget);
    let (mut tested, mut measured) = (BTreeMap::new(), Vec::<Measured>::new());
    let (mut sent, mut stopped, mut warnings) = (0u64, None::<String>, Vec::new());
    // Levels where every request failed while the target still answered.
    let mut refused: BTreeMap<u32, String> = BTreeMap::new();
    while let Some(c) = next_level(&tested, args.max_concurrency) {
        let remaining = budget.saturating_sub(started.elapsed());
        if remaining < Duration::from_millis(100) {
            stopped = Some(format!("the time budget ({} s) is spent", args.time_budget));
            break;
        }
        let requests = args.requests_per_level.unwrap_or((3 * u64::from(c)).max(8));
        if sent + requests > args.max_requests {
            stopped = Some(format!(
                "--max-requests {} would be exceeded",
                args.max_requests
            ));
            break;
        }
        let level_args = BenchArgs {
            requests,
            duration: Some(remaining.as_secs_f64()),
            ..bench.clone()
        };
        let level = Level {
            load: Load::Closed { concurrency: c },
            prompt_tokens: bench.prompt_tokens[0],
        };
        let label = format!("c{c}");
        let dir = args.out.as_ref().map(|d| d.join(&label));
        let position = Some(format!("{label} (level {})", measured.len() + 1));
        let session = setup.session(&level_args);
        match session.run_level(level, label, position, dir.as_deref(), &mut warnings) {
            Ok((result, _)) => {
                let s = &result.summary;
                sent += s.counts.sent;
                let tier = level_tier(result.grade.overall, s.counts.sent, s.counts.failed);
                let per_s = |t: Tier| {
                    let n = result
                        .records
                        .iter()
                        .filter(|r| meets_targets(r, profile, &opts, t))
                        .count();
                    if s.throughput.duration_s > 0.0 {
                        n as f64 / s.throughput.duration_s
                    } else {
                        0.0
                    }
                };
                let goodput = (per_s(Tier::A), per_s(Tier::B));
                let partial = s.partial;
                tested.insert(c, tier);
                measured.push(Measured {
                    concurrency: c,
                    tier,
                    result,
                    goodput,
                });
                if partial {
                    stopped = Some("interrupted".into());
                    break;
                }
            }
            // Every request failed: a dead target ends the search with what
            // we have; a live one that refuses this load is tier C there.
            Err(e) => {
                tested.insert(c, Tier::C);
                if let Err(down) = probe(&setup, url) {
                    stopped = Some(format!("level c{c} failed entirely ({e:#}); {down:#}"));
                    break;
                }
                sent += requests;
                refused.insert(c, format!("{e:#}"));
            }
        }
    }
    for w in &warnings {
        eprintln!("warning: {w}");
    }
    if measured.is_empty() {
        let why = stopped
            .or_else(|| refused.iter().next().map(|(c, e)| format!("at c{c}: {e}")))
            .unwrap_or_else(|| "nothing to do".into());
        bail!("no level was measured: {why}");
    }
    measured.sort_by_key(|m| m.concurrency);
    let (a, b) = (bracket(&tested, Tier::A), bracket(&tested, Tier::B));
    let json = to_json(&measured, &refused, a, b, stopped.as_deref());
    if let Some(dir) = &args.out {
        write_json(&dir.join("capacity.json"), &json)?;
    }
    let text = match args.output.format {
        Format::Csv => return Err(tokenpace_present::ExportError::NoCsv.into()),
        Format::Json => serde_json::to_string_pretty(&json)? + "\n",
        Format::Table | Format::Markdown => {
            let format: &dyn TableFormat = if args.output.format == Format::Markdown {
                &Markdown
            } else {
                &Terminal
            };
            let levels = Levels {
                measured: &measured,
                refused: &refused,
            };
            render(&levels, a, b, &args, stopped.as_deref(), lang, format)
        }
    };
    out.write_all(text.as_bytes())?;
    Ok(Status::Ok)
}

/// The bench options each level runs with.
fn bench_args(a: &CapacityArgs, url: &str) -> anyhow::Result<BenchArgs> {
    let mut argv: Vec<String> = ["tokenpace", "bench", url, "--no-self-check"]
        .map(String::from)
        .to_vec();
    let mut opt = |flag: &str, v: Option<String>| {
        if let Some(v) = v {
            argv.extend([flag.to_string(), v]);
        }
    };
    opt("--scenario", a.scenario.clone());
    opt("--prompt-tokens", a.prompt_tokens.map(|v| v.to_string()));
    opt("--max-tokens", a.max_tokens.map(|v| v.to_string()));
    opt("--model", a.model.clone());
    opt("--backend", a.backend.clone());
    opt("--api-key", a.api_key.clone());
    opt("--seed", Some(a.seed.to_string()));
    opt("--timeout", Some(a.timeout.to_string()));
    let text = match a.text {
        TextArg::Zh => "zh",
        TextArg::En => "en",
        TextArg::Mixed => "mixed",
    };
    opt("--text", Some(text.into()));
    match Cli::try_parse_from(&argv)?.command {
        Command::Bench(b) => Ok(b),
        _ => unreachable!("the argv names bench"),
    }
}

/// Fails before any load when nothing answers at the target.
fn probe(setup: &Setup, url: &str) -> anyhow::Result<()> {
    let request = setup.client().get(setup.base_url());
    let reach = setup
        .runtime
        .block_on(async move { request.timeout(Duration::from_secs(10)).send().await });
    match reach {
        Ok(_) => Ok(()),
        Err(e) => bail!("cannot reach {url} ({e}): is the server running? nothing was sent"),
    }
}

fn to_json(
    m: &[Measured],
    refused: &BTreeMap<u32, String>,
    a: Bracket,
    b: Bracket,
    stopped: Option<&str>,
) -> serde_json::Value {
    let levels: Vec<_> = m
        .iter()
        .map(|l| {
            serde_json::json!({
                "concurrency": l.concurrency,
                "tier": l.tier,
                "goodput_a_per_s": l.goodput.0,
                "goodput_b_per_s": l.goodput.1,
                "summary": l.result.summary,
                "grade": l.result.grade,
            })
        })
        .collect();
    serde_json::json!({
        "tier_a_max_concurrency": a.last_holding,
        "tier_a_first_failing": a.first_failing,
        "tier_b_max_concurrency": b.last_holding,
        "tier_b_first_failing": b.first_failing,
        "stopped": stopped,
        "levels": levels,
        "failed_levels": refused,
    })
}

/// The measured levels, and those where every request failed.
struct Levels<'a> {
    measured: &'a [Measured],
    refused: &'a BTreeMap<u32, String>,
}

fn render(
    levels: &Levels<'_>,
    a: Bracket,
    b: Bracket,
    args: &CapacityArgs,
    stopped: Option<&str>,
    lang: Lang,
    format: &dyn TableFormat,
) -> String {
    let m = levels.measured;
    let first = &m[0].result;
    let graded: Vec<_> = first.grade.metrics.iter().map(|g| g.metric).collect();
    let mut header: Vec<(String, Align)> = vec![
        (lang.pick("level", "负载").into(), Align::Left),
        ("ok".into(), Align::Right),
    ];
    for g in &first.grade.metrics {
        let st = g.statistic.map_or(String::new(), |s| format!(" {s}"));
        let label = format!("{}{st}", g.metric.id());
        header.push((label, Align::Right));
    }
    header.push(("req/s".into(), Align::Right));
    if args.goodput {
        header.push((lang.pick("goodput A", "达标吞吐 A").into(), Align::Right));
        header.push((lang.pick("goodput B", "达标吞吐 B").into(), Align::Right));
    }
    header.push((lang.pick("tier", "等级").into(), Align::Left));
    header.push((String::new(), Align::Left));
    let cols: Vec<(&str, Align)> = header.iter().map(|(h, al)| (h.as_str(), *al)).collect();
    let mut t = Table::new(&cols);
    for l in m {
        let s = &l.result.summary;
        let mut row = vec![
            format!("c{}", l.concurrency),
            format!("{}/{}", s.counts.ok, s.counts.sent),
        ];
        for metric in &graded {
            let v = l.result.grade.metrics.iter().find(|g| g.metric == *metric);
            row.push(v.map_or("-".into(), |g| number::value(*metric, g.value)));
        }
        row.push(format!("{:.2}", s.throughput.requests_per_s));
        if args.goodput {
            row.push(format!("{:.2}", l.goodput.0));
            row.push(format!("{:.2}", l.goodput.1));
        }
        row.push(l.tier.to_string());
        let mut mark = Vec::new();
        if a.last_holding == l.concurrency && a.first_failing.is_some() {
            mark.push(lang.pick("← knee: last A", "← 拐点：最后一个 A"));
        }
        if b.last_holding == l.concurrency && b.first_failing.is_some() {
            mark.push(lang.pick("← last B", "← 最后一个 B"));
        }
        row.push(mark.join(" "));
        t.row(row);
    }
    let mut out = format!(
        "{} · {}\n\n",
        first.summary.settings.target.as_deref().unwrap_or("-"),
        first.summary.settings.model.as_deref().unwrap_or("-")
    );
    out.push_str(&format.render(&t));
    out.push('\n');
    for (c, why) in levels.refused {
        out.push_str(&format!(
            "c{c}: {} ({why})\n",
            lang.pick(
                "every request failed; counted as tier C",
                "所有请求失败，按 C 级计"
            )
        ));
    }
    for (tier, br) in [(Tier::A, a), (Tier::B, b)] {
        out.push_str(&boundary_line(tier, br, m, args.max_concurrency, lang));
    }
    if let Some(why) = stopped {
        out.push_str(&format!(
            "{}: {why}\n",
            lang.pick("search ended early", "搜索提前结束")
        ));
    }
    out
}

/// "tier A holds up to concurrency 9; at 10: decode 28.8 tok/s (B)".
fn boundary_line(tier: Tier, br: Bracket, m: &[Measured], max: u32, lang: Lang) -> String {
    let held = if br.last_holding == 0 {
        format!(
            "{} {tier} {}",
            lang.pick("tier", "等级"),
            lang.pick(
                "is not reached even at concurrency 1",
                "在并发 1 时也达不到"
            )
        )
    } else {
        format!(
            "{} {tier} {} {}",
            lang.pick("tier", "等级"),
            lang.pick("holds up to concurrency", "最高可承受并发"),
            br.last_holding
        )
    };
    let why = match br.first_failing {
        Some(c) => {
            let fail = m.iter().find(|l| l.concurrency == c);
            let reasons: Vec<String> = fail
                .map(|l| {
                    let s = &l.result.summary.counts;
                    let mut r: Vec<String> = l
                        .result
                        .grade
                        .metrics
                        .iter()
                        .filter(|g| g.tier > tier)
                        .map(|g| {
                            format!(
                                "{} {} ({})",
                                lang.metric(g.metric),
                                number::with_unit(g.metric, g.value),
                                g.tier
                            )
                        })
                        .collect();
                    if s.failed > 0 {
                        r.push(format!("{} of {} requests failed", s.failed, s.sent));
                    }
                    r
                })
                .unwrap_or_default();
            format!("; {} {c}: {}", lang.pick("at", "并发"), reasons.join(", "))
        }
        None if br.last_holding >= max => {
            format!(
                "; {} (--max-concurrency)",
                lang.pick("the most tried", "已达上限")
            )
        }
        None => String::new(),
    };
    format!("{held}{why}\n")
}
