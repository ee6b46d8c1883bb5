//! The per-turn, per-step, task and prefix-cache views of a run, for
//! people: a table per turn (or step), a session (or task) line and a
//! prefix-cache line, appended to a run's section when its summary has them
//! (`RunSummary::conversation`, `RunSummary::prefix_cache`); a run of
//! independent requests gets nothing, so it prints as before.

use tokenpace_core::conversation::{Conversation, ConversationKind, TurnStats};
use tokenpace_core::metric::Metric;
use tokenpace_core::prefix_cache::PrefixCache;
use tokenpace_core::stats::{Statistic, Stats};
use tokenpace_core::summary::RunSummary;
use tokenpace_present::labels::{self, Figure};
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{number, Document, Lang};

/// The views of one level; `level` names it in a sweep. Empty for a run
/// without turns or cache reports.
pub fn section(summary: &RunSummary, level: Option<&str>, lang: Lang) -> Document {
    let mut d = Document::new();
    let suffix = level.map_or(String::new(), |l| format!(" ({l})"));
    if let Some(c) = &summary.conversation {
        let heading = match c.kind {
            ConversationKind::Chat => lang.pick("Per turn", "按轮次"),
            ConversationKind::Agent => lang.pick("Per step", "按步骤"),
        };
        d.blank().heading(format!("{heading}{suffix}"));
        d.table(turn_table(c, lang)).blank();
        d.line(tokenpace_present::conversation::session_line(
            c.kind,
            &c.sessions,
            lang,
        ));
    }
    match (&summary.prefix_cache, &summary.conversation) {
        // Unique prompts that all missed a reporting cache are the expected
        // cold state: the JSON keeps the figures, the terminal stays quiet
        // (a surprising hit rate gets its own caveat).
        (Some(p), None) if p.hit_share == 0.0 => {}
        (Some(p), _) => {
            if summary.conversation.is_none() {
                d.blank();
            }
            d.line(format!("{}{suffix}", cache_line(p, lang)));
        }
        // Only a conversation makes the cache worth a line when it is silent.
        (None, Some(_)) => {
            d.line(format!(
                "{}: {}",
                labels::figure(lang, Figure::CacheHitRate),
                lang.pick("not reported by the server", "服务器未报告")
            ));
        }
        (None, None) => {}
    }
    d
}

/// A percentile of seconds with this turn's own 95 % interval.
fn stat(s: &Option<Stats>, statistic: Statistic, lang: Lang) -> String {
    s.as_ref().map_or("-".into(), |s| {
        number::percentile(Metric::TtftS, s, statistic, lang)
    })
}

/// One row per turn (step): requests, TTFT p50/p90, prefill of the
/// uncached prompt, prompt tokens, cached share; agent steps add the first
/// tool-call token, its characters and the share of steps that called one.
/// A column nothing reported (the cache, for most servers) is left out.
fn turn_table(c: &Conversation, lang: Lang) -> Table {
    let agent = c.kind == ConversationKind::Agent;
    let cached = c.turns.iter().any(|t| t.cached_share.is_some());
    let index = if agent { Figure::Step } else { Figure::Turn };
    let ttft = labels::short(lang, Metric::TtftS);
    let (ttft50, ttft90) = (format!("{ttft} p50 (s)"), format!("{ttft} p90 (s)"));
    let first_tool = format!("{} p50 (s)", labels::figure(lang, Figure::FirstTool));
    let mut cols: Vec<(&str, Align)> = vec![
        (labels::figure(lang, index), Align::Right),
        (lang.pick("requests", "请求"), Align::Right),
        ("ok", Align::Right),
        (&ttft50, Align::Right),
        (&ttft90, Align::Right),
        (labels::figure(lang, Figure::UncachedPrefill), Align::Right),
        (labels::metric(lang, Metric::PromptTokens), Align::Right),
    ];
    if cached {
        cols.push((labels::figure(lang, Figure::CachedShare), Align::Right));
    }
    if agent {
        cols.extend([
            (first_tool.as_str(), Align::Right),
            (labels::figure(lang, Figure::ToolChars), Align::Right),
            (labels::figure(lang, Figure::ToolCallShare), Align::Right),
        ]);
    }
    let mut t = Table::new(&cols);
    for turn in &c.turns {
        t.row(turn_row(turn, cached, agent, lang));
    }
    t
}

