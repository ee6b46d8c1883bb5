//! `tokenpace bench URL`'s result: one level (a plain run) or a sweep of
//! levels, and the sections other commands reuse (a run's metric table for
//! `merge`, the sweep table for the default mix, the server-metrics split).

mod csv;
mod server_metrics;
mod sweep;

use crate::output::grade::{grade_section, profile_title};
use crate::output::{conversation, model_mix, repeats, steady_state, throttling};
use serde::Serialize;
use std::collections::BTreeMap;
use tokenpace_core::grade::{Grade, MetricGrade};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::repeats::TierSpan;
use tokenpace_core::self_check::TimingError;
use tokenpace_core::server_metrics::Decomposition;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::{Counts, RunSummary};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{labels, number, Document, Lang, Output};

pub use csv::csv_table;
pub use server_metrics::server_metrics_section;
pub use sweep::{sweep_section, target_and_model};

/// A sweep prints as `sweep.json` stores it (with its notes and
/// self-check): one type, [`tokenpace_rundir::Sweep`], for both.
pub use tokenpace_rundir::{Fit as FitOutput, Sweep as SweepOutput, SweepLevel as LevelOutput};

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
    /// Each model graded apart, when the run mixed models
    /// (`--model-mix`).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub model_grades: Vec<model_mix::ModelGrade>,
    /// The profile graded against.
    #[serde(skip)]
    pub profile: Profile,
}

impl Output for BenchOutput {
    fn document(&self, lang: Lang) -> Document {
        match self {
            BenchOutput::Run(r) => {
                let mut d = run_section(&r.summary, &r.grade, &r.profile, &r.notes, lang);
                if let Some(a) = &r.summary.goodput {
                    d.line(crate::output::goodput::line(a, lang)).blank();
                }
                d.append(model_mix::section(&r.summary, Some(&r.profile), None, lang));
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
                    d.append(model_mix::section(&l.summary, None, label, lang));
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
    // A mix names its models with their weights: "a=3 b=1".
    let model = match &s.model_mix {
        Some(mix) => mix
            .iter()
            .map(|e| format!("{}={}", e.model, e.weight))
            .collect::<Vec<_>>()
            .join(" "),
        None => s.model.as_deref().unwrap_or("-").to_string(),
    };
    format!(
        "{} · {model}{load}{} · {:.1} s",
        s.target.as_deref().unwrap_or("-"),
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
    d.table(metrics_table(summary, grade, lang));
    d.line(interval_note(lang)).blank();
    let c = &summary.counts;
    d.line(requests_line(summary, lang));
    if let Some(line) = precision_line(summary, lang) {
        d.line(line);
    }
    if let Some(e) = errors_table(c, lang) {
        d.blank().table(e);
    }
    d.append(throttling::section(summary, None, lang));
    if let Some(line) = left_by_design(c, lang) {
        d.line(line);
    }
    d.append(conversation::section(summary, None, lang));
    for n in notes {
        d.note(n.clone());
    }
    d.blank().title(profile_title(profile, lang)).blank();
    d.append(grade_section(grade, &[], lang));
    let spans = tokenpace_core::repeats::percentile_spans(profile, &summary.metrics);
    for s in spans.iter().filter(|s| !s.separable()) {
        d.line(repeats::percentile_span_line(s, lang));
    }
    if let Some(line) = no_answer(&summary.counts, lang) {
        d.line(line);
    }
    d
}

/// Every per-request metric but the token counts (which are settings):
/// mean, p50, p90, p99 and its tier.
fn metrics_table(summary: &RunSummary, grade: &Grade, lang: Lang) -> Table {
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
            number::percentile(m, st, Statistic::P50, lang),
            number::percentile(m, st, Statistic::P90, lang),
            number::percentile(m, st, Statistic::P99, lang),
            tier,
        ]);
    }
    t
}

/// What the brackets after a percentile are.
pub fn interval_note(lang: Lang) -> String {
    lang.pick(
        "(a–b): the percentile's 95 % interval from this run's requests (order statistics, distribution-free); ≥ a: too few requests to bound it above",
        "(a–b)：本次请求得到的该分位数 95 % 置信区间（次序统计量，不依赖分布）；≥ a：请求太少，无法给出上界",
    )
    .to_string()
}

/// "requests: 28 sent, 28 ok, 0 failed; 8.29 req/s, 99.5 output tok/s
/// over all streams".
fn requests_line(summary: &RunSummary, lang: Lang) -> String {
    let c = &summary.counts;
    format!(
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
    )
}

/// With `--until-precise`: how many requests the p99 TTFT's interval took
/// to narrow, or that a cap came first.
pub fn precision_line(summary: &RunSummary, lang: Lang) -> Option<String> {
    let p = summary.precision?;
    let width = p.half_width_pct.map_or(
        lang.pick("p99 TTFT not yet bounded", "p99 首字延迟尚无上界")
            .to_string(),
        |h| format!("{} ± {h:.1} %", lang.pick("p99 TTFT", "p99 首字延迟")),
    );
    Some(match (lang, p.converged) {
        (Lang::En, true) => format!(
            "--until-precise {} %: reached: {width} over the first {} finished requests (those then in flight finished too)",
            p.target_pct, p.requests
        ),
        (Lang::En, false) => format!(
            "--until-precise {} %: not reached: {width} over {} finished requests, when a cap (--max-requests, --duration) ended the run",
            p.target_pct, p.requests
        ),
        (Lang::Zh, true) => format!(
            "--until-precise {} %：已达到：前 {} 个完成的请求上 {width}（当时在途的请求也已完成）",
            p.target_pct, p.requests
        ),
        (Lang::Zh, false) => format!(
            "--until-precise {} %：未达到：{} 个完成的请求上 {width}，上限（--max-requests、--duration）先结束了运行",
            p.target_pct, p.requests
        ),
    })
}

/// The failed requests by kind of error, when any failed.
fn errors_table(c: &Counts, lang: Lang) -> Option<Table> {
    if c.by_kind.is_empty() {
        return None;
    }
    let mut e = Table::new(&[
        (lang.pick("error", "错误"), Align::Left),
        (lang.pick("count", "次数"), Align::Right),
    ]);
    for (kind, n) in &c.by_kind {
        e.row(vec![kind.id().to_string(), n.to_string()]);
    }
    Some(e)
}

/// How many answered users left by design (`--cancel-after`), when any did.
fn left_by_design(c: &Counts, lang: Lang) -> Option<String> {
    if c.left == 0 {
        return None;
    }
    Some(match lang {
        Lang::En => format!(
            "{} of the {} answered users left by design (--cancel-after): their streams were closed early, so they count as answered and their end-to-end latency is left out",
            c.left, c.ok
        ),
        Lang::Zh => format!(
            "{} 个得到回答的用户中有 {} 个按设定中途离开（--cancel-after）：连接被提前关闭，计为已回答，不计入端到端延迟",
            c.ok, c.left
        ),
    })
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
