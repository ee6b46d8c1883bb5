//! The HTML report in a real browser: a prompt-length sweep against the
//! in-process simulator (whose model name is a `<script>` tag), written by
//! `bench --html`, opened in headless Chromium. The verdict and every
//! chart must be in the rendered DOM, no script error or blocked resource
//! may be logged, and a screenshot is saved.
//!
//! Needs Debian's `chromium` (`apt-get install chromium`); without it this
//! test fails, on purpose, rather than skip.

use crate::common::{tokenpace, Sim};
use std::path::{Path, PathBuf};
use std::process::Command;
use tokenpace_sim::config::SimConfig;

const EVIL_MODEL: &str = "<script>document.title='pwned'</script>sim";

fn chromium() -> PathBuf {
    let path = std::env::var_os("PATH").unwrap_or_default();
    for name in ["chromium", "chromium-browser"] {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return p;
            }
        }
    }
    panic!(
        "chromium is not installed, so the HTML report cannot be checked in a browser: \
         run `apt-get install -y chromium` (Debian's package) and rerun the tests"
    );
}

/// Runs headless Chromium on `page` with `extra` flags; returns stdout and
/// stderr.
fn headless(browser: &Path, page: &Path, extra: &[&str]) -> (String, String) {
    let profile = tempfile::tempdir().unwrap();
    let mut cmd = Command::new(browser);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--hide-scrollbars",
        "--enable-logging=stderr",
        "--v=0",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .args(extra)
    .arg(format!("file://{}", page.display()));
    let out = cmd.output().expect("could not start chromium");
    assert!(
        out.status.success(),
        "chromium failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    (
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// The HTML of `<section id="{id}"` up to its end.
fn section<'a>(dom: &'a str, id: &str) -> &'a str {
    let start = dom
        .find(&format!("<section id=\"{id}\""))
        .unwrap_or_else(|| panic!("no section {id} in the DOM"));
    let end = dom[start..].find("</section>").unwrap() + start;
    &dom[start..end]
}

#[test]
fn the_report_renders_in_chromium() {
    let browser = chromium();
    let dir = tempfile::tempdir().unwrap();
    let mut config = SimConfig {
        model: EVIL_MODEL.into(),
        ..SimConfig::default()
    };
    config.timing.ttft_ms = 80.0;
    config.timing.prefill = 4000.0;
    config.timing.decode = 60.0;
    config.timing.jitter_ms = 2.0;
    let sim = Sim::start(config);
    let page = dir.path().join("report.html");
    let out = dir.path().join("run");
    tokenpace(&[
        "bench",
        &sim.url(),
        "--prompt-tokens",
        "64,1024",
        "--concurrency",
        "2",
        "--requests",
        "6",
        "--max-tokens",
        "24",
        "--out",
        out.to_str().unwrap(),
        "--html",
        page.to_str().unwrap(),
        "--format",
        "json",
    ])
    .unwrap();
    sim.stop();
    let html = std::fs::read_to_string(&page).unwrap();
    assert!(
        !html.contains(EVIL_MODEL),
        "the model name went in unescaped"
    );

    let (dom, log) = headless(
        &browser,
        &page,
        &["--dump-dom", "--virtual-time-budget=3000"],
    );
    assert!(dom.contains("data-overall="), "no verdict in the DOM");
    assert_eq!(
        section(&dom, "verdict").matches("class=\"badge ").count(),
        10,
        "five badges per level (the four speeds and requests answered)"
    );
    for (id, charts) in [
        ("typing", 1),
        ("distributions", 3),
        ("prefill", 1),
        ("timeline", 1),
        ("sweep", 4),
    ] {
        let s = section(&dom, id);
        assert_eq!(s.matches("<svg").count(), charts, "charts in {id}");
        assert!(s.contains("<polyline"), "{id}: a chart without a line");
    }
    assert!(section(&dom, "typing").contains("class=\"replay\""));
    // The page's error hook writes script errors onto <html>; the model
    // name stays text and never becomes an element or retitles the page.
    let html_tag = &dom[dom.find("<html").unwrap()..];
    let html_tag = &html_tag[..html_tag.find('>').unwrap()];
    assert!(!html_tag.contains("data-error"), "script error: {html_tag}");
    assert!(
        dom.contains("&lt;script&gt;document.title"),
        "model name not shown as text"
    );
    assert!(!dom.contains("pwned</title>") && !dom.contains("<title>pwned"));
    for bad in ["Uncaught", "Content Security Policy", "Refused to", "ERR_"] {
        let hit = log.lines().find(|l| l.contains(bad));
        assert!(hit.is_none(), "chromium logged: {}", hit.unwrap_or(""));
    }

    // Screenshots, desktop and phone width, kept for a person to look at.
    let shots = Path::new(env!("CARGO_TARGET_TMPDIR"));
    for (name, size) in [
        ("report-sim.png", "1100,3400"),
        ("report-sim-phone.png", "390,2600"),
    ] {
        let png = shots.join(name);
        let _ = std::fs::remove_file(&png);
        headless(
            &browser,
            &page,
            &[
                &format!("--screenshot={}", png.display()),
                &format!("--window-size={size}"),
                "--virtual-time-budget=8000",
            ],
        );
        let bytes =
            std::fs::read(&png).unwrap_or_else(|e| panic!("no screenshot {}: {e}", png.display()));
        assert!(
            bytes.starts_with(b"\x89PNG") && bytes.len() > 20_000,
            "{}: {} bytes",
            png.display(),
            bytes.len()
        );
        eprintln!("screenshot: {}", png.display());
    }
}