fn turn_row(turn: &TurnStats, cached: bool, agent: bool, lang: Lang) -> Vec<String> {
    let rate = |v: Option<f64>, m: Metric| v.map_or("-".into(), |v| number::value(m, v));
    let share = |v: Option<f64>| v.map_or("-".into(), number::share);
    let mut row = vec![
        turn.turn.to_string(),
        turn.requests.to_string(),
        turn.ok.to_string(),
        stat(&turn.ttft_s, Statistic::P50, lang),
        stat(&turn.ttft_s, Statistic::P90, lang),
        rate(turn.prefill_tok_s, Metric::PrefillTokS),
        rate(turn.prompt_tokens, Metric::PromptTokens),
    ];
    if cached {
        row.push(share(turn.cached_share));
    }
    if agent {
        row.extend([
            stat(&turn.first_tool_s, Statistic::P50, lang),
            turn.tool_chars.map_or("-".into(), |v| format!("{v:.0}")),
            share(turn.tool_call_share),
        ]);
    }
    row
}

/// "prefix-cache hit rate: 45.0 % of prompt tokens over 4 requests, 50.0 %
/// of requests with a hit; TTFT with a hit p50 0.050 s, p90 0.060 s; TTFT
/// without p50 0.200 s, p90 0.280 s".
fn cache_line(p: &PrefixCache, lang: Lang) -> String {
    let mut line = format!(
        "{}: {} {} {} {}, {} {}{}",
        labels::figure(lang, Figure::CacheHitRate),
        number::share(p.hit_rate),
        lang.pick("of prompt tokens over", "的提示 token，统计"),
        p.requests,
        lang.pick("requests", "个请求"),
        number::share(p.hit_share),
        lang.pick("of ", ""),
        labels::figure(lang, Figure::CacheHitShare),
    );
    let pair = |s: &Stats| {
        format!(
            "p50 {} s, p90 {} s",
            number::value(Metric::TtftS, s.p50),
            number::value(Metric::TtftS, s.p90)
        )
    };
    let parts: Vec<String> = [
        (Figure::TtftHit, &p.ttft_hit_s),
        (Figure::TtftMiss, &p.ttft_miss_s),
    ]
    .into_iter()
    .filter_map(|(f, s)| Some(format!("{} {}", labels::figure(lang, f), pair(s.as_ref()?))))
    .collect();
    if !parts.is_empty() {
        line.push_str(&format!("; {}", parts.join("; ")));
    }
    line
}

/// Appends the per-session and prefix-cache figures to a CSV of one row per
/// level (rows in the order of `summaries`): only when some level has them,
/// so other runs keep their columns. Per-turn rows do not fit one row per
/// level; they are in the JSON.
pub fn extend_csv(t: &mut Table, summaries: &[&RunSummary]) {
    let opt = |v: Option<f64>| v.map_or(String::new(), |v| v.to_string());
    if summaries.iter().any(|s| s.conversation.is_some()) {
        t.header.extend(
            [
                "sessions",
                "sessions_complete",
                "sessions_failed",
                "task_time_s_p50",
                "task_time_s_p90",
            ]
            .map(String::from),
        );
        for (row, s) in t.rows.iter_mut().zip(summaries) {
            let c = s.conversation.as_ref().map(|c| &c.sessions);
            let time = c.and_then(|c| c.time_s.as_ref());
            row.extend([
                opt(c.map(|c| c.sessions as f64)),
                opt(c.map(|c| c.complete as f64)),
                opt(c.map(|c| c.failed as f64)),
                opt(time.map(|t| t.p50)),
                opt(time.map(|t| t.p90)),
            ]);
        }
    }
    if summaries.iter().any(|s| s.prefix_cache.is_some()) {
        t.header.extend(
            [
                "prefix_cache_hit_rate",
                "prefix_cache_hit_share",
                "ttft_s_p50_cache_hit",
                "ttft_s_p50_cache_miss",
            ]
            .map(String::from),
        );
        for (row, s) in t.rows.iter_mut().zip(summaries) {
            let p = s.prefix_cache.as_ref();
            row.extend([
                opt(p.map(|p| p.hit_rate)),
                opt(p.map(|p| p.hit_share)),
                opt(p.and_then(|p| p.ttft_hit_s.map(|s| s.p50))),
                opt(p.and_then(|p| p.ttft_miss_s.map(|s| s.p50))),
            ]);
        }
    }
}
