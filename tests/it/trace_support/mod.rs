//! The sample traces under tests/data/traces, written for this project by
//! the code below (deterministic: the files are what it prints; the test
//! `samples_are_what_the_generator_writes` checks it, and
//! `TOKENPACE_UPDATE_TRACES=1` rewrites them).
#![allow(dead_code)]

use std::fmt::Write;
use std::path::{Path, PathBuf};
use tokenpace_corpus::SplitMix64;

pub fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/traces")
}

/// Every sample: (path under the repository, contents).
pub fn samples() -> Vec<(String, String)> {
    let mut all = vec![(
        "docs/examples/trace-mooncake.jsonl".to_string(),
        mooncake(300, 11),
    )];
    for (name, text) in tests_samples() {
        all.push((format!("tests/data/traces/{name}"), text));
    }
    all
}

fn tests_samples() -> Vec<(&'static str, String)> {
    vec![
        ("mooncake_sample.jsonl", mooncake(1000, 7)),
        ("azure_sample.csv", azure(60, 8)),
        ("burstgpt_sample.csv", burstgpt(60, 9)),
        // Bad input: one fault each, after good lines.
        ("bad_mooncake_line.jsonl", {
            let mut t: String = mooncake(20, 1)
                .lines()
                .take(12)
                .map(|l| format!("{l}\n"))
                .collect();
            t.push_str("{\"timestamp\": 9000, \"input_length\": 100, \"output_length\": }\n");
            t
        }),
        ("bad_azure_columns.csv", {
            let extra = |(i, l): (usize, &str)| match i {
                0 => format!("{l},Region\n"),
                _ => format!("{l},westus\n"),
            };
            azure(10, 2).lines().enumerate().map(extra).collect()
        }),
        ("bad_burstgpt_order.csv", {
            // Line 8 goes back in time.
            let mut lines: Vec<String> = burstgpt(12, 3).lines().map(String::from).collect();
            let rest = lines[7].split_once(',').unwrap().1.to_string();
            lines[7] = format!("999,{rest}");
            lines.join("\n") + "\n"
        }),
    ]
}

/// A Mooncake-format trace of `n` requests at about 10 per second (Poisson
/// arrivals, millisecond timestamps): a few shared system prompts of one or
/// two 512-token blocks, and conversations whose later turns repeat their
/// earlier turns' blocks, so prefixes are shared as in a chat service.
pub fn mooncake(n: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut next_block = 1000u64;
    let mut block = || {
        next_block += 1;
        next_block
    };
    let systems: Vec<Vec<u64>> = (0..6)
        .map(|i| (0..1 + i % 2).map(|_| block()).collect())
        .collect();
    let mut conversations: Vec<Vec<u64>> = Vec::new();
    let (mut t_ms, mut out) = (0.0f64, String::new());
    for _ in 0..n {
        t_ms += -(1.0 - rng.next_f64()).ln() * 100.0;
        let mut ids = if !conversations.is_empty() && rng.next_f64() < 0.4 {
            // A later turn: the conversation so far, then the new turn.
            let k = rng.range(0, conversations.len() as u64 - 1) as usize;
            conversations[k].clone()
        } else {
            systems[rng.range(0, systems.len() as u64 - 1) as usize].clone()
        };
        ids.push(block());
        if ids.len() > 4 {
            ids.truncate(2);
            ids.push(block());
        }
        let input = ids.len() as u64 * 512 - rng.range(0, 400);
        let output = rng.range(4, 48);
        let list = ids
            .iter()
            .map(u64::to_string)
            .collect::<Vec<_>>()
            .join(", ");
        writeln!(
            out,
            "{{\"timestamp\": {}, \"input_length\": {input}, \"output_length\": {output}, \"hash_ids\": [{list}]}}",
            t_ms.round() as u64
        )
        .unwrap();
        if conversations.len() < 50 {
            conversations.push(ids);
        } else {
            let k = rng.range(0, 49) as usize;
            conversations[k] = ids;
        }
    }
    out
}

/// Azure LLM inference CSV: dates with 7-digit fractions, about 4 per second.
pub fn azure(n: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut out = String::from("TIMESTAMP,ContextTokens,GeneratedTokens\n");
    let mut t_100ns = (18 * 3600 + 15 * 60) * 10_000_000u64;
    for _ in 0..n {
        t_100ns += (-(1.0 - rng.next_f64()).ln() * 2_500_000.0) as u64;
        let s = t_100ns / 10_000_000;
        writeln!(
            out,
            "2023-11-16 {:02}:{:02}:{:02}.{:07},{},{}",
            s / 3600,
            s / 60 % 60,
            s % 60,
            t_100ns % 10_000_000,
            rng.range(20, 1500),
            rng.range(1, 40)
        )
        .unwrap();
    }
    out
}

/// BurstGPT CSV: whole-second timestamps, two models, both log types, and
/// failed requests with 0 response tokens as the real files have them.
pub fn burstgpt(n: usize, seed: u64) -> String {
    let mut rng = SplitMix64::new(seed);
    let mut out =
        String::from("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type\n");
    let mut t = 1000u64;
    for _ in 0..n {
        t += rng.range(0, 1);
        let (req, resp) = (
            rng.range(10, 1200),
            rng.range(0, 40) * u64::from(rng.next_f64() > 0.1),
        );
        let model = ["ChatGPT", "GPT-4"][rng.range(0, 1) as usize];
        let kind = ["Conversation log", "API log"][rng.range(0, 1) as usize];
        writeln!(out, "{t},{model},{req},{resp},{},{kind}", req + resp).unwrap();
    }
    out
}
