//! Bad input to `tokenpace plan …` through the binary: the message names
//! the problem and the fix, the exit code is 2, nothing goes to stdout.

use crate::plan_support::*;

/// Each command line (split at spaces) and a part of its message.
const CASES: &[(&str, &str)] = &[
    (
        "plan bounds --model qwen2.5-7 --hardware rtx-4090",
        "did you mean qwen2.5-7b",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware rtx4080",
        "did you mean rtx-4090",
    ),
    (
        "plan bounds --model llama-3.1-70b --hardware rtx-4090",
        "141.2 GB for its weights",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --prompt-tokens 0",
        "--prompt-tokens",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --concurrency NaN",
        "--concurrency",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --rtt -1",
        "--rtt",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --bandwidth-efficiency 1.5",
        "--bandwidth-efficiency",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --gpus 0",
        "--gpus",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --weights int3",
        "--weights",
    ),
    ("plan bounds --hardware l4", "needs a model"),
    ("plan bounds --model qwen2.5-7b", "needs a device"),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --catalog /nonexistent.toml",
        "could not read catalog",
    ),
    (
        "plan remedies --prompt-tokens 100 --output-tokens 10",
        "--prefill and --decode",
    ),
    (
        "plan remedies --preset long-summary --cache-hit 1",
        "--cache-hit",
    ),
    (
        "plan remedies --preset long-summary --spec-acceptance -0.1",
        "--spec-acceptance",
    ),
    (
        "plan calibrate /nonexistent --model qwen2.5-7b --hardware l4",
        "does not exist",
    ),
    (
        "plan scenario --preset long-summary --tokenizer-family gpt9",
        "unknown tokenizer family 'gpt9'",
    ),
    (
        "plan bounds --model qwen2.5-7b --hardware l4 --format csv",
        "--format json",
    ),
];

#[test]
fn bad_input_names_the_problem_and_exits_2() {
    for (line, expected) in CASES {
        let args: Vec<&str> = line.split(' ').collect();
        let out = binary(&args);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{line}: {stderr}");
        assert!(
            stderr.contains(expected),
            "{line}: expected '{expected}' in {stderr}"
        );
        assert!(!stderr.contains("panicked"), "{line}: {stderr}");
        assert!(out.stdout.is_empty(), "{line} printed to stdout");
    }
    // The same message in-process.
    let err = run_err(&[
        "plan",
        "bounds",
        "--model",
        "deepseek-v3",
        "--hardware",
        "h100-sxm",
        "--quant",
        "int4",
    ]);
    assert!(err.contains("--gpus 6"), "{err}");
}
