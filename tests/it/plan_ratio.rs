//! Characters per token in every plan output: a ratio is never shown
//! without its source, it follows the model and the language, and every
//! `plan … --help` example runs.

use crate::plan_support::*;
use serde_json::Value;
use std::process::Command;
use tokenpace_core::tokenizer_family::family;

/// Plan command lines that show a ratio, each run in several formats.
const COMMANDS: &[&[&str]] = &[
    &[
        "plan",
        "bounds",
        "--model",
        "qwen2.5-7b",
        "--hardware",
        "rtx-4090",
        "--quant",
        "int4",
    ],
    &[
        "plan",
        "bounds",
        "--model",
        "qwen2.5-7b",
        "--hardware",
        "rtx-4090",
        "--text",
        "en",
    ],
    &[
        "plan",
        "bounds",
        "--model",
        "gemma-3-27b",
        "--hardware",
        "h100-sxm",
    ],
    &[
        "plan",
        "bounds",
        "--model",
        "llama-3.1-8b",
        "--hardware",
        "l4",
        "--text",
        "mixed",
    ],
    &[
        "plan",
        "bounds",
        "--model",
        "qwen3-8b",
        "--hardware",
        "l4",
        "--chars-per-token",
        "1.3",
    ],
    &["plan", "remedies", "--preset", "long-summary"],
    &[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--model",
        "qwen2.5-32b",
        "--hardware",
        "l40s",
        "--quant",
        "int8",
    ],
    &[
        "plan",
        "remedies",
        "--preset",
        "long-summary",
        "--model",
        "deepseek-r1-distill-llama-8b",
        "--hardware",
        "rtx-4090",
        "--text",
        "en",
    ],
    &["plan", "scenario", "--preset", "long-summary"],
    &[
        "plan",
        "scenario",
        "--preset",
        "web-chat",
        "--tokenizer-family",
        "qwen",
        "--text",
        "en",
    ],
    &[
        "plan",
        "scenario",
        "--preset",
        "long-summary",
        "--prefill",
        "900",
        "--decode",
        "20",
    ],
    &[
        "plan",
        "capacity",
        "--model",
        "qwen3-8b",
        "--hardware",
        "rtx-5090",
        "--text",
        "en",
    ],
    &[
        "plan",
        "capacity",
        "--decode",
        "300",
        "--batch-slowdown",
        "0.5",
    ],
];

/// Every `N.NN chars/token` in `text` has a line stating the same ratio
/// with its source.
fn assert_text_states_sources(args: &[&str], text: &str) {
    let unit = regex::Regex::new(r"(\d+\.\d+) (chars/token|字/token)").unwrap();
    let mut shown = 0;
    for c in unit.captures_iter(text) {
        shown += 1;
        let with_source = [
            format!("{} {} (source: ", &c[1], &c[2]),
            format!("{} {} (来源：", &c[1], &c[2]),
        ];
        assert!(
            text.lines()
                .any(|l| with_source.iter().any(|s| l.contains(s.as_str()))),
            "{args:?} shows {} {} without its source:\n{text}",
            &c[1],
            &c[2]
        );
    }
    assert!(shown > 0, "{args:?} shows no ratio:\n{text}");
}

/// Every object with a `chars_per_token` number has a non-empty
/// `chars_per_token_source` beside it or in an enclosing object.
fn assert_json_states_sources(args: &[&str], v: &Value, inherited: bool, found: &mut usize) {
    match v {
        Value::Object(o) => {
            let here = o
                .get("chars_per_token_source")
                .and_then(Value::as_str)
                .is_some_and(|s| !s.trim().is_empty());
            if o.get("chars_per_token").is_some_and(Value::is_number) {
                *found += 1;
                assert!(
                    here || inherited,
                    "{args:?}: a ratio without its source in {v}"
                );
            }
            for child in o.values() {
                assert_json_states_sources(args, child, inherited || here, found);
            }
        }
        Value::Array(a) => {
            for child in a {
                assert_json_states_sources(args, child, inherited, found);
            }
        }
        _ => {}
    }
}

#[test]
fn every_plan_output_states_the_source_of_its_ratio() {
    for args in COMMANDS {
        for extra in [
            &["--lang", "en"][..],
            &["--lang", "zh"],
            &["--format", "markdown", "--lang", "en"],
        ] {
            let line = [*args, extra].concat();
            assert_text_states_sources(&line, &run(&line));
        }
        let line = [*args, &["--format", "json"]].concat();
        let mut found = 0;
        assert_json_states_sources(&line, &json(&line), false, &mut found);
        assert!(found > 0, "{line:?}: no chars_per_token in the JSON");
    }
}

fn bounds_ratio(extra: &[&str]) -> (f64, String) {
    let v = json(&[DONE, extra, &["--format", "json"]].concat());
    let w = &v["workload"];
    (
        w["chars_per_token"].as_f64().unwrap(),
        w["chars_per_token_source"].as_str().unwrap().to_string(),
    )
}

