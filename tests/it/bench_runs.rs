//! `tokenpace bench` runs as users shape them against the simulator: sweeps
//! recover its timing model, Ctrl-C keeps results, scenarios and warm-up,
//! the self-check, datasets, very long prompts and the ramp.

use crate::bench_support::pairing::pair;
use crate::bench_support::{bench, records, serial, sim, truth, truth_start_unix_ns};
use std::path::Path;
use std::time::{Duration, Instant};
use tokenpace_core::summary::RunSummary;
use tokenpace_rundir::RunDir;
use tokenpace_sim::config::SimConfig;

#[test]
fn sweeps_recover_the_simulators_model() {
    let _serial = serial();
    let mut config = SimConfig::default();
    config.timing.prefill = 4000.0;
    config.timing.max_batch = 64;
    config.timing.batch_slowdown = 0.1;
    let sim = sim(config);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    // Prompt lengths: the fitted line gives back the prefill rate and the
    // fixed part of TTFT (30 ms here).
    let (_, printed) = bench(&[
        &sim.url(),
        "--prompt-tokens",
        "100,800,3200",
        "--requests",
        "3",
        "--max-tokens",
        "2",
        "--out",
        out,
        "--format",
        "json",
    ])
    .unwrap();
    let sweep: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("sweep.json")).unwrap())
            .unwrap();
    // sweep.json (the runner's) holds the levels and line the sweep printed
    // (the binary's output), without its notes.
    let printed: serde_json::Value = serde_json::from_str(&printed).unwrap();
    assert_eq!(sweep["levels"], printed["levels"]);
    assert_eq!(sweep["prefill_fit"], printed["prefill_fit"]);
    assert_eq!(
        (&sweep["self_check"], &sweep["notes"]),
        (&serde_json::Value::Null, &serde_json::json!([]))
    );
    let rate = sweep["prefill_fit"]["prefill_tok_s"].as_f64().unwrap();
    let overhead = sweep["prefill_fit"]["overhead_s"].as_f64().unwrap();
    assert!((rate / 4000.0 - 1.0).abs() < 0.05, "fitted {rate} tok/s");
    assert!(
        (overhead - 0.030).abs() < 0.005,
        "fitted overhead {overhead} s"
    );
    assert_eq!(sweep["levels"].as_array().unwrap().len(), 3);
    assert!(dir.path().join("p800").join("requests.jsonl").exists());
    // Concurrency: per-stream decode follows decode / (1 + k·(batch − 1)).
    let (_, json) = bench(&[
        &sim.url(),
        "--concurrency",
        "1,4",
        "--requests",
        "8",
        "--max-tokens",
        "40",
        "--format",
        "json",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let decode = |i: usize| {
        v["levels"][i]["summary"]["metrics"]["decode_tok_s"]["mean"]
            .as_f64()
            .unwrap()
    };
    // The same sweep as CSV: one row per level, a column per statistic.
    let (_, csv) = bench(&[
        &sim.url(),
        "--concurrency",
        "1,4",
        "--requests",
        "8",
        "--max-tokens",
        "40",
        "--format",
        "csv",
    ])
    .unwrap();
    let rows: Vec<Vec<&str>> = csv.lines().map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), 3, "{csv}");
    assert!(rows.iter().all(|r| r.len() == rows[0].len()));
    let col = rows[0]
        .iter()
        .position(|h| *h == "decode_tok_s_mean")
        .unwrap();
    assert_eq!((rows[1][0], rows[2][0]), ("c1", "c4"));
    let c1: f64 = rows[1][col].parse().unwrap();
    assert!((c1 / 200.0 - 1.0).abs() < 0.03, "{csv}");
    assert!(
        (decode(0) / 200.0 - 1.0).abs() < 0.03,
        "c1 decode {}",
        decode(0)
    );
    // Four streams share the batch most of the time: 200 / 1.3 ≈ 154 tok/s.
    assert!(
        (decode(1) / (200.0 / 1.3) - 1.0).abs() < 0.1,
        "c4 decode {}",
        decode(1)
    );
    sim.stop();
}

