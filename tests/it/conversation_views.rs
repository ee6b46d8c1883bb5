//! The per-turn, per-step, task and prefix-cache views of `bench`'s result,
//! from hand-built records whose figures are worked out in the comments:
//! the terminal table and the JSON carry the right numbers, and a run
//! without turns or cache reports gets none of it.

use crate::common;

use tokenpace::output::run::{BenchOutput, RunOutput};
use tokenpace_core::profile::Profile;
use tokenpace_core::record::{Chunk, CountSource, ErrorKind, RequestError, TokenCount, TurnRef};
use tokenpace_core::summary::{Environment, RunSettings, RunSummary};
use tokenpace_present::{export, Format, Lang};

const MS: u64 = 1_000_000;

/// Session `s`, turn `t`, sent at `sent_ms`: first token `ttft_ms` later,
/// 10 more tokens 20 ms apart; `prompt` prompt tokens, `cached` of them
/// from the prefix cache.
fn turn(
    s: u64,
    t: u32,
    sent_ms: u64,
    ttft_ms: u64,
    prompt: u32,
    cached: Option<u32>,
) -> tokenpace_core::record::RequestRecord {
    let mut r = common::stream(s * 10 + u64::from(t), ttft_ms, 11, 20, 3, Some(prompt));
    let shift = sent_ms * MS;
    r.scheduled_ns = shift;
    r.sent_ns = shift;
    for c in &mut r.chunks {
        c.at_ns += shift;
    }
    r.end_ns = r.end_ns.map(|e| e + shift);
    r.cached_tokens = cached;
    r.turn = Some(TurnRef {
        session: s,
        turn: t,
    });
    r
}

/// Two chat sessions of three turns each. Per turn (session 0, session 1):
/// TTFT 400/600, 200/300, 100/200 ms; prompts 1000, 2000, 3000 tokens with
/// 0/500, 1500/1500, 2500/2500 cached.
fn chat() -> Vec<tokenpace_core::record::RequestRecord> {
    vec![
        turn(0, 0, 0, 400, 1000, Some(0)),
        turn(1, 0, 0, 600, 1000, Some(500)),
        turn(0, 1, 5000, 200, 2000, Some(1500)),
        turn(1, 1, 5000, 300, 2000, Some(1500)),
        turn(0, 2, 10_000, 100, 3000, Some(2500)),
        turn(1, 2, 10_000, 200, 3000, Some(2500)),
    ]
}

fn output(records: &[tokenpace_core::record::RequestRecord]) -> BenchOutput {
    let settings = RunSettings {
        target: Some("http://127.0.0.1:1".into()),
        model: Some("m".into()),
        concurrency: Some(2),
        stall_threshold_s: 0.25,
        ..Default::default()
    };
    let summary = RunSummary::from_records(records, settings, Environment::default());
    let profile = Profile::builtin();
    let grade = profile.grade(|m, st| summary.get(m, st), false).unwrap();
    BenchOutput::Run(Box::new(RunOutput {
        summary,
        grade,
        self_check: None,
        server_metrics: None,
        tier_spans: Vec::new(),
        notes: Vec::new(),
        model_grades: Vec::new(),
        profile,
    }))
}

fn print(out: &BenchOutput, format: Format) -> String {
    export(out, format, Lang::En).unwrap()
}

/// The cells of the table row that starts with `first` (after trimming).
fn row<'a>(text: &'a str, first: &str) -> Vec<&'a str> {
    text.lines()
        .map(|l| {
            l.split("  ")
                .map(str::trim)
                .filter(|c| !c.is_empty())
                .collect::<Vec<_>>()
        })
        .find(|cells| cells.first() == Some(&first))
        .unwrap_or_else(|| panic!("no row {first}:\n{text}"))
}

