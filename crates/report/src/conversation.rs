//! The report's per-turn (chat) or per-step (agent) section and its
//! prefix-cache section. Both are computed from the records
//! (`Conversation::of`, `PrefixCache::of`), not read from `run.json`, so a
//! run written before these figures existed gets them too.

use crate::charts::turns;
use crate::format::{escape, value};
use crate::lang::Lang;
use crate::level::Level;
use crate::page::table;
use std::fmt::Write;
use tokenpace_core::conversation::{Conversation, ConversationKind, TurnStats};
use tokenpace_core::metric::Metric;
use tokenpace_core::prefix_cache::PrefixCache;
use tokenpace_core::profile::Profile;
use tokenpace_core::stats::Stats;
use tokenpace_present::labels::{figure, figure_definition, Figure};
use tokenpace_present::number::share;

/// Per level with turns: the TTFT-by-turn chart, the per-turn (per-step)
/// table and the session (task) line. `None` when no level has turns.
pub fn turns_section(levels: &[Level], profile: &Profile, lang: Lang) -> Option<String> {
    let convs: Vec<(&Level, Conversation)> = levels
        .iter()
        .filter_map(|l| {
            Some((
                l,
                Conversation::of(
                    &l.records,
                    &l.metric_options(),
                    l.summary.settings.conversation_kind(),
                )?,
            ))
        })
        .collect();
    let kind = convs.first()?.1.kind;
    let mut s = String::new();
    for (level, c) in &convs {
        let index = match c.kind {
            ConversationKind::Chat => Figure::Turn,
            ConversationKind::Agent => Figure::Step,
        };
        if convs.len() > 1 {
            let _ = write!(s, "<h3>{}</h3>", escape(&level.name));
        }
        let title = format!(
            "{} {}",
            lang.metric(Metric::TtftS),
            match index {
                Figure::Step => lang.pick("by step", "随步骤"),
                _ => lang.pick("by turn", "随轮次"),
            }
        );
        let rule = profile.metrics.get(&Metric::TtftS);
        s.push_str(&turns::ttft(&c.turns, index, rule, &title, lang).unwrap_or_default());
        s.push_str(&turn_table(c, index, lang));
        let _ = write!(
            s,
            "<p>{}</p>",
            escape(&tokenpace_present::conversation::session_line(
                c.kind,
                &c.sessions,
                lang
            ))
        );
    }
    let mut shown = vec![Figure::Turn, Figure::UncachedPrefill, Figure::CachedShare];
    if kind == ConversationKind::Agent {
        shown = vec![
            Figure::Step,
            Figure::UncachedPrefill,
            Figure::CachedShare,
            Figure::FirstTool,
            Figure::ToolChars,
            Figure::ToolCallShare,
            Figure::TaskTime,
        ];
    }
    s.push_str(&definitions(&shown, lang));
    Some(s)
}

fn secs(s: &Option<Stats>, pick: fn(&Stats) -> f64) -> String {
    s.as_ref()
        .map_or("-".into(), |s| value(Metric::TtftS, pick(s)))
}

fn opt(v: Option<f64>, f: impl Fn(f64) -> String) -> String {
    v.map_or("-".into(), f)
}

fn turn_table(c: &Conversation, index: Figure, lang: Lang) -> String {
    let agent = c.kind == ConversationKind::Agent;
    let cached = c.turns.iter().any(|t| t.cached_share.is_some());
    let (p50, p90) = ("TTFT p50 (s)", "TTFT p90 (s)");
    let first_tool = format!("{} p50 (s)", figure(lang, Figure::FirstTool));
    let mut header = vec![
        figure(lang, index),
        lang.pick("requests", "请求"),
        "ok",
        p50,
        p90,
        figure(lang, Figure::UncachedPrefill),
        lang.metric(Metric::PromptTokens),
    ];
    if cached {
        header.push(figure(lang, Figure::CachedShare));
    }
    if agent {
        header.extend([
            first_tool.as_str(),
            figure(lang, Figure::ToolChars),
            figure(lang, Figure::ToolCallShare),
        ]);
    }
    let rows: Vec<Vec<String>> = c.turns.iter().map(|t| turn_row(t, cached, agent)).collect();
    table(&header, &rows, &[])
}

fn turn_row(t: &TurnStats, cached: bool, agent: bool) -> Vec<String> {
    let mut row = vec![
        t.turn.to_string(),
        t.requests.to_string(),
        t.ok.to_string(),
        secs(&t.ttft_s, |s| s.p50),
        secs(&t.ttft_s, |s| s.p90),
        opt(t.prefill_tok_s, |v| value(Metric::PrefillTokS, v)),
        opt(t.prompt_tokens, |v| value(Metric::PromptTokens, v)),
    ];
    if cached {
        row.push(opt(t.cached_share, share));
    }
    if agent {
        row.extend([
            secs(&t.first_tool_s, |s| s.p50),
            opt(t.tool_chars, |v| format!("{v:.0}")),
            opt(t.tool_call_share, share),
        ]);
    }
    row
}