/// Starts `bench` as its own process against `url`: 4 streams of requests
/// for `tokens` tokens, more than it will finish, records in `out`.
fn spawn_bench(url: &str, out: &Path, tokens: u32) -> std::process::Child {
    std::process::Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["bench", url, "--concurrency", "4", "--requests", "1000"])
        .args(["--max-tokens", &tokens.to_string(), "--lang", "en", "--out"])
        .arg(out)
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap()
}

/// Waits until `out/requests.jsonl` holds `n` lines.
fn wait_for_records(out: &Path, n: usize) {
    let file = out.join("requests.jsonl");
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::fs::read_to_string(&file).map_or(0, |s| s.lines().count()) < n {
        assert!(Instant::now() < deadline, "fewer than {n} records written");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// Ctrl-C: the requests in flight finish, and then every request the
/// server received is in requests.jsonl, as it ended there, and nothing the
/// server never received is.
#[test]
fn ctrl_c_keeps_every_result() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    });
    let out = dir.path().join("run");
    let child = spawn_bench(&sim.url(), &out, 20);
    wait_for_records(&out, 8);
    let status = std::process::Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let output = child.wait_with_output().unwrap();
    let table = String::from_utf8_lossy(&output.stdout);
    // The server's record of what it received is complete once it stops.
    sim.stop();
    // 130, as a shell reports SIGINT: scripts can tell a cut-short run from
    // a complete one, and the results are still printed.
    assert_eq!(output.status.code(), Some(130), "{table}");
    assert!(table.contains("interrupted"), "{table}");
    let records = records(&out);
    let truth = truth(&truth_path);
    let pairing = pair(&records, &truth);
    assert!(pairing.unmatched.is_empty(), "{:#?}", pairing.unmatched);
    let unclaimed: Vec<&str> = pairing.unclaimed.iter().map(|t| t.id.as_str()).collect();
    assert!(
        unclaimed.is_empty(),
        "received, never recorded: {unclaimed:?}"
    );
    assert!(
        pairing.disagreements().is_empty(),
        "{:#?}",
        pairing.disagreements()
    );
    assert!(records.len() < 1000 && records.len() >= 8);
    // The summary counts what the server served.
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert!(summary.partial);
    let served = truth.values().filter(|t| t.outcome == "ok").count() as u64;
    assert_eq!(
        (summary.counts.sent, summary.counts.ok),
        (truth.len() as u64, served)
    );
}

/// SIGKILL: no chance to clean up, yet every request the server finished
/// before the kill is in requests.jsonl (each record is flushed as its
/// request ends), nothing the server never received is, and the directory
/// reads back as a partial run of exactly those records.
#[test]
fn a_killed_run_keeps_every_finished_request() {
    let _serial = serial();
    let dir = tempfile::tempdir().unwrap();
    let truth_path = dir.path().join("truth.jsonl");
    let sim = sim(SimConfig {
        truth: Some(truth_path.clone()),
        ..SimConfig::default()
    });
    let out = dir.path().join("run");
    // 4 streams of 100-token requests (30 ms + 0.5 s at 200 tok/s) start
    // together and stay in step: records come four at a time, 0.53 s apart.
    // The kill falls between two rounds, 250 ms after one: a record that is
    // not on disk by then was held back, not on its way.
    let mut child = spawn_bench(&sim.url(), &out, 100);
    wait_for_records(&out, 8);
    std::thread::sleep(Duration::from_millis(250));
    let killed_at = unix_ns();
    child.kill().unwrap(); // SIGKILL
    child.wait().unwrap();
    // Let the server see the connections close before it stops.
    std::thread::sleep(Duration::from_millis(200));
    sim.stop();
    assert!(!out.join("run.json").exists(), "killed before the summary");
    let level = RunDir::new(&out).read_level("killed".into()).unwrap();
    let truth = truth(&truth_path);
    let pairing = pair(&level.records, &truth);
    assert!(pairing.unmatched.is_empty(), "{:#?}", pairing.unmatched);
    assert!(
        pairing.disagreements().is_empty(),
        "{:#?}",
        pairing.disagreements()
    );
    // A request missing from the records was in flight at the kill, or had
    // just ended and its record was on its way to the file: MARGIN is that
    // way, with room for a loaded machine.
    const MARGIN: u64 = 100_000_000;
    let kill = killed_at - truth_start_unix_ns(&truth_path);
    let due = truth.values().filter(|t| t.end_ns + MARGIN < kill).count();
    assert!(due >= 8, "only {due} requests finished before the kill");
    let lost: Vec<String> = pairing
        .unclaimed
        .iter()
        .filter(|t| t.end_ns + MARGIN < kill)
        .map(|t| {
            format!(
                "{} ended {} ms before the kill",
                t.id,
                (kill - t.end_ns) / 1_000_000
            )
        })
        .collect();
    assert!(lost.is_empty(), "finished but not recorded: {lost:#?}");
    // What report, merge and compare see: a partial run of those records.
    assert!(level.summary.partial);
    let ok = pairing.pairs.iter().filter(|(r, _)| r.is_ok()).count() as u64;
    assert_eq!(
        (level.summary.counts.sent, level.summary.counts.ok),
        (pairing.pairs.len() as u64, ok)
    );
}

