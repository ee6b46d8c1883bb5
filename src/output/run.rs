//! `tokenpace bench URL`'s result: one level (a plain run) or a sweep of
//! levels, and the sections other commands reuse (a run's metric table for
//! `merge`, the sweep table for the default mix, the server-metrics split).

use crate::output::grade::{grade_section, profile_title};
use crate::output::{conversation, repeats, steady_state};
use serde::Serialize;
use std::collections::BTreeMap;
use tokenpace_core::grade::{Grade, MetricGrade};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::regression::{FitError, PrefillFit};
use tokenpace_core::repeats::TierSpan;
use tokenpace_core::server_metrics::Decomposition;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::{Counts, RunSummary};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};
use tokenpace_runner::self_check::TimingError;

/// One measured load level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct LevelOutput {
    /// The level's name (`c8`, `r2.5`, `p512`), also its sub-directory.
    pub label: String,
    /// What was measured.
    pub summary: RunSummary,
    /// The grade on the profile.
    pub grade: Grade,
    /// The server's histograms against the client's TTFT
    /// (`--server-metrics`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub server_metrics: Option<Decomposition>,
    /// With `--repeat`: the tiers each graded metric's 95 % interval spans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier_spans: Vec<TierSpan>,
}

/// The prefill line of a prompt-length sweep, or why there is none.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum FitOutput {
    /// TTFT against prompt tokens.
    Fit(PrefillFit),
    /// Why no line could be fitted.
    Error {
        /// The reason, in words.
        error: String,
    },
}

impl From<&Result<PrefillFit, FitError>> for FitOutput {
    fn from(r: &Result<PrefillFit, FitError>) -> FitOutput {
        match r {
            Ok(f) => FitOutput::Fit(*f),
            Err(e) => FitOutput::Error {
                error: e.to_string(),
            },
        }
    }
}

/// `tokenpace bench URL`: one level, or a sweep.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum BenchOutput {
    /// A single load level.
    Run(Box<RunOutput>),
    /// Several levels.
    Sweep(SweepOutput),
}

/// A run of one level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct RunOutput {
    /// What was measured.
    pub summary: RunSummary,
    /// The grade on the profile.
    pub grade: Grade,
    /// The client's own timing error on this machine (`--self-check`).
    pub self_check: Option<TimingError>,
    /// The server's histograms against the client's TTFT.
    pub server_metrics: Option<Decomposition>,
    /// With `--repeat`: the tiers each graded metric's 95 % interval spans.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tier_spans: Vec<TierSpan>,
    /// What a reader must know to trust the numbers.
    pub notes: Vec<String>,
    /// The profile graded against.
    #[serde(skip)]
    pub profile: Profile,
}

/// A sweep: one row per level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct SweepOutput {
    /// The levels, in the order they ran.
    pub levels: Vec<LevelOutput>,
    /// The prefill line, when prompt lengths were swept.
    pub prefill_fit: Option<FitOutput>,
    /// The client's own timing error on this machine (`--self-check`).
    pub self_check: Option<TimingError>,
    /// What a reader must know to trust the numbers.
    pub notes: Vec<String>,
}

impl Output for BenchOutput {
    fn document(&self, lang: Lang) -> Document {
        match self {
            BenchOutput::Run(r) => {
                let mut d = run_section(&r.summary, &r.grade, &r.profile, &r.notes, lang);
                d.append(repeats::section(&r.summary, &r.tier_spans, None, lang));
                d.append(steady_state::section(&r.summary, None, lang));
                if let Some(s) = &r.server_metrics {
                    d.append(server_metrics_section(s, None, lang));
                }
                d
            }
            BenchOutput::Sweep(s) => {
                let mut d = sweep_section(&s.levels, s.prefill_fit.as_ref(), &s.notes, lang);
                for l in &s.levels {
                    d.append(conversation::section(&l.summary, Some(&l.label), lang));
                }
                for l in &s.levels {
                    let label = Some(l.label.as_str());
                    d.append(repeats::section(&l.summary, &l.tier_spans, label, lang));
                    d.append(steady_state::section(&l.summary, label, lang));
                }
                for l in &s.levels {
                    if let Some(m) = &l.server_metrics {
                        d.append(server_metrics_section(m, Some(&l.label), lang));
                    }
                }
                d
            }
        }
    }