/// One row per level: hit rate, share of requests with a hit, TTFT with
/// and without. `None` when no level reported cached tokens and none has
/// turns; with turns and no report it says "not reported".
pub fn cache_section(levels: &[Level], lang: Lang) -> Option<String> {
    let caches: Vec<(&Level, Option<PrefixCache>)> = levels
        .iter()
        .map(|l| (l, PrefixCache::of(&l.records, &l.metric_options())))
        .collect();
    if caches.iter().all(|(_, c)| c.is_none()) {
        let turns = levels
            .iter()
            .any(|l| l.records.iter().any(|r| r.turn.is_some()));
        return turns.then(|| {
            format!(
                "<p>{}: {}</p>",
                escape(figure(lang, Figure::CacheHitRate)),
                escape(lang.pick("not reported by the server", "服务器未报告"))
            )
        });
    }
    let (hit50, miss50) = (
        format!("{} p50 (s)", figure(lang, Figure::TtftHit)),
        format!("{} p50 (s)", figure(lang, Figure::TtftMiss)),
    );
    let (hit90, miss90) = (
        format!("{} p90 (s)", figure(lang, Figure::TtftHit)),
        format!("{} p90 (s)", figure(lang, Figure::TtftMiss)),
    );
    let header = [
        lang.pick("level", "档位"),
        figure(lang, Figure::CacheHitRate),
        figure(lang, Figure::CacheHitShare),
        hit50.as_str(),
        hit90.as_str(),
        miss50.as_str(),
        miss90.as_str(),
        "n",
    ];
    let not_reported = lang.pick("not reported", "未报告");
    let rows: Vec<Vec<String>> = caches
        .iter()
        .map(|(l, c)| match c {
            Some(c) => vec![
                l.name.clone(),
                share(c.hit_rate),
                share(c.hit_share),
                secs(&c.ttft_hit_s, |s| s.p50),
                secs(&c.ttft_hit_s, |s| s.p90),
                secs(&c.ttft_miss_s, |s| s.p50),
                secs(&c.ttft_miss_s, |s| s.p90),
                c.requests.to_string(),
            ],
            None => vec![l.name.clone(), not_reported.into()],
        })
        .collect();
    let mut s = table(&header, &rows, &[0]);
    s.push_str(&definitions(
        &[
            Figure::CacheHitRate,
            Figure::CacheHitShare,
            Figure::TtftHit,
            Figure::TtftMiss,
        ],
        lang,
    ));
    Some(s)
}

/// How the figures shown are computed.
fn definitions(figures: &[Figure], lang: Lang) -> String {
    let mut s = format!(
        "<details><summary>{}</summary><dl>",
        escape(lang.pick("How these are computed", "计算方法"))
    );
    for f in figures {
        let _ = write!(
            s,
            "<dt>{}</dt><dd>{}</dd>",
            escape(figure(lang, *f)),
            escape(figure_definition(lang, *f))
        );
    }
    s.push_str("</dl></details>");
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::level::tests::level;
    use tokenpace_core::record::TurnRef;

    /// `level` whose requests are two-turn sessions, the second turn with
    /// half its prompt cached.
    fn chat() -> Level {
        let mut l = level("c2", 8, 200, 25);
        for (i, r) in l.records.iter_mut().enumerate() {
            r.turn = Some(TurnRef {
                session: i as u64 / 2,
                turn: i as u32 % 2,
            });
            r.cached_tokens = Some(if i % 2 == 1 { 150 } else { 0 });
        }
        l
    }

    #[test]
    fn a_chat_run_gets_the_turn_chart_table_and_cache_figures() {
        let profile = Profile::builtin();
        let s = turns_section(&[chat()], &profile, Lang::En).unwrap();
        assert!(s.contains("<svg") && s.contains("TTFT") && s.contains("by turn"));
        assert!(s.contains("sessions: 4, 4 complete, 0 failed; 2.0 turns per session"));
        let c = cache_section(&[chat()], Lang::En).unwrap();
        // 4 × 150 cached of 8 × 300 prompt tokens; 4 of 8 requests hit.
        assert!(c.contains("<td>25.0 %</td><td>50.0 %</td>"), "{c}");
    }

    #[test]
    fn an_agent_run_gets_the_step_view_and_the_task_line() {
        let mut l = chat();
        // The first step of each task streams a 24-character tool call.
        for r in l.records.iter_mut().filter(|r| r.turn.unwrap().turn == 0) {
            r.tool_chunks.push(tokenpace_core::record::Chunk {
                at_ns: r.sent_ns + 50_000_000,
                tokens: 1,
                chars: 24,
            });
            r.tool_calls = 1;
        }
        let s = turns_section(&[l], &Profile::builtin(), Lang::En).unwrap();
        assert!(s.contains("by step") && s.contains("<th>called a tool</th>"));
        // Step 0: every step called a tool, 24 characters, 50 ms in.
        assert!(
            s.contains("<td>0.050</td><td>24</td><td>100.0 %</td>"),
            "{s}"
        );
        assert!(s.contains("tasks: 4, 4 complete, 0 failed; 2.0 steps per task"));
        assert!(s.contains("task time p50"));
    }

    #[test]
    fn a_run_without_turns_or_cache_reports_has_neither_section() {
        let plain = level("c1", 4, 200, 25);
        let profile = Profile::builtin();
        assert!(turns_section(std::slice::from_ref(&plain), &profile, Lang::En).is_none());
        assert!(cache_section(&[plain], Lang::En).is_none());
        let mut silent = chat();
        for r in &mut silent.records {
            r.cached_tokens = None;
        }
        let c = cache_section(&[silent], Lang::En).unwrap();
        assert!(c.contains("not reported by the server") && !c.contains('%'));
    }
}