fn unix_ns() -> u64 {
    let since = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH);
    since.unwrap().as_nanos() as u64
}

#[test]
fn scenario_and_warmup() {
    let _serial = serial();
    let sim = sim(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    bench(&[
        &sim.url(),
        "--scenario",
        "smart-speaker",
        "--max-tokens",
        "8",
        "--warmup",
        "3",
        "--requests",
        "2",
        "--out",
        out,
    ])
    .unwrap();
    let summary: RunSummary =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("run.json")).unwrap())
            .unwrap();
    // The preset's prompt (100 tokens); the explicit --max-tokens wins over its 150.
    let s = &summary.settings;
    assert_eq!(
        (s.prompt_tokens, s.max_tokens, s.scenario.as_deref()),
        (Some(100), Some(8), Some("smart-speaker"))
    );
    assert_eq!(summary.counts.sent, 2, "warm-up requests are not measured");
    let warm = std::fs::read_to_string(dir.path().join("warmup.jsonl")).unwrap();
    assert_eq!(warm.lines().count(), 3, "but they are accounted for");
    let err = format!(
        "{:#}",
        bench(&[&sim.url(), "--scenario", "nope"]).unwrap_err()
    );
    assert!(
        err.contains("unknown scenario 'nope'") && err.contains("long-summary"),
        "{err}"
    );
    sim.stop();
}

