//! `tokenpace capacity` against the simulator's batching law: the boundary
//! it finds is the one the law implies, and a target that is down or dies
//! ends the search with a clear message.

use clap::Parser;
use std::time::{Duration, Instant};
use tokenpace::cli::Cli;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_sim::config::SimConfig;
use tokenpace_sim::{SimHandle, SimServer};

use crate::common::serial;

const DECODE: f64 = 300.0;
const SLOWDOWN: f64 = 0.95;

fn sim() -> (tokio::runtime::Runtime, SimHandle) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 20.0;
    config.timing.prefill = 20_000.0;
    config.timing.decode = DECODE;
    config.timing.batch_slowdown = SLOWDOWN;
    let handle = runtime.block_on(SimServer::start(config)).unwrap();
    (runtime, handle)
}

fn capacity(args: &[&str]) -> anyhow::Result<String> {
    let argv = ["tokenpace", "capacity"].iter().chain(args).copied();
    let mut out = Vec::new();
    tokenpace::run(Cli::try_parse_from(argv)?, &mut out)?;
    Ok(String::from_utf8(out)?)
}

/// The largest concurrency c at which decode / (1 + k·(c − 1)) ≥ `rate`.
fn law_limit(rate: f64) -> u64 {
    (1.0 + (DECODE / rate - 1.0) / SLOWDOWN).floor() as u64
}

