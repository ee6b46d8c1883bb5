//! Prompts that are what they claim (issue: exact lengths on the server's
//! tokenizer, unique unless shared on purpose, requests a server accepts),
//! held against the simulator's truth: its `/tokenize` is the tokenizer
//! that counts, its prefix cache says what was shared.

use crate::bench_support::{bench, records, serial, truth};
use crate::common::{fast_sim, Sim};
use std::path::Path;
use tokenpace_core::record::CountSource;
use tokenpace_sim::config::SimConfig;

fn start(truth: &Path, edit: impl FnOnce(&mut SimConfig)) -> Sim {
    let mut config = fast_sim();
    config.timing.ttft_ms = 2.0;
    config.timing.prefill = 1e7;
    config.timing.decode = 5000.0;
    config.truth = Some(truth.to_path_buf());
    edit(&mut config);
    Sim::start(config)
}

/// The server's count of every prompt equals the length asked for, in
/// Chinese and English, through a chat and a completions API, a shared
/// prefix included; the run says how lengths were made.
#[test]
fn prompts_are_cut_to_the_servers_count_exactly() {
    let _serial = serial();
    for (text, backend, shared) in [
        ("zh", "openai-chat", "0"),
        ("en", "openai-completions", "0"),
        ("mixed", "openai-chat", "100"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let truth_path = dir.path().join("truth.jsonl");
        let sim = start(&truth_path, |_| {});
        let out = dir.path().join("run");
        let url = sim.url();
        let args = [
            url.as_str(),
            "--text",
            text,
            "--backend",
            backend,
            "--shared-prefix",
            shared,
            "--prompt-tokens",
            "64,700",
            "--requests",
            "6",
            "--max-tokens",
            "2",
            "--out",
            out.to_str().unwrap(),
        ];
        let (_, table) = bench(&args).unwrap();
        sim.stop();
        let truth = truth(&truth_path);
        for (level, asked) in [("p64", 64), ("p700", 700)] {
            let recs = records(&out.join(level));
            assert_eq!(recs.len(), 6);
            for r in &recs {
                let t = &truth[r.response_id.as_deref().unwrap()];
                assert_eq!(t.prompt_tokens, asked, "{text} {backend} {level}");
                let counted = r.prompt_tokens.unwrap();
                assert_eq!(
                    (counted.count, counted.source),
                    (asked as u32, CountSource::ServerUsage)
                );
            }
            let run: serde_json::Value = serde_json::from_str(
                &std::fs::read_to_string(out.join(level).join("run.json")).unwrap(),
            )
            .unwrap();
            let s = &run["settings"];
            assert_eq!(s["prompt_lengths"], "exact", "{s}");
            assert_eq!(s["server_kind"], "tokenpace");
            assert_eq!(s["text"], text);
        }
        assert!(!table.contains("prompt tokens on average"), "{table}");
    }
}

/// 10 000 "unique" 1500-token prompts through the simulator's prefix
/// cache: not one cached token (a corpus that repeats, or another run's
/// prompts, would be served from the cache and flatter the result).
#[test]
fn ten_thousand_unique_prompts_share_nothing_with_a_prefix_cache() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |c| c.prefix_cache.capacity_tokens = 40_000_000);
    let out = dir.path().join("run");
    let url = sim.url();
    let run = |out: &Path, extra: &[&str]| {
        let mut args = vec![
            url.as_str(),
            "--concurrency",
            "64",
            "--prompt-tokens",
            "1500",
            "--max-tokens",
            "1",
            "--seed",
            "3",
            "--out",
            out.to_str().unwrap(),
        ];
        args.extend_from_slice(extra);
        bench(&args).unwrap().1
    };
    let table = run(&out, &["--requests", "10000"]);
    // Another run with the same seed: its prompts are its own too.
    let again = run(&dir.path().join("again"), &["--requests", "200"]);
    sim.stop();
    let recs = records(&out);
    assert_eq!(recs.len(), 10_000);
    let cached: u64 = recs
        .iter()
        .map(|r| u64::from(r.cached_tokens.unwrap_or(0)))
        .sum();
    let truth_cached: u64 = truth(&truth_path)
        .values()
        .map(|t| t.cached_tokens.unwrap_or(0))
        .sum();
    assert_eq!((cached, truth_cached), (0, 0), "{table}");
    assert!(recs.iter().all(|r| r.prompt_tokens.unwrap().count == 1500));
    assert!(!again.contains("prefix cache"), "{again}");
}

