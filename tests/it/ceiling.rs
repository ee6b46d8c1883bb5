//! The client that knows its ceiling: a run the client limited says so and
//! is not graded A; `bench --self-test` measures this machine's ceiling.

use crate::common::{fast_sim, serial, Sim};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// 200 streams in a process allowed 64 descriptors: most connections fail
/// on the client's machine, and the run says the client, not the server,
/// limited it, and is not graded A.
#[test]
fn a_client_out_of_descriptors_says_so_and_is_not_graded_a() {
    let _serial = serial();
    let sim = Sim::start(fast_sim());
    let url = sim.url();
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_tokenpace"));
    cmd.args(["bench", &url, "--concurrency", "200", "--requests", "200"])
        .args(["--max-tokens", "4", "--no-self-check", "--format", "json"])
        .args(["--lang", "en", "--quiet"]);
    // SAFETY: setrlimit is async-signal-safe; it runs in the child before exec.
    unsafe {
        cmd.pre_exec(|| {
            let limit = libc::rlimit {
                rlim_cur: 64,
                rlim_max: 64,
            };
            match libc::setrlimit(libc::RLIMIT_NOFILE, &limit) {
                0 => Ok(()),
                _ => Err(std::io::Error::last_os_error()),
            }
        });
    }
    let out = cmd.output().unwrap();
    sim.stop();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let v: serde_json::Value =
        serde_json::from_str(&stdout).unwrap_or_else(|e| panic!("{e}: {stdout}\n{stderr}"));
    let limits = v["summary"]["client"]["limits"]
        .as_array()
        .cloned()
        .unwrap_or_default();
    assert!(
        limits.iter().any(|l| l["kind"] == "descriptors"),
        "{}",
        v["summary"]["client"]
    );
    assert_ne!(v["grade"]["overall"], "A", "{}", v["grade"]);
    assert_eq!(v["grade"]["client_limited"], true);
    let notes = v["notes"][0].as_str().unwrap_or_default();
    assert!(
        notes.contains("the client, not the server, limited this run")
            && notes.contains("ulimit -n"),
        "{notes}"
    );
}

/// A run the client kept up with carries its figures and no limit.
#[test]
fn a_client_that_keeps_up_is_not_limited() {
    let _serial = serial();
    let sim = Sim::start(fast_sim());
    let url = sim.url();
    let json = crate::common::ok(&[
        "bench",
        &url,
        "--concurrency",
        "2",
        "--requests",
        "6",
        "--max-tokens",
        "4",
        "--format",
        "json",
    ]);
    sim.stop();
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    let client = &v["summary"]["client"];
    assert_eq!(client["figures"]["exhausted"], 0, "{client}");
    assert!(
        client["figures"]["cpu"]["workers"].as_u64() >= Some(1),
        "{client}"
    );
    assert!(v["grade"].get("client_limited").is_none(), "{}", v["grade"]);
}

/// `bench --self-test --max-streams 100` finishes within a minute and
/// prints the table and the verdict.
#[test]
fn self_test_prints_the_ceiling_of_this_machine() {
    let _serial = serial();
    let started = std::time::Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args([
            "bench",
            "--self-test",
            "--max-streams",
            "100",
            "--lang",
            "en",
            "--quiet",
        ])
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        started.elapsed().as_secs() < 60,
        "took {:?}",
        started.elapsed()
    );
    assert!(stdout.contains("TTFT error p99"), "{stdout}");
    let burst = stdout.lines().find(|l| l.trim_start().starts_with("burst"));
    assert!(burst.is_some_and(|l| l.contains(" 100 ")), "{stdout}");
    assert!(stdout.contains("2-token loop"), "{stdout}");
    assert!(stdout.contains("on this machine"), "{stdout}");
    let json = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args([
            "bench",
            "--self-test",
            "--max-streams",
            "100",
            "--format",
            "json",
            "--quiet",
        ])
        .output()
        .unwrap();
    let v: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(v["bursts"][0]["streams"], 100, "{v}");
    crate::common::assert_valid("bench-self-test", &String::from_utf8_lossy(&json.stdout));
}