    fn csv(&self) -> Option<Table> {
        Some(match self {
            BenchOutput::Run(r) => csv_table(&[(level_label(&r.summary), &r.summary, &r.grade)]),
            BenchOutput::Sweep(s) => csv_table(
                &s.levels
                    .iter()
                    .map(|l| (l.label.clone(), &l.summary, &l.grade))
                    .collect::<Vec<_>>(),
            ),
        })
    }
}

/// A single level's name from its settings, as a sweep names its levels:
/// `c8` (concurrency), `r2.5` (rate), else `p512` (prompt length).
fn level_label(summary: &RunSummary) -> String {
    let s = &summary.settings;
    if let Some(t) = &s.trace {
        return format!("t{}", t.speed);
    }
    match (s.concurrency, s.rate, s.prompt_tokens) {
        (Some(c), _, _) => format!("c{c}"),
        (_, Some(r), _) => format!("r{r}"),
        (_, _, Some(p)) => format!("p{p}"),
        _ => String::new(),
    }
}

/// "target · model": what a sweep or a search measured.
pub fn target_and_model(summary: &RunSummary) -> String {
    let s = &summary.settings;
    format!(
        "{} · {}",
        s.target.as_deref().unwrap_or("-"),
        s.model.as_deref().unwrap_or("-")
    )
}

/// "target · model · concurrency 4 · 15.4 s".
fn run_title(summary: &RunSummary, lang: Lang) -> String {
    let s = &summary.settings;
    let load = match (s.concurrency, s.rate, &s.sessions) {
        // With sessions the streams are users, and each has its pauses.
        (Some(c), _, Some(sessions)) => {
            let unit = match (sessions.agent_steps, &sessions.conversations) {
                (Some(k), _) => format!(
                    "{} {k}",
                    lang.pick("agent tasks of steps ≤", "智能体任务，步数 ≤")
                ),
                (None, Some(file)) => {
                    format!("{} {file}", lang.pick("conversations from", "会话来自"))
                }
                (None, None) => format!(
                    "{} {}",
                    lang.pick("sessions of turns", "会话，轮数"),
                    sessions.turns
                ),
            };
            format!(" · {c} {} · {unit}", lang.pick("users", "用户"))
        }
        (Some(c), _, None) => format!(" · {} {c}", lang.pick("concurrency", "并发")),
        (_, Some(r), _) => format!(" · {} {r}/s", lang.pick("rate", "速率")),
        _ => match &s.trace {
            Some(t) => format!(" · {} {} ×{}", lang.pick("trace", "轨迹"), t.file, t.speed),
            None => String::new(),
        },
    };
    format!(
        "{} · {}{load}{} · {:.1} s",
        s.target.as_deref().unwrap_or("-"),
        s.model.as_deref().unwrap_or("-"),
        prompts(summary, lang),
        summary.throughput.duration_s
    )
}

/// " · prompts 256 tok (zh)": the mean prompt length the server counted
/// (the workload's own count where it reported none), and the language.
fn prompts(summary: &RunSummary, lang: Lang) -> String {
    let Some(n) = summary.get(Metric::PromptTokens, Statistic::Mean) else {
        return String::new();
    };
    let text = summary
        .settings
        .text
        .as_deref()
        .map_or(String::new(), |t| format!(" ({t})"));
    format!(" · {} {n:.0} tok{text}", lang.pick("prompts", "提示"))
}