#[test]
fn finds_the_boundary_the_batching_law_implies() {
    let _serial = serial();
    let (runtime, sim) = sim();
    let dir = tempfile::tempdir().unwrap();
    let started = Instant::now();
    let json = capacity(&[
        &sim.url(),
        "--scenario",
        "writing-assistant",
        "--max-tokens",
        "16",
        "--max-concurrency",
        "64",
        "--time-budget",
        "110",
        "--text",
        "en",
        "--out",
        dir.path().to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    let took = started.elapsed();
    runtime.block_on(sim.shutdown()).unwrap();
    assert!(took < Duration::from_secs(120), "took {took:?}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    // Decode binds here (TTFT and prefill stay far inside tier A): the
    // seed's decode boundaries give the limits.
    let seed = Profile::builtin();
    let rule = &seed.metrics[&Metric::DecodeTokS];
    let (a, b) = (law_limit(rule.a), law_limit(rule.b.unwrap()));
    let found_a = v["tier_a_max_concurrency"].as_u64().unwrap();
    let found_b = v["tier_b_max_concurrency"].as_u64().unwrap();
    assert!(found_a.abs_diff(a) <= 1, "tier A: found {found_a}, law {a}");
    assert!(found_b.abs_diff(b) <= 1, "tier B: found {found_b}, law {b}");
    // Bisected to adjacent levels.
    assert_eq!(v["tier_a_first_failing"].as_u64(), Some(found_a + 1));
    assert_eq!(v["tier_b_first_failing"].as_u64(), Some(found_b + 1));
    assert!(v["stopped"].is_null());
    // Every level's records are kept.
    for level in v["levels"].as_array().unwrap() {
        let c = level["concurrency"].as_u64().unwrap();
        let records =
            tokenpace_client::sink::read_jsonl(&dir.path().join(format!("c{c}/requests.jsonl")))
                .unwrap();
        assert_eq!(
            records.len() as u64,
            level["summary"]["counts"]["sent"].as_u64().unwrap()
        );
    }
    assert!(dir.path().join("capacity.json").is_file());
}

/// `--trace`: the search varies the replay speed in steps, bisects both
/// boundaries to adjacent steps, replays the whole window at every level,
/// and names its levels and results by speed.
#[test]
fn a_trace_search_finds_the_fastest_replay_that_holds_each_tier() {
    let _serial = serial();
    let (runtime, sim) = sim();
    let dir = tempfile::tempdir().unwrap();
    // 12 requests a second apart: at speed x, x requests/s of 48 tokens.
    let trace = dir.path().join("steady.jsonl");
    let lines: String = (0..12)
        .map(|i| {
            format!(
                "{{\"timestamp\": {}, \"input_length\": 64, \"output_length\": 48, \"hash_ids\": [{i}]}}\n",
                i * 1000
            )
        })
        .collect();
    std::fs::write(&trace, lines).unwrap();
    let out = dir.path().join("search");
    let json = capacity(&[
        &sim.url(),
        "--trace",
        trace.to_str().unwrap(),
        "--trace-speed-step",
        "2",
        "--max-trace-speed",
        "64",
        "--text",
        "en",
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    runtime.block_on(sim.shutdown()).unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert!(v.get("tier_a_max_concurrency").is_none(), "{v}");
    let speed = |k: &str| v[k].as_f64().unwrap_or_else(|| panic!("{k} in {v}"));
    let (a, b) = (
        speed("tier_a_max_trace_speed"),
        speed("tier_b_max_trace_speed"),
    );
    // Doubling from the step, then bisected to adjacent multiples of it.
    assert!(a >= 2.0 && b >= a, "{a} {b}");
    assert_eq!(speed("tier_a_first_failing_trace_speed"), a + 2.0);
    // Twelve requests at once cap the batch, so tier B may hold to the end.
    match v["tier_b_first_failing_trace_speed"].as_f64() {
        Some(fail) => assert_eq!(fail, b + 2.0),
        None => assert_eq!(b, 64.0),
    }
    let decode_limit = Profile::builtin().metrics[&Metric::DecodeTokS].a;
    for level in v["levels"].as_array().unwrap() {
        let x = level["trace_speed"].as_f64().unwrap();
        assert!(level.get("concurrency").is_none());
        assert_eq!(level["summary"]["settings"]["trace"]["speed"], x);
        assert_eq!(level["summary"]["settings"]["requests"], 12);
        // Every request of the window, at every level, kept on disk.
        assert_eq!(level["summary"]["counts"]["ok"], 12, "t{x}");
        let records =
            tokenpace_client::sink::read_jsonl(&out.join(format!("t{x}/requests.jsonl"))).unwrap();
        assert_eq!(records.len(), 12);
        // The boundary is where decode falls below tier A (nothing else
        // binds against this simulator).
        let decode = level["summary"]["metrics"]["decode_tok_s"]["mean"]
            .as_f64()
            .unwrap();
        if x <= a {
            assert!(decode >= decode_limit, "t{x}: decode {decode}");
        } else if x == a + 2.0 {
            assert!(decode < decode_limit, "t{x}: decode {decode}");
        }
    }
}

#[test]
fn a_target_that_is_down_is_an_error_before_any_load() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let err = format!("{:#}", capacity(&[&url, "--model", "m"]).unwrap_err());
    assert!(
        err.contains("cannot reach") && err.contains("nothing was sent"),
        "{err}"
    );
}

#[test]
fn a_target_that_dies_mid_search_ends_it_with_the_results_so_far() {
    let _serial = serial();
    let (runtime, sim) = sim();
    let url = sim.url();
    let killer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(2500));
        runtime.block_on(sim.shutdown()).unwrap();
    });
    let json = capacity(&[
        &url,
        "--max-tokens",
        "16",
        "--prompt-tokens",
        "64",
        "--max-concurrency",
        "64",
        "--time-budget",
        "60",
        "--timeout",
        "5",
        "--format",
        "json",
    ])
    .unwrap();
    killer.join().unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let levels = v["levels"].as_array().unwrap();
    assert!(!levels.is_empty());
    let stopped = v["stopped"].as_str().unwrap_or_default();
    let last_failed = levels.last().unwrap()["summary"]["counts"]["failed"]
        .as_u64()
        .unwrap();
    assert!(
        stopped.contains("failed entirely") || last_failed > 0,
        "{stopped}: {json}"
    );
}

#[test]
fn a_target_that_refuses_everything_is_one_clear_error() {
    let _serial = serial();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let mut config = SimConfig {
        port: 0,
        ..SimConfig::default()
    };
    config.faults.inject = vec!["http_503".parse().unwrap()];
    let sim = runtime.block_on(SimServer::start(config)).unwrap();
    let err = capacity(&[&sim.url(), "--max-tokens", "4", "--prompt-tokens", "8"]).unwrap_err();
    runtime.block_on(sim.shutdown()).unwrap();
    let err = format!("{err:#}");
    assert!(
        // The simulator's 503 carries a Retry-After: throttled.
        err.contains("no level was measured: at c1") && err.contains("throttled"),
        "{err}"
    );
}

/// `--slo mlperf-interactive:llama-3.1-8b`: the search finds the highest
/// concurrency at which 90 % of requests meet the SLO where the batching
/// law puts it (TPOT = 1 / the per-stream decode rate crosses the preset's
/// limit; TTFT stays far inside its own), and names TPOT as the limit.
#[test]
fn an_slo_search_finds_the_attainment_boundary_the_law_predicts() {
    let _serial = serial();
    let (runtime, sim) = sim();
    let started = Instant::now();
    let spec = "mlperf-interactive:llama-3.1-8b";
    let json = capacity(&[
        &sim.url(),
        "--slo",
        spec,
        "--prompt-tokens",
        "256",
        "--max-tokens",
        "32",
        "--max-concurrency",
        "32",
        "--time-budget",
        "50",
        "--text",
        "en",
        "--format",
        "json",
    ])
    .unwrap();
    let took = started.elapsed();
    runtime.block_on(sim.shutdown()).unwrap();
    assert!(took < Duration::from_secs(60), "took {took:?}");
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let slo = tokenpace_core::slo::preset(spec).unwrap().unwrap();
    let tpot_ms = slo.tpot_ms.unwrap();
    // The largest c whose per-stream decode gives a TPOT within the limit.
    let predicted = (1..=32u32)
        .filter(|&c| {
            1000.0 / tokenpace_core::scenario::decode_per_stream(DECODE, SLOWDOWN, f64::from(c))
                <= tpot_ms
        })
        .max()
        .unwrap();
    let found = &v["slo"];
    let max = found["max_load"].as_f64().unwrap();
    assert!(
        (max - f64::from(predicted)).abs() <= 1.0,
        "found {max}, law {predicted}: {found}"
    );
    assert_eq!(found["first_failing_load"].as_f64(), Some(max + 1.0));
    assert_eq!(found["binding_limit"], "tpot", "{found}");
    assert_eq!(found["attainment_pct"].as_f64(), Some(90.0));
    assert_eq!(found["slo"]["name"], spec);
    // Each level says how its requests fared; goodput is per second.
    for level in v["levels"].as_array().unwrap() {
        let a = &level["slo"];
        let sent = level["summary"]["counts"]["sent"].as_u64().unwrap();
        assert_eq!(a["requests"].as_u64(), Some(sent));
        assert!(a["good"].as_u64().unwrap() <= sent);
    }
}

/// A bad `--slo` is refused before any request, naming what to give.
#[test]
fn a_bad_slo_names_the_known_presets_and_the_file_format() {
    let e = capacity(&["http://127.0.0.1:9", "--slo", "mlperf-server:llama-9"]).unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("llama-3.1-8b") && text.contains("gpt-oss-120b"),
        "{text}"
    );
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("slo.toml");
    std::fs::write(&file, "ttft = 500\n").unwrap();
    let e = capacity(&["http://127.0.0.1:9", "--slo", file.to_str().unwrap()]).unwrap_err();
    let text = format!("{e:#}");
    assert!(
        text.contains("ttft_ms") && text.contains("line 1"),
        "{text}"
    );
}