#[test]
fn chat_turns_in_the_terminal() {
    let text = print(&output(&chat()), Format::Table);
    eprintln!("{text}");
    assert!(text.contains("Per turn"), "{text}");
    // Turn 0: TTFT p50 0.50, p90 0.4 + 0.9·0.2 = 0.58 s; prefill of the
    // uncached prompt 1000/0.4 = 2500 and 500/0.6 = 833, median 1667;
    // cached shares 0 and 0.5, mean 25 %.
    assert_eq!(
        row(&text, "0"),
        [
            "0",
            "2",
            "2",
            "0.50 (n too small)",
            "0.58 (≥ 0.40)",
            "1667",
            "1000",
            "25.0 %"
        ]
    );
    // Turn 1: 500 computed tokens in 0.2 and 0.3 s: 2500 and 1667, median
    // 2083; 1500 of 2000 cached.
    assert_eq!(
        row(&text, "1"),
        [
            "1",
            "2",
            "2",
            "0.25 (n too small)",
            "0.29 (≥ 0.20)",
            "2083",
            "2000",
            "75.0 %"
        ]
    );
    // Turn 2: 500 in 0.1 and 0.2 s: 5000 and 2500, median 3750; 2500/3000.
    assert_eq!(
        row(&text, "2"),
        [
            "2",
            "2",
            "2",
            "0.15 (n too small)",
            "0.19 (≥ 0.10)",
            "3750",
            "3000",
            "83.3 %"
        ]
    );
    assert!(
        text.contains("sessions: 2, 2 complete, 0 failed; 3.0 turns per session (at most 3)"),
        "{text}"
    );
    // Σ cached 8500 of 12000 prompt tokens; 5 of 6 requests hit. With a
    // hit: TTFT 100, 200, 200, 300, 600 ms (p50 0.20, p90 0.48); without:
    // 400 ms.
    assert!(
        text.contains(
            "prefix-cache hit rate: 70.8 % of prompt tokens over 6 requests, 83.3 % of requests with a hit; TTFT with a hit p50 0.20 s, p90 0.48 s; TTFT without p50 0.40 s, p90 0.40 s"
        ),
        "{text}"
    );
}