/// One level: every per-request metric (mean, p50, p90, p99, tier), the
/// request counts and errors, the notes, then the grade.
pub fn run_section(
    summary: &RunSummary,
    grade: &Grade,
    profile: &Profile,
    notes: &[String],
    lang: Lang,
) -> Document {
    let mut d = Document::new();
    d.title(run_title(summary, lang)).blank();
    let mut t = Table::new(&[
        (lang.pick("metric", "指标"), Align::Left),
        ("mean", Align::Right),
        ("p50", Align::Right),
        ("p90", Align::Right),
        ("p99", Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let graded: BTreeMap<Metric, &MetricGrade> =
        grade.metrics.iter().map(|g| (g.metric, g)).collect();
    // Every per-request metric but the token counts, which are settings.
    let shown = Metric::ALL
        .into_iter()
        .filter(|m| !matches!(m, Metric::PromptTokens | Metric::OutputTokens));
    for m in shown {
        let Some(st) = summary.metrics.get(&m) else {
            continue;
        };
        let tier = graded.get(&m).map_or(String::new(), |g| tier_word(g, lang));
        t.row(vec![
            labels::metric_with_unit(lang, m),
            number::value(m, st.mean),
            number::value(m, st.p50),
            number::value(m, st.p90),
            number::value(m, st.p99),
            tier,
        ]);
    }
    d.table(t).blank();
    let c = &summary.counts;
    d.line(format!(
        "{}: {} {}, {} ok, {} {}; {:.2} req/s, {:.1} {}",
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
        d.blank().table(e);
    }
    if c.left > 0 {
        d.line(match lang {
            Lang::En => format!(
                "{} of the {} answered users left by design (--cancel-after): their streams were closed early, so they count as answered and their end-to-end latency is left out",
                c.left, c.ok
            ),
            Lang::Zh => format!(
                "{} 个得到回答的用户中有 {} 个按设定中途离开（--cancel-after）：连接被提前关闭，计为已回答，不计入端到端延迟",
                c.ok, c.left
            ),
        });
    }
    d.append(conversation::section(summary, None, lang));
    for n in notes {
        d.note(n.clone());
    }
    d.blank().title(profile_title(profile, lang)).blank();
    d.append(grade_section(grade, &[], lang));
    if let Some(line) = no_answer(&summary.counts, lang) {
        d.line(line);
    }
    d
}

/// "34 of 100 requests got no answer (34.0 %)", when any failed: the users
/// the speed figures do not speak for.
pub fn no_answer(c: &Counts, lang: Lang) -> Option<String> {
    if c.failed == 0 || c.sent == 0 {
        return None;
    }
    let share = number::share(c.failed as f64 / c.sent as f64);
    Some(match lang {
        Lang::En => format!(
            "{} of {} requests got no answer ({share})",
            c.failed, c.sent
        ),
        Lang::Zh => format!(
            "{} 个请求中有 {} 个没有得到回答（{share}）",
            c.sent, c.failed
        ),
    })
}

/// A metric's tier as a table cell: A/B/C, or pass/fail.
pub fn tier_word(g: &MetricGrade, lang: Lang) -> String {
    match g.pass {
        Some(true) => lang.pick("pass", "达标").to_string(),
        Some(false) => lang.pick("fail", "未达标").to_string(),
        None => g.tier.to_string(),
    }
}

/// One row per level, then the prefill line when prompt lengths were swept.
pub fn sweep_section(
    levels: &[LevelOutput],
    fit: Option<&FitOutput>,
    notes: &[String],
    lang: Lang,
) -> Document {
    let mut d = Document::new();
    if let Some(first) = levels.first() {
        d.title(target_and_model(&first.summary)).blank();
    }
    // The graded metrics are all columns, so the tier column never names a
    // cause the reader cannot see.
    let columns: [(Metric, Statistic); 6] = [
        (Metric::TtftS, Statistic::Mean),
        (Metric::TtftS, Statistic::P99),
        (Metric::PrefillTokS, Statistic::Mean),
        (Metric::DecodeTokS, Statistic::Mean),
        (Metric::OutputCharsS, Statistic::Mean),
        (Metric::ItlS, Statistic::P99),
    ];
    let headers: Vec<String> = columns
        .iter()
        .map(|(m, st)| format!("{} {st}", labels::short(lang, *m)))
        .collect();
    let mut cols: Vec<(&str, Align)> = vec![
        (lang.pick("level", "档位"), Align::Left),
        ("ok", Align::Right),
        (lang.pick("prompt tok", "提示 tok"), Align::Right),
    ];
    cols.extend(headers.iter().map(|h| (h.as_str(), Align::Right)));
    cols.extend([
        ("req/s", Align::Right),
        (lang.pick("out tok/s", "输出 tok/s"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let mut t = Table::new(&cols);
    for l in levels {
        let s = &l.summary;
        // The prompt tokens the server counted, not the length asked for.
        let prompt = s
            .get(Metric::PromptTokens, Statistic::Mean)
            .map_or("-".to_string(), |n| format!("{n:.0}"));
        let mut row = vec![
            l.label.clone(),
            format!("{}/{}", s.counts.ok, s.counts.sent),
            prompt,
        ];
        row.extend(columns.iter().map(|(m, st)| {
            s.get(*m, *st)
                .map_or("-".to_string(), |v| number::value(*m, v))
        }));
        row.extend([
            format!("{:.2}", s.throughput.requests_per_s),
            format!("{:.0}", s.throughput.output_tok_s),
            l.grade.overall.map_or("-".into(), |t| t.to_string()),
        ]);
        t.row(row);
    }
    d.table(t);
    for l in levels {
        if let Some(line) = no_answer(&l.summary.counts, lang) {
            d.line(format!("{}: {line}", l.label));
        }
    }
    let label = lang.pick("prefill line", "prefill 拟合");
    match fit {
        Some(FitOutput::Fit(f)) => {
            d.blank().line(format!(
                "{label}: TTFT ≈ {:.3} s + n / {:.0} tok/s (R² {:.3}, {} {})",
                f.overhead_s,
                f.prefill_tok_s,
                f.r2,
                f.n,
                lang.pick("requests", "个请求"),
            ));
            if f.through_origin {
                d.line(lang.pick(
                    "note: TTFT grew faster than linearly with the prompt (attention's cost per token rises with the context): a free line would put the fixed part below zero, so the line goes through the origin; the fixed part is below what this sweep resolves, and the rate is the sweep's average",
                    "注意：首字延迟随提示长度增长快于线性（注意力的每 token 开销随上下文增加）：自由拟合会得到负的固定部分，因此直线过原点；固定部分低于本次扫描的分辨率，速度为扫描的平均值",
                ));
            }
        }
        Some(FitOutput::Error { error }) => {
            d.blank().line(format!("{label}: {error}"));
        }
        None => {}
    }
    for n in notes {
        d.note(n.clone());
    }
    d
}

/// The client's TTFT split by the server's own histograms.
pub fn server_metrics_section(d: &Decomposition, level: Option<&str>, lang: Lang) -> Document {
    let mut doc = Document::new();
    doc.blank().heading(format!(
        "{}{}",
        lang.pick(
            "TTFT, client against server metrics",
            "首字延迟：客户端与服务器指标对照"
        ),
        level.map_or(String::new(), |l| format!(" ({l})"))
    ));
    let ms = |s: f64| number::milliseconds(s);
    let mut t = Table::new(&[
        (lang.pick("part", "组成"), Align::Left),
        (lang.pick("mean", "均值"), Align::Right),
        (lang.pick("source", "来源"), Align::Left),
    ]);
    t.row(vec![
        lang.pick("client TTFT", "客户端首字延迟").into(),
        ms(d.client_ttft_s),
        format!("{} {}", d.client_requests, lang.pick("requests", "个请求")),
    ]);
    if let Some(n) = d.network_s {
        t.row(vec![
            lang.pick("  network and front end", "  网络与前端").into(),
            ms(n),
            lang.pick("client − server TTFT", "客户端 − 服务器首字延迟")
                .into(),
        ]);
    }
    for (label, m) in [
        (
            lang.pick("  server TTFT", "  服务器首字延迟"),
            &d.server_ttft,
        ),
        (lang.pick("    queue", "    排队"), &d.queue),
        (lang.pick("    prefill", "    预填充"), &d.prefill),
    ] {
        if let Some(m) = m {
            t.row(vec![
                label.into(),
                ms(m.mean_s),
                format!("{} ({})", m.name, m.count),
            ]);
        }
    }
    if let Some(o) = d.other_s {
        t.row(vec![
            lang.pick(
                "    before the queue (waiting for the running step), scheduling, first decode step",
                "    入队前（等待正在运行的引擎步）、调度、首个解码步",
            )
            .into(),
            ms(o),
            lang.pick(
                "server TTFT − queue − prefill",
                "服务器首字延迟 − 排队 − 预填充",
            )
            .into(),
        ]);
    }
    doc.table(t);
    for n in &d.notes {
        doc.note(n.clone());
    }
    doc
}

/// One row per level: settings, counts, throughput, then mean, p50, p90 and
/// p99 of every metric (empty where not measured), at full precision.
pub fn csv_table(levels: &[(String, &RunSummary, &Grade)]) -> Table {
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
    for (label, s, grade) in levels {
        let mut row = vec![
            label.clone(),
            opt(s.settings.concurrency.map(|c| c.to_string())),
            opt(s.settings.rate.map(|c| c.to_string())),
            opt(s.settings.prompt_tokens.map(|c| c.to_string())),
            s.counts.sent.to_string(),
            s.counts.ok.to_string(),
            s.counts.failed.to_string(),
            s.throughput.duration_s.to_string(),
            s.throughput.requests_per_s.to_string(),
            s.throughput.output_tok_s.to_string(),
            opt(grade.overall.map(|t| t.to_string())),
        ];
        for m in Metric::ALL {
            row.extend(STATS.map(|st| opt(s.get(m, st).map(|v| v.to_string()))));
        }
        t.row(row);
    }
    let summaries: Vec<&RunSummary> = levels.iter().map(|l| l.1).collect();
    conversation::extend_csv(&mut t, &summaries);
    t
}