/// `--self-check` measures this client against the built-in simulator and
/// reports its error at the tail: every chunk compared, and p99 errors a
/// small fraction of a token, so a client that stamps one chunk in fifty a
/// token late is reported as such and fails here.
#[test]
fn self_check_reports_the_clients_timing_error() {
    let _serial = serial();
    let sim = sim(SimConfig::default());
    let (streams, tokens) = (8, 32);
    let (_, json) = bench(&[
        &sim.url(),
        "--concurrency",
        &streams.to_string(),
        "--requests",
        &streams.to_string(),
        "--max-tokens",
        &tokens.to_string(),
        "--self-check",
        "--format",
        "json",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let check = &v["self_check"];
    assert_eq!(check["streams"], streams);
    assert_eq!(check["failed"], 0, "{check}");
    // One request per stream of --max-tokens tokens: every chunk compared.
    assert_eq!(check["chunks"], streams * tokens, "{check}");
    // The self-check's simulator streams 50 tokens/s: 20 ms a token.
    let token_ms = 1000.0 / 50.0;
    let ms = |key: &str, i: usize| check[key][i].as_f64().unwrap();
    assert!(ms("ttft_excess_ms", 0) > -0.05, "{check}");
    for key in ["ttft_excess_ms", "itl_error_ms"] {
        assert!(ms(key, 1).abs() < token_ms / 4.0, "{key}: {check}");
    }
    eprintln!("{check}");
    let (_, table) = bench(&[
        &sim.url(),
        "--requests",
        "2",
        "--max-tokens",
        "4",
        "--self-check",
        "--lang",
        "en",
    ])
    .unwrap();
    assert!(table.contains("timing error ±"), "{table}");
    // Off by default at low concurrency.
    let (_, json) = bench(&[
        &sim.url(),
        "--requests",
        "2",
        "--max-tokens",
        "4",
        "--format",
        "json",
    ])
    .unwrap();
    assert!(json.contains("\"self_check\": null"), "{json}");
    sim.stop();
}

#[test]
fn dataset_prompts_are_sent() {
    let _serial = serial();
    let sim = sim(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("chat.jsonl");
    std::fs::write(
        &data,
        "{\"prompt\":\"你好，请介绍一下你自己\"}\n{\"messages\":[{\"role\":\"system\",\"content\":\"be brief\"},{\"role\":\"user\",\"content\":\"hi\"}]}\n",
    )
    .unwrap();
    let out = dir.path().join("run");
    bench(&[
        &sim.url(),
        "--dataset",
        data.to_str().unwrap(),
        "--requests",
        "4",
        "--max-tokens",
        "4",
        "--out",
        out.to_str().unwrap(),
    ])
    .unwrap();
    let records = records(&out);
    assert_eq!(records.len(), 4);
    assert!(records.iter().all(|r| r.is_ok()));
    // The simulator counts what it was sent: the two prompts alternate.
    let mut prompts: Vec<u32> = records
        .iter()
        .map(|r| r.prompt_tokens.unwrap().count)
        .collect();
    prompts.sort_unstable();
    prompts.dedup();
    assert_eq!(prompts.len(), 2, "{prompts:?}");
    let err = format!(
        "{:#}",
        bench(&[&sim.url(), "--dataset", "/nonexistent.jsonl"]).unwrap_err()
    );
    assert!(err.contains("could not read the dataset"), "{err}");
    sim.stop();
}

#[test]
fn a_100k_token_prompt_goes_through() {
    let _serial = serial();
    let mut config = SimConfig::default();
    config.timing.prefill = 2_000_000.0;
    let sim = sim(config);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    let (_, json) = bench(&[
        &sim.url(),
        "--prompt-tokens",
        "100000",
        "--requests",
        "2",
        "--max-tokens",
        "4",
        "--out",
        out,
        "--format",
        "json",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["summary"]["counts"]["ok"], 2, "{json}");
    let prompt = v["summary"]["metrics"]["prompt_tokens"]["mean"]
        .as_f64()
        .unwrap();
    assert!((80_000.0..130_000.0).contains(&prompt), "{prompt}");
    // 30 ms fixed + 50 ms of prefill at 2 M tok/s: the client adds little.
    let ttft = v["summary"]["metrics"]["ttft_s"]["mean"].as_f64().unwrap();
    assert!(ttft < 0.2, "TTFT {ttft} s");
    sim.stop();
}

#[test]
fn ramp_up_spreads_the_first_requests() {
    let _serial = serial();
    let sim = sim(SimConfig::default());
    let dir = tempfile::tempdir().unwrap();
    bench(&[
        &sim.url(),
        "--concurrency",
        "4",
        "--requests",
        "4",
        "--max-tokens",
        "100",
        "--ramp-up",
        "0.4",
        "--out",
        dir.path().to_str().unwrap(),
    ])
    .unwrap();
    let mut sent: Vec<f64> = records(dir.path())
        .iter()
        .map(|r| r.sent_ns as f64 / 1e6)
        .collect();
    sent.sort_by(f64::total_cmp);
    // Each request (30 ms + 100 tokens at 200 tok/s) outlasts the ramp, so
    // the four streams take one request each, started 100 ms apart.
    for (i, t) in sent.iter().enumerate() {
        assert!((t - sent[0] - 100.0 * i as f64).abs() < 20.0, "{sent:?}");
    }
    sim.stop();
}
