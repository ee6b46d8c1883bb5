//! Every hostile case in one place: servers that echo the key, send
//! escapes, never answer or answer forever, against the binary (`client`)
//! and the client library (`library`), data that tries to
//! write outside `--out` or into a CSV formula or a Markdown heading
//! (`outputs`), clients that attack `sim` and `serve` (`servers`).
//!
//! Here: hostile servers against the real binary: a small local server (raw
//! HTTP bytes on 127.0.0.1) echoes the API key, puts terminal escapes in its
//! model name and error messages, or answers with no token; the key must
//! appear in no file and no output, escapes must never reach the terminal
//! raw, and a bad --header must be named before any connection.

mod client;
mod library;
mod outputs;
mod servers;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

const KEY: &str = "sk-hostile-0123456789";

/// How the server answers one request, given its head (`POST /v1/…`).
type Answer = fn(&str) -> String;

/// The head of the request `buf` holds, once its body has arrived too.
fn complete_request(buf: &[u8]) -> Option<String> {
    let end = buf.windows(4).position(|w| w == b"\r\n\r\n")?;
    let head = String::from_utf8_lossy(&buf[..end]).to_string();
    let len: usize = head
        .to_ascii_lowercase()
        .lines()
        .find_map(|l| l.strip_prefix("content-length:").map(str::to_string))
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    (buf.len() >= end + 4 + len).then_some(head)
}

/// Reads one request; its head, or None when the connection closed first.
fn read_request(s: &mut TcpStream) -> Option<String> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(head) = complete_request(&buf) {
            return Some(head);
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

/// A server answering each request with `answer`, one per connection; its
/// URL and how many connections it accepted.
fn serve(answer: Answer) -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let connections = Arc::new(AtomicUsize::new(0));
    let count = connections.clone();
    std::thread::spawn(move || {
        for s in listener.incoming() {
            let Ok(mut s) = s else { return };
            count.fetch_add(1, Ordering::SeqCst);
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                if let Some(head) = read_request(&mut s) {
                    let _ = s.write_all(answer(&head).as_bytes());
                }
            });
        }
    });
    (url, connections)
}

fn reply(status: &str, content_type: &str, body: &str) -> String {
    format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
}

/// `/v1/models` lists a model whose name holds the key and terminal escapes.
fn models(head: &str) -> Option<String> {
    head.starts_with("GET /v1/models").then(|| {
        let body = format!("{{\"data\":[{{\"id\":\"m-{KEY}\\u001b]0;pwned\\u0007\"}}]}}");
        reply("200 OK", "application/json", &body)
    })
}

/// A 401 echoing the Authorization header, with escapes around it.
fn echo_key(head: &str) -> String {
    models(head).unwrap_or_else(|| {
        let auth = head
            .lines()
            .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
            .unwrap_or("")
            .to_string();
        let body =
            format!("{{\"error\":{{\"message\":\"\\u001b[31mdenied\\u0007 {auth} ({KEY})\"}}}}");
        reply("401 Unauthorized", "application/json", &body)
    })
}

/// One token, then a clean end.
fn one_token(head: &str) -> String {
    models(head).unwrap_or_else(|| {
        let events = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        reply("200 OK", "text/event-stream", events)
    })
}

/// Nothing but [DONE].
fn only_done(head: &str) -> String {
    models(head).unwrap_or_else(|| reply("200 OK", "text/event-stream", "data: [DONE]\n\n"))
}

fn bench(url: &str, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["bench", url, "--requests", "2", "--concurrency", "1"])
        .args(["--max-tokens", "8", "--prompt-tokens", "16", "--lang", "en"])
        .args(["--timeout", "10", "--first-token-timeout", "10"])
        .arg("--out")
        .arg(out)
        .args(extra)
        .env_remove("TOKENPACE_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap()
}

/// Every file under `dir`, read as (lossy) text.
fn files(dir: &Path) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            all.extend(files(&path));
        } else {
            let text = String::from_utf8_lossy(&std::fs::read(&path).unwrap()).to_string();
            all.push((path.display().to_string(), text));
        }
    }
    all
}

fn no_raw_controls(what: &str, bytes: &[u8]) {
    for bad in [0x1b_u8, 0x07, b'\r'] {
        assert!(
            !bytes.contains(&bad),
            "{what} holds byte {bad:#x}: {}",
            String::from_utf8_lossy(bytes)
        );
    }
}

#[test]
fn an_echoed_api_key_reaches_no_file_and_no_output() {
    let (url, _) = serve(echo_key);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench(&url, &out, &["--api-key", KEY]);
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr),
    );
    assert!(!o.status.success());
    assert!(!stdout.contains(KEY), "stdout: {stdout}");
    assert!(!stderr.contains(KEY), "stderr: {stderr}");
    assert!(stderr.contains("Bearer [redacted]"), "stderr: {stderr}");
    no_raw_controls("stdout", &o.stdout);
    no_raw_controls("stderr", &o.stderr);
    assert!(stderr.contains("\\x1b[31mdenied\\x07"), "stderr: {stderr}");
    let written = files(&out);
    assert!(written.iter().any(|(p, _)| p.ends_with("requests.jsonl")));
    for (path, text) in &written {
        assert!(!text.contains(KEY), "{path}: {text}");
    }
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert!(records.contains("[redacted]"), "{records}");
}

#[test]
fn a_model_name_with_terminal_escapes_is_shown_escaped() {
    let (url, _) = serve(one_token);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench(&url, &out, &["--api-key", KEY]);
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    no_raw_controls("stdout", &o.stdout);
    no_raw_controls("stderr", &o.stderr);
    assert!(
        stdout.contains("m-[redacted]\\x1b]0;pwned\\x07"),
        "{stdout}"
    );
    // Files keep the name faithfully (JSON escapes it), but never the key.
    let run = std::fs::read_to_string(out.join("run.json")).unwrap();
    assert!(run.contains("m-[redacted]\\u001b]0;pwned\\u0007"), "{run}");
    assert!(!run.contains(KEY));
}

#[test]
fn only_done_fails_as_empty_response_and_below_grade_a() {
    let (url, _) = serve(only_done);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench(&url, &out, &["--fail-below", "a"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(stderr.contains("empty_response"), "{stderr}");
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert_eq!(
        records.matches("\"empty_response\"").count(),
        2,
        "{records}"
    );
}

#[test]
fn a_bad_header_is_named_before_any_connection() {
    let (url, connections) = serve(one_token);
    let dir = tempfile::tempdir().unwrap();
    for header in ["bad name: x", "X-A: one\r\nX-Injected: two"] {
        let o = bench(&url, &dir.path().join("run"), &["--header", header]);
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success(), "{stderr}");
        assert!(stderr.contains("--header"), "{stderr}");
        assert!(!stderr.contains("could not reach"), "{stderr}");
        no_raw_controls("stderr", &o.stderr);
    }
    let o = bench(&url, &dir.path().join("run"), &["--header", "bad name: x"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(stderr.contains("'bad name'"), "{stderr}");
    assert_eq!(connections.load(Ordering::SeqCst), 0);
}