/// `--reuse-prompts` sends an earlier run's prompts again: the cache then
/// serves them, and the run says it was primed.
#[test]
fn reused_prompts_hit_the_cache_and_the_run_says_so() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |_| {});
    let url = sim.url();
    let args = |out: &str| {
        [
            url.clone(),
            "--reuse-prompts".into(),
            "--requests".into(),
            "8".into(),
            "--prompt-tokens".into(),
            "512".into(),
            "--max-tokens".into(),
            "2".into(),
            "--lang".into(),
            "en".into(),
            "--out".into(),
            dir.path().join(out).display().to_string(),
        ]
    };
    let first = args("first");
    let second = args("second");
    let (_, cold) = bench(&first.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    let (_, warm) = bench(&second.iter().map(String::as_str).collect::<Vec<_>>()).unwrap();
    sim.stop();
    assert!(!cold.contains("primed"), "{cold}");
    assert!(warm.contains("were sent before"), "{warm}");
    let cached: u32 = records(&dir.path().join("second"))
        .iter()
        .map(|r| r.cached_tokens.unwrap_or(0))
        .sum();
    assert!(cached > 8 * 400, "{cached}");
}

/// A server that rejects arguments it does not define (OpenAI's hosted API,
/// `--dialect openai`): discovered as `other`, it is sent no `ignore_eos`,
/// and the run succeeds and says what it left out; told it is vLLM, the
/// run stops at once, naming the argument and how to drop it.
#[test]
fn a_server_that_rejects_unknown_arguments_is_sent_none_or_named() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |c| {
        c.dialect = tokenpace_sim::config::Dialect::Openai
    });
    let url = sim.url();
    let out = dir.path().join("run");
    let (_, table) = bench(&[
        &url,
        "--requests",
        "4",
        "--max-tokens",
        "8",
        "--lang",
        "en",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    assert!(records(&out).iter().all(|r| r.is_ok()), "{table}");
    let e = bench(&[
        &url,
        "--server-kind",
        "vllm",
        "--requests",
        "4",
        "--max-tokens",
        "8",
    ])
    .unwrap_err();
    sim.stop();
    let e = format!("{e:#}");
    assert!(
        e.contains("ignore_eos") && e.contains("--no-ignore-eos"),
        "{e}"
    );
}

/// A trace replayed twice against one server: the second replay finds its
/// prompts cached beyond what the trace's shared blocks allow, and says
/// the server had them before; without `--reuse-prompts` it does not.
#[test]
fn a_trace_replayed_again_says_the_server_had_it_cached() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |c| c.prefix_cache.capacity_tokens = 4_000_000);
    let url = sim.url();
    let trace = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/tests/data/traces/mooncake_sample.jsonl"
    );
    let replay = |extra: &[&str]| {
        let mut args = vec![
            url.as_str(),
            "--trace",
            trace,
            "--trace-speed",
            "50",
            "--requests",
            "200",
            "--lang",
            "en",
        ];
        args.extend_from_slice(extra);
        // The warning goes to stderr, as every warning of a run does.
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_tokenpace"))
            .arg("bench")
            .args(&args)
            .output()
            .unwrap();
        assert!(out.status.success(), "{out:?}");
        String::from_utf8_lossy(&out.stderr).into_owned()
    };
    let fresh = replay(&["--reuse-prompts"]);
    let salted = replay(&[]);
    let again = replay(&["--reuse-prompts"]);
    sim.stop();
    assert!(!fresh.contains("cached before this run"), "{fresh}");
    assert!(!salted.contains("cached before this run"), "{salted}");
    assert!(again.contains("cached before this run"), "{again}");
}

/// A conversations file without `--requests` is replayed once, whole: its
/// first turns are not sent again (and found in the cache) as when a
/// default count of 100 sessions cycled through 3 conversations.
#[test]
fn a_conversations_file_is_replayed_once_by_default() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("chats.jsonl");
    let line = |a: &str, b: &str| {
        serde_json::json!({"messages": [
            {"role": "user", "content": a},
            {"role": "assistant", "content": "ok"},
            {"role": "user", "content": b},
        ]})
        .to_string()
    };
    let text = [
        line("How long is the ferry crossing?", "And in winter?"),
        line("What does the market sell?", "Is it open on Sundays?"),
        line("Why is the school bell fast?", "Who set it?"),
    ]
    .join("\n");
    std::fs::write(&file, text).unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = start(&truth_path, |_| {});
    let out = dir.path().join("run");
    let url = sim.url();
    bench(&[
        &url,
        "--conversations",
        file.to_str().unwrap(),
        "--max-tokens",
        "4",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    sim.stop();
    let recs = records(&out);
    assert_eq!(recs.len(), 6, "3 conversations of 2 user turns, once each");
    let first_turns = recs.iter().filter(|r| r.turn.unwrap().turn == 0);
    assert!(first_turns.clone().count() == 3);
    assert!(first_turns
        .clone()
        .all(|r| r.cached_tokens.unwrap_or(0) == 0));
}