#[test]
fn chat_turns_in_json() {
    let json = print(&output(&chat()), Format::Json);
    common::assert_valid("bench", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = &v["summary"]["conversation"];
    assert_eq!(c["kind"], "chat");
    let turns = c["turns"].as_array().unwrap();
    assert_eq!(turns.len(), 3);
    let close = |v: &serde_json::Value, want: f64| (v.as_f64().unwrap() - want).abs() < 1e-9;
    assert_eq!(turns[1]["turn"], 1);
    assert!(close(&turns[0]["ttft_s"]["p90"], 0.58));
    assert!(close(&turns[1]["prefill_tok_s"], 12_500.0 / 6.0));
    assert!(close(&turns[2]["cached_share"], 2500.0 / 3000.0));
    assert!(turns[0].get("tool_call_share").is_none(), "chat: no tools");
    assert_eq!(c["sessions"]["complete"], 2);
    assert!(c["sessions"].get("time_s").is_none(), "chat: no task time");
    let p = &v["summary"]["prefix_cache"];
    assert!(close(&p["hit_rate"], 8500.0 / 12_000.0));
    assert!(close(&p["hit_share"], 5.0 / 6.0));
    assert!(close(&p["ttft_miss_s"]["p50"], 0.4));
}

#[test]
fn chat_sessions_and_cache_in_csv() {
    let csv = print(&output(&chat()), Format::Csv);
    let mut lines = csv.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let row: Vec<&str> = lines.next().unwrap().split(',').collect();
    let cell = |name: &str| row[header.iter().position(|h| *h == name).unwrap()];
    assert_eq!(
        (
            cell("sessions"),
            cell("sessions_complete"),
            cell("task_time_s_p50")
        ),
        ("2", "2", "")
    );
    let rate: f64 = cell("prefix_cache_hit_rate").parse().unwrap();
    assert!((rate - 8500.0 / 12_000.0).abs() < 1e-12);
    assert_eq!(cell("ttft_s_p50_cache_miss"), "0.4");
}

/// Task 0 calls a tool (first tool-call chunk 150 ms after the send, 40
/// characters) and then answers; task 1 calls one (250 ms, 60 characters)
/// and its second step fails.
fn agent() -> Vec<tokenpace_core::record::RequestRecord> {
    let tool = |mut r: tokenpace_core::record::RequestRecord, after_ms: u64, chars: u32| {
        r.tool_chunks = vec![
            Chunk {
                at_ns: r.sent_ns + after_ms * MS,
                tokens: 1,
                chars: chars / 2,
            },
            Chunk {
                at_ns: r.sent_ns + (after_ms + 10) * MS,
                tokens: 1,
                chars: chars / 2,
            },
        ];
        r.tool_calls = 1;
        r
    };
    let mut failed = turn(1, 1, 2000, 300, 900, None);
    failed.error = Some(RequestError {
        kind: ErrorKind::StreamCut,
        status: None,
        message: "cut".into(),
    });
    vec![
        tool(turn(0, 0, 0, 500, 600, None), 150, 40),
        turn(0, 1, 2000, 300, 900, None),
        tool(turn(1, 0, 0, 500, 600, None), 250, 60),
        failed,
    ]
}

#[test]
fn agent_steps_and_tasks_in_the_terminal_and_json() {
    let out = output(&agent());
    let text = print(&out, Format::Table);
    eprintln!("{text}");
    assert!(text.contains("Per step"), "{text}");
    // Step 0: TTFT is the first tool-call chunk (150, 250 ms: p50 0.20,
    // p90 0.24); 600 prompt tokens in 0.15 and 0.25 s: 4000 and 2400,
    // median 3200; tool-call characters 40 and 60, mean 50; both called.
    assert_eq!(
        row(&text, "0"),
        [
            "0",
            "2",
            "2",
            "0.20 (n too small)",
            "0.24 (≥ 0.15)",
            "3200",
            "600",
            "0.20 (n too small)",
            "50",
            "100.0 %"
        ]
    );
    // Step 1: one of two succeeded, answered without a tool.
    assert_eq!(
        row(&text, "1"),
        [
            "1",
            "2",
            "1",
            "0.30 (n too small)",
            "0.30 (n too small)",
            "3000",
            "900",
            "-",
            "-",
            "0.0 %"
        ]
    );
    // Task 0: 0 → 2000 + 300 + 11·20 ms = 2.52 s.
    assert!(
        text.contains(
            "tasks: 2, 1 complete, 1 failed; 2.0 steps per task (at most 2); task time p50 2.52 s, p90 2.52 s"
        ),
        "{text}"
    );
    assert!(
        text.contains("prefix-cache hit rate: not reported by the server"),
        "{text}"
    );
    let json = print(&out, Format::Json);
    common::assert_valid("bench", &json);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let c = &v["summary"]["conversation"];
    assert_eq!(c["kind"], "agent");
    assert_eq!(c["turns"][0]["first_tool_s"]["max"], 0.25);
    assert_eq!(c["turns"][0]["tool_chars"], 50.0);
    assert_eq!(c["turns"][1]["tool_call_share"], 0.0);
    assert_eq!(c["sessions"]["failed"], 1);
    assert_eq!(c["sessions"]["time_s"]["n"], 1);
    assert!(v["summary"].get("prefix_cache").is_none());
}

#[test]
fn a_run_without_turns_or_cache_reports_shows_none_of_it() {
    let records: Vec<_> = (0..4)
        .map(|i| {
            let mut r = common::stream(i, 200, 11, 20, 3, Some(500));
            r.prompt_tokens = Some(TokenCount {
                count: 500,
                source: CountSource::ServerUsage,
            });
            r
        })
        .collect();
    let out = output(&records);
    let text = print(&out, Format::Table);
    for word in ["Per turn", "Per step", "prefix-cache", "sessions:"] {
        assert!(!text.contains(word), "{word}: {text}");
    }
    let json = print(&out, Format::Json);
    assert!(!json.contains("conversation") && !json.contains("prefix_cache"));
}

#[test]
fn chinese_labels_carry_the_same_figures() {
    let text = export(&output(&chat()), Format::Table, Lang::Zh).unwrap();
    eprintln!("{text}");
    assert!(
        text.contains("按轮次") && text.contains("缓存占比"),
        "{text}"
    );
    assert_eq!(
        row(&text, "1"),
        [
            "1",
            "2",
            "2",
            "0.25 (样本太少)",
            "0.29 (≥ 0.20)",
            "2083",
            "2000",
            "75.0 %"
        ]
    );
    assert!(text.contains("前缀缓存命中率: 70.8 %"), "{text}");
    let agent = export(&output(&agent()), Format::Table, Lang::Zh).unwrap();
    assert!(agent.contains("按步骤") && agent.contains("前缀缓存命中率: 服务器未报告"));
}
