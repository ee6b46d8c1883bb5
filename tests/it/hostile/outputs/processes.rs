//! Runs as processes meet each other and the signals that end them: a
//! second run into a `--out` in use fails at once, a stale lock is taken
//! over, SIGTERM ends a run as Ctrl-C does (exit 143, everything written),
//! and Ctrl-C exits 130 even before the first request finished.

use crate::common::{fast_sim, Sim};
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};
use tokenpace_core::summary::RunSummary;

/// A simulator whose first token comes after `ttft_ms`.
fn slow_sim(ttft_ms: f64) -> Sim {
    let mut config = fast_sim();
    config.timing.ttft_ms = ttft_ms;
    Sim::start(config)
}

/// `tokenpace bench URL --out OUT` as a process: `requests` requests, two
/// at a time.
fn spawn_bench(url: &str, out: &Path, requests: u32) -> Child {
    Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["bench", url, "--concurrency", "2", "--max-tokens", "4"])
        .args(["--prompt-tokens", "16", "--lang", "en", "--timeout", "60"])
        .args(["--requests", &requests.to_string(), "--out"])
        .arg(out)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap()
}

/// Waits until `path` exists (the run is under way).
fn wait_for(path: &Path) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while !path.exists() {
        assert!(
            Instant::now() < deadline,
            "{} never appeared",
            path.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// The child's output, killing it if it has not ended within `limit`.
fn finish(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while child.try_wait().unwrap().is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let o = child.wait_with_output().unwrap();
            panic!(
                "still running after {limit:?}: {}",
                String::from_utf8_lossy(&o.stderr)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    child.wait_with_output().unwrap()
}

fn signal(child: &Child, sig: libc::c_int) {
    // SAFETY: kill(2) on the pid of a child this test spawned and has not
    // yet reaped.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, sig) }, 0);
}

fn summary(out: &Path) -> RunSummary {
    serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap()
}

fn lines(path: &Path) -> u64 {
    std::fs::read_to_string(path).unwrap().lines().count() as u64
}

#[test]
fn sigterm_ends_a_run_like_ctrl_c_and_exits_143() {
    let sim = slow_sim(1500.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = spawn_bench(&sim.url(), &out, 1000);
    wait_for(&out.join("requests.jsonl"));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGTERM);
    let o = finish(child, Duration::from_secs(30));
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert_eq!(o.status.code(), Some(143), "{stdout}\n{stderr}");
    assert!(stdout.contains("interrupted"), "{stdout}");
    let s = summary(&out);
    assert!(s.partial);
    assert!(
        s.counts.ok >= 2,
        "the requests in flight finish within the grace"
    );
    assert_eq!(lines(&out.join("requests.jsonl")), s.counts.sent);
    assert!(!out.join(tokenpace_rundir::LOCK).exists());
    sim.stop();
}

#[test]
fn ctrl_c_before_any_request_finished_exits_130_with_everything_written() {
    // No request can finish within the 5 s grace.
    let sim = slow_sim(30_000.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let child = spawn_bench(&sim.url(), &out, 4);
    wait_for(&out.join("requests.jsonl"));
    std::thread::sleep(Duration::from_millis(300));
    signal(&child, libc::SIGINT);
    let o = finish(child, Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(130), "{stderr}");
    assert!(stderr.contains("interrupted"), "{stderr}");
    let s = summary(&out);
    assert!(s.partial && s.counts.ok == 0, "{:?}", s.counts);
    assert_eq!(lines(&out.join("requests.jsonl")), s.counts.sent);
    sim.stop();
}

#[test]
fn a_second_run_into_the_same_out_fails_at_once_naming_the_first() {
    let sim = slow_sim(1500.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let first = spawn_bench(&sim.url(), &out, 4);
    wait_for(&out.join("requests.jsonl"));
    let started = Instant::now();
    let second = finish(spawn_bench(&sim.url(), &out, 2), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&second.stderr);
    assert_eq!(second.status.code(), Some(2), "{stderr}");
    assert!(started.elapsed() < Duration::from_secs(1), "{stderr}");
    let pid = first.id().to_string();
    assert!(
        stderr.contains(&pid) && stderr.contains("--out"),
        "{stderr}"
    );
    let o = finish(first, Duration::from_secs(30));
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let s = summary(&out);
    assert_eq!((s.counts.sent, s.counts.ok), (4, 4));
    assert_eq!(lines(&out.join("requests.jsonl")), 4);
    assert!(!out.join(tokenpace_rundir::LOCK).exists());
    sim.stop();
}

#[test]
fn a_stale_lock_is_taken_over_with_a_note() {
    let sim = slow_sim(30.0);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    std::fs::create_dir_all(&out).unwrap();
    let gone = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .arg("--version")
        .stdout(Stdio::null())
        .spawn()
        .unwrap();
    let pid = gone.id();
    finish(gone, Duration::from_secs(30));
    std::fs::write(out.join(tokenpace_rundir::LOCK), format!("{pid}\n")).unwrap();
    let o = finish(spawn_bench(&sim.url(), &out, 2), Duration::from_secs(30));
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    assert!(
        stderr.contains(&format!("process {pid}")) && stderr.contains("no longer running"),
        "{stderr}"
    );
    assert!(!out.join(tokenpace_rundir::LOCK).exists());
    sim.stop();
}
