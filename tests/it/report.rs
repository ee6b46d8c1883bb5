//! `report`, `compare` and `history` on runs measured against the in-process
//! simulator (127.0.0.1 only): a deliberate 20 % slowdown must be flagged,
//! two runs of one configuration must not be, and bad input gets one clear
//! error.

use crate::common;
use crate::common::{tokenpace, Sim};
use std::path::Path;
use tokenpace::Status;
use tokenpace_sim::config::SimConfig;

use crate::common::serial;

/// Measures a simulator decoding at `decode` tok/s with simulator seed
/// `seed` into `out`: 16 requests, 4 at a time, 24 tokens each (about 2.5 s).
fn measure(decode: f64, seed: u64, out: &Path) {
    let mut config = SimConfig {
        seed,
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 150.0;
    config.timing.decode = decode;
    config.timing.jitter_ms = 1.0;
    config.timing.ttft_jitter_ms = 2.0;
    let sim = Sim::start(config);
    let url = sim.url();
    let seed = seed.to_string();
    tokenpace(&[
        "bench",
        &url,
        "--concurrency",
        "4",
        "--requests",
        "16",
        "--max-tokens",
        "24",
        "--prompt-tokens",
        "64",
        "--seed",
        &seed,
        "--out",
        out.to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    sim.stop();
}

#[test]
fn compare_flags_a_20_percent_slowdown_and_not_a_rerun() {
    let _serial = serial();
    let root = tempfile::tempdir().unwrap();
    let started = std::time::Instant::now();
    measure(40.0, 1, &root.path().join("fast"));
    measure(40.0, 2, &root.path().join("fast-again"));
    measure(32.0, 3, &root.path().join("slow"));
    let dir = root.path().to_str().unwrap();

    // The slowdown: decode 40 → 32 tok/s is 20 % worse and beyond noise.
    let (status, json) =
        tokenpace(&["compare", "--dir", dir, "fast", "slow", "--format", "json"]).unwrap();
    assert_eq!(status, Status::Ok);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let changes = v["comparisons"][0]["changes"].as_array().unwrap();
    let decode = changes
        .iter()
        .find(|c| c["metric"] == "decode_tok_s")
        .unwrap();
    let change = decode["change_pct"].as_f64().unwrap();
    let p = decode["test"]["p_value"].as_f64().unwrap();
    eprintln!("slowdown: decode change {change:.2} %, p = {p:.3e}");
    assert!((change + 20.0).abs() < 2.0, "decode change {change} %");
    assert!(p < 1e-4, "p = {p}");
    assert_eq!(decode["verdict"], "worse");
    // 32 tok/s is still tier A: a regression the tiers alone would miss.
    assert_eq!(
        (decode["base_tier"].as_str(), decode["tier"].as_str()),
        (Some("A"), Some("A"))
    );
    // Each run graded as bench graded it: 64-token prompts leave prefill
    // ungraded (bench says "not graded"), and output speed passes or fails.
    let prefill = changes.iter().find(|c| c["metric"] == "prefill_tok_s");
    assert!(
        prefill.is_some_and(|c| c["tier"].is_null() && c["base_tier"].is_null()),
        "{prefill:?}"
    );
    let speed = changes
        .iter()
        .find(|c| c["metric"] == "output_chars_s")
        .unwrap();
    assert_eq!(
        (speed["tier"].as_str(), speed["pass_fail"].as_bool()),
        (Some("A"), Some(true))
    );
    // The gate trips at 10 % and names the metric, not at 25 %.
    let (status, table) = tokenpace(&[
        "compare",
        "--dir",
        dir,
        "fast",
        "slow",
        "--fail-on-regression",
        "10",
        "--lang",
        "en",
    ])
    .unwrap();
    assert_eq!(status, Status::BelowTier, "{table}");
    assert!(table.contains("pass"), "{table}");
    // The gate line names the metric by its label and shows the change with
    // the table's sign (decode went down: negative).
    let gate = table
        .lines()
        .find(|l| l.starts_with("regression beyond 10 %:"))
        .unwrap_or_else(|| panic!("{table}"));
    let shown = gate
        .split(", ")
        .find_map(|part| part.split_once("slow decode "))
        .map(|(_, pct)| pct.to_string())
        .unwrap_or_else(|| panic!("{gate}"));
    assert!(shown.starts_with('-'), "{gate}");
    let row = table
        .lines()
        .find(|l| l.trim_start().starts_with("decode (mean"))
        .unwrap_or_else(|| panic!("{table}"));
    assert!(row.contains(&shown), "table row {row:?} vs gate {gate:?}");
    assert!(!gate.contains("decode_tok_s"), "{gate}");
    assert!(table.contains("worse"), "{table}");
    assert!(!table.contains("workloads differ"), "{table}");
    let (status, _) = tokenpace(&[
        "compare",
        "--dir",
        dir,
        "fast",
        "slow",
        "--fail-on-regression",
        "25",
    ])
    .unwrap();
    assert_eq!(status, Status::Ok);

    // The same configuration measured twice (other seeds): nothing flagged.
    let (status, json) = tokenpace(&[
        "compare",
        "--dir",
        dir,
        "fast",
        "fast-again",
        "--format",
        "json",
        "--fail-on-regression",
        "0",
    ])
    .unwrap();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    for c in v["comparisons"][0]["changes"].as_array().unwrap() {
        eprintln!(
            "rerun: {} change {:.2} %, p = {:.3}",
            c["metric"],
            c["change_pct"].as_f64().unwrap_or(f64::NAN),
            c["test"]["p_value"].as_f64().unwrap_or(f64::NAN)
        );
        assert_eq!(c["significant"], false, "{c}");
    }
    assert_eq!(status, Status::Ok);

    // Markdown for a pull request, three runs side by side.
    let (_, md) = tokenpace(&[
        "compare",
        "--dir",
        dir,
        "fast",
        "fast-again",
        "slow",
        "--format",
        "markdown",
        "--lang",
        "en",
    ])
    .unwrap();
    assert_eq!(md.matches("| metric |").count(), 2, "{md}");
    assert!(md.contains("| worse |"), "{md}");

    // History lists the three runs by name.
    let (_, hist) = tokenpace(&["history", "--dir", dir, "--format", "json"]).unwrap();
    let h: serde_json::Value = serde_json::from_str(&hist).unwrap();
    let mut names: Vec<&str> = h
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["name"].as_str().unwrap())
        .collect();
    names.sort_unstable();
    assert_eq!(names, ["fast", "fast-again", "slow"]);
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
}

#[test]
fn bad_input_gets_one_clear_error() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let err = |args: &[&str]| format!("{:#}", tokenpace(args).unwrap_err());

    let missing = dir.join("nope");
    let e = err(&["report", missing.to_str().unwrap()]);
    assert!(
        e.contains("does not exist") && e.contains("bench --out"),
        "{e}"
    );

    let empty = dir.join("empty");
    std::fs::create_dir(&empty).unwrap();
    let e = err(&["report", empty.to_str().unwrap()]);
    assert!(e.contains("holds no run.json"), "{e}");

    // A run.json without its records.
    let run = dir.join("run");
    std::fs::create_dir(&run).unwrap();
    let records: Vec<_> = (0..3)
        .map(|i| common::stream(i, 200, 10, 30, 2, Some(100)))
        .collect();
    common::write_run(&run, &records, Default::default());
    let e = err(&["report", run.to_str().unwrap()]);
    assert!(
        e.contains("requests.jsonl") && e.contains("is missing"),
        "{e}"
    );

    // A corrupt line names the file and the line.
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(
        run.join("requests.jsonl"),
        format!("{}\n{{\"id\": 1, \"sent\n{}\n", lines[0], lines[2]),
    )
    .unwrap();
    let e = err(&["report", run.to_str().unwrap()]);
    assert!(
        e.contains("line 2: not a request record") && e.contains("delete or repair"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    // Repaired, the report is written; compare names unknown runs clearly.
    std::fs::write(run.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    let html = dir.join("r.html");
    let (_, out) = tokenpace(&[
        "report",
        run.to_str().unwrap(),
        "--html",
        html.to_str().unwrap(),
    ])
    .unwrap();
    assert!(out.contains("r.html"), "{out}");
    let e = err(&["compare", "--dir", dir.to_str().unwrap(), "run", "ghost"]);
    assert!(
        e.contains("'ghost' is neither a run directory nor a run name"),
        "{e}"
    );
    let e = err(&["history", "--dir", missing.to_str().unwrap()]);
    assert!(e.contains("is not a directory"), "{e}");
}

#[test]
fn server_text_is_escaped_in_reports() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    std::fs::create_dir(&run).unwrap();
    let mut records: Vec<_> = (0..4)
        .map(|i| common::stream(i, 200, 10, 30, 2, Some(100)))
        .collect();
    records[3].error = Some(tokenpace_core::record::RequestError {
        kind: tokenpace_core::record::ErrorKind::HttpStatus,
        status: Some(500),
        message: "<img src=x onerror=alert(1)>".into(),
    });
    let settings = tokenpace_core::summary::RunSettings {
        model: Some("<script>alert('model')</script>".into()),
        target: Some("http://127.0.0.1:1/\"><script>alert(2)</script>".into()),
        ..Default::default()
    };
    common::write_run(&run, &records, settings);
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(run.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    let html_path = root.path().join("r.html");
    tokenpace(&[
        "report",
        run.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
    ])
    .unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(
        !html.contains("<script>alert") && !html.contains("<img src=x"),
        "unescaped server text"
    );
    assert!(html.contains("&lt;script&gt;alert(&#39;model&#39;)&lt;/script&gt;"));
    assert!(html.contains("&lt;img src=x onerror=alert(1)&gt;"));
    // The only script is the page's own.
    assert_eq!(html.matches("<script").count(), 1);
}

/// A chat run's page has the TTFT-by-turn chart and the per-turn table,
/// computed from `requests.jsonl`: its `run.json` here predates the
/// per-turn figures (it has none), as a run from an older version would.
#[test]
fn a_chat_run_report_shows_ttft_by_turn() {
    let root = tempfile::tempdir().unwrap();
    let run = root.path().join("run");
    std::fs::create_dir(&run).unwrap();
    // Two sessions of two turns: TTFT 400/600 ms, then 200/300 ms, the
    // second turn with 1500 of its 2000 prompt tokens cached.
    let mut records = Vec::new();
    for (turn, ttfts, prompt, cached) in [(0u32, [400, 600], 1000, 0), (1, [200, 300], 2000, 1500)]
    {
        for (session, ttft) in ttfts.into_iter().enumerate() {
            let id = records.len() as u64;
            let mut r = common::stream(id, ttft, 10, 30, 2, Some(prompt));
            r.cached_tokens = Some(cached);
            records.push(r);
            let r = records.last_mut().unwrap();
            r.turn = Some(tokenpace_core::record::TurnRef {
                session: session as u64,
                turn,
            });
        }
    }
    let old: Vec<_> = records
        .iter()
        .cloned()
        .map(|mut r| {
            r.turn = None;
            r.cached_tokens = None;
            r
        })
        .collect();
    common::write_run(&run, &old, Default::default());
    let lines: Vec<String> = records
        .iter()
        .map(|r| serde_json::to_string(r).unwrap())
        .collect();
    std::fs::write(run.join("requests.jsonl"), lines.join("\n") + "\n").unwrap();
    let html_path = root.path().join("r.html");
    let args = [
        "report",
        run.to_str().unwrap(),
        "--html",
        html_path.to_str().unwrap(),
        "--lang",
        "en",
    ];
    tokenpace(&args).unwrap();
    let html = std::fs::read_to_string(&html_path).unwrap();
    assert!(html.contains("id=\"turns\"") && html.contains("id=\"cache\""));
    assert!(html.contains("<title>time to first token by turn</title>"));
    // Turn 0: p50 0.50 s, p90 0.4 + 0.9·0.2 = 0.58 s; turn 1: 0.25, 0.29 s,
    // 75 % cached.
    assert!(
        html.contains("<td>0</td><td>2</td><td>2</td><td>0.50</td><td>0.58</td>"),
        "turn 0 row"
    );
    assert!(html.contains("<td>0.25</td><td>0.29</td>"), "turn 1 row");
    assert!(html.contains("<td>75.0 %</td>"), "turn 1 cached share");
    // Σ cached 3000 of 6000 prompt tokens.
    assert!(html.contains("<td>50.0 %</td>"), "hit rate");
}

/// A run killed outright (SIGKILL) leaves requests.jsonl with a partial last
/// line and no run.json: report, merge and compare use the requests that
/// finished, with a summary rebuilt from them and marked partial.
#[test]
fn a_killed_run_is_reported_merged_and_compared() {
    let root = tempfile::tempdir().unwrap();
    let dir = root.path();
    let lines = |ids: std::ops::Range<u64>| -> String {
        ids.map(|i| serde_json::to_string(&common::stream(i, 200, 10, 30, 2, Some(100))).unwrap())
            .map(|l| l + "\n")
            .collect()
    };
    let killed = dir.join("killed");
    std::fs::create_dir(&killed).unwrap();
    let torn = lines(3..4);
    let text = lines(0..3) + &torn[..torn.len() / 2];
    std::fs::write(killed.join("requests.jsonl"), text).unwrap();
    // A whole run of other requests, settings as unknown as the killed one's.
    let whole = dir.join("whole");
    std::fs::create_dir(&whole).unwrap();
    std::fs::write(whole.join("requests.jsonl"), lines(10..13)).unwrap();
    let records: Vec<_> = (10..13)
        .map(|i| common::stream(i, 200, 10, 30, 2, Some(100)))
        .collect();
    let settings = tokenpace_core::summary::RunSettings {
        stall_threshold_s: 0.25,
        ..Default::default()
    };
    common::write_run(&whole, &records, settings);
    let path = |p: &Path| p.to_str().unwrap().to_string();

    let html = dir.join("killed.html");
    common::ok(&["report", &path(&killed), "--html", &path(&html)]);
    let page = std::fs::read_to_string(&html).unwrap();
    assert!(
        page.contains("(interrupted)"),
        "the page says the run is partial"
    );

    let merged = dir.join("merged");
    let out = common::ok(&[
        "merge",
        &path(&killed),
        &path(&whole),
        "--out",
        &path(&merged),
        "--format",
        "json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v[0]["summary"]["counts"]["sent"], 6, "{out}");
    assert_eq!(v[0]["summary"]["partial"], true, "{out}");

    let out = common::ok(&["compare", &path(&whole), &path(&killed), "--format", "json"]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    let changes = v["comparisons"][0]["changes"].as_array().unwrap();
    // Failures count: the killed run answered all it recorded, as the whole one did.
    let answered = changes.iter().find(|c| c["metric"] == "answered_pct");
    assert_eq!(answered.unwrap()["value"], 100.0, "{out}");

    // A torn line in the middle is still an error naming file and line.
    let text = lines(0..1) + &torn[..torn.len() / 2] + "\n" + &lines(2..3);
    std::fs::write(killed.join("requests.jsonl"), text).unwrap();
    let e = format!("{:#}", tokenpace(&["report", &path(&killed)]).unwrap_err());
    assert!(
        e.contains("requests.jsonl' line 2: not a request record"),
        "{e}"
    );
}