#[test]
fn a_qwen_model_reads_at_qwen_figures_in_chinese_and_english() {
    let qwen = family("qwen").unwrap();
    let (zh, zh_source) = bounds_ratio(&[]);
    assert_eq!(zh, qwen.zh_chars_per_token);
    assert!(
        zh_source.starts_with("zh text; catalog entry qwen2.5-7b: qwen tokenizer family"),
        "{zh_source}"
    );
    assert!(zh_source.contains(qwen.source), "{zh_source}");
    let (en, en_source) = bounds_ratio(&["--text", "en"]);
    assert_eq!(en, qwen.en_chars_per_token);
    assert!(
        en_source.starts_with("en text; ") && en_source.contains(qwen.en_source),
        "{en_source}"
    );
    // Reading speed follows: the same decode rate at each ratio.
    let v = json(&[DONE, &["--format", "json"]].concat());
    let decode = v["decode_tok_s"].as_f64().unwrap();
    assert!((v["output_chars_s"].as_f64().unwrap() - decode * zh).abs() < 1e-9);
}

#[test]
fn a_model_without_a_known_tokenizer_says_it_uses_the_default() {
    let v = json(&[
        "plan",
        "bounds",
        "--model",
        "gemma-3-4b",
        "--hardware",
        "l4",
        "--format",
        "json",
    ]);
    let source = v["workload"]["chars_per_token_source"].as_str().unwrap();
    assert!(
        source.contains("default: nothing is known of this model's tokenizer"),
        "{source}"
    );
}

#[test]
fn a_config_json_names_its_tokenizer_family() {
    let dir = TempDir::new("ratio-config");
    let config = dir.path().join("config.json");
    std::fs::write(
        &config,
        r#"{"model_type": "llama", "hidden_size": 4096, "intermediate_size": 14336, "num_attention_heads": 32,
            "num_hidden_layers": 32, "num_key_value_heads": 8, "vocab_size": 128256}"#,
    )
    .unwrap();
    let v = json(&[
        "plan",
        "bounds",
        "--model-file",
        config.to_str().unwrap(),
        "--hardware",
        "l4",
        "--text",
        "en",
        "--format",
        "json",
    ]);
    let w = &v["workload"];
    assert_eq!(
        w["chars_per_token"].as_f64().unwrap(),
        family("llama3").unwrap().en_chars_per_token
    );
    let source = w["chars_per_token_source"].as_str().unwrap();
    assert!(
        source.contains("model file config.json's model_type 'llama'"),
        "{source}"
    );
}

/// Every example in `plan …`'s help runs and exits 0, in a directory
/// holding the files the examples name.
#[test]
fn plan_help_examples_run() {
    let dir = TempDir::new("help-examples");
    for (name, run) in [("run1", "p256-c1"), ("run2", "p128-c2")] {
        let run_dir = dir.path().join(name);
        std::fs::create_dir_all(&run_dir).unwrap();
        let recorded = format!(
            "{}/tests/data/engine-runs/{run}/run.json",
            env!("CARGO_MANIFEST_DIR")
        );
        std::fs::copy(recorded, run_dir.join("run.json")).unwrap();
    }
    std::fs::write(
        dir.path().join("config.json"),
        r#"{"model_type": "qwen2", "hidden_size": 3584, "intermediate_size": 18944, "num_attention_heads": 28,
            "num_hidden_layers": 28, "num_key_value_heads": 4, "vocab_size": 152064}"#,
    )
    .unwrap();
    let mut examples = 0;
    // calibrate first: its example saves the fitted.toml a bounds example reads.
    for command in ["calibrate", "scenario", "bounds", "remedies", "capacity"] {
        let help = binary(&["plan", command, "--help"]);
        let help = String::from_utf8(help.stdout).unwrap();
        let block: Vec<&str> = help
            .lines()
            .skip_while(|l| !l.starts_with("Examples:"))
            .skip(1)
            .take_while(|l| !l.trim().is_empty())
            .collect();
        // A wrapped example cannot be copied as one line: keep each short.
        let lines: Vec<&str> = block
            .iter()
            .map(|l| {
                l.trim().strip_prefix("tokenpace ").unwrap_or_else(|| {
                    panic!("plan {command} --help: '{l}' is a wrapped example:\n{help}")
                })
            })
            .collect();
        assert!(
            !lines.is_empty(),
            "plan {command} --help has no examples:\n{help}"
        );
        for line in lines {
            let out = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
                .args(line.split_whitespace())
                .current_dir(dir.path())
                .env_clear()
                .env("LANG", "C.UTF-8")
                .output()
                .unwrap();
            assert_eq!(
                out.status.code(),
                Some(0),
                "`tokenpace {line}` (from plan {command} --help): {}",
                String::from_utf8_lossy(&out.stderr)
            );
            examples += 1;
        }
    }
    assert!(examples >= 12, "{examples}");
}
