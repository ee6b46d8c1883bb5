//! Hostile servers and URLs against the measuring client: secrets redacted before any cut, credentials in URLs never kept, no success without visible text, a deadline on every call and a cap on every body.

use super::{bench, files, models, read_request, reply, serve, KEY};
use std::io::Write;
use std::net::{TcpListener, TcpStream};
use std::path::Path;
use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

/// The number of the request (`X-Request-ID: tp-…-N`), 0 without one.
fn request_no(head: &str) -> usize {
    head.lines()
        .find(|l| l.to_ascii_lowercase().starts_with("x-request-id:"))
        .and_then(|l| l.rsplit('-').next())
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0)
}

/// `bench` as [`bench`] runs it, with `requests` requests, `concurrency`
/// at once.
fn bench_n(url: &str, out: &Path, (requests, concurrency): (usize, u32), extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["bench", url, "--requests", &requests.to_string()])
        .args(["--concurrency", &concurrency.to_string()])
        .args(["--max-tokens", "8", "--prompt-tokens", "16", "--lang", "en"])
        .args(["--timeout", "10", "--first-token-timeout", "10", "--out"])
        .arg(out)
        .args(extra)
        .env_remove("TOKENPACE_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .output()
        .unwrap()
}

/// Every piece of `secret` of 8 characters or more.
fn pieces(secret: &str) -> Vec<&str> {
    let n = secret.len();
    (0..n)
        .flat_map(|i| (i + 8..=n).map(move |j| &secret[i..j]))
        .collect()
}

/// Fails when any 8+-character piece of `secret` is in `text`.
fn holds_no_piece(what: &str, text: &str, secret: &str) {
    for piece in pieces(secret) {
        assert!(!text.contains(piece), "{what} holds '{piece}': {text}");
    }
}

/// Where kept server text is cut, as (case, cut): a plain-text error body
/// (200 bytes), a JSON error message too long to read whole (1000 chars),
/// a short JSON error message (1000 chars of the whole message), a
/// malformed event (80 bytes), an error event's message (1000 chars).
const CUTS: [(usize, usize); 5] = [(0, 200), (1, 1000), (2, 990), (3, 80), (4, 990)];

/// Offsets tried around each cut: the key ends before it, straddles it at
/// every position, starts after it.
const SPAN: usize = KEY.len() + 2;

/// Request `n` echoes the key around one cut, at one offset.
fn echo_around_cuts(head: &str) -> String {
    models(head).unwrap_or_else(|| {
        let n = request_no(head);
        let (case, cut) = CUTS[n % CUTS.len()];
        let at = cut + (n / CUTS.len()) % (2 * SPAN) - SPAN;
        let pad = |c: &str| c.repeat(at);
        match case {
            0 => reply(
                "401 Unauthorized",
                "text/plain",
                &format!("{}{KEY} and more", pad("x")),
            ),
            1 | 2 => {
                let tail = if case == 1 {
                    "y".repeat(70_000)
                } else {
                    String::new()
                };
                let body = format!("{{\"error\":{{\"message\":\"{}{KEY}{tail}\"}}}}", pad("y"));
                reply("401 Unauthorized", "application/json", &body)
            }
            3 => reply(
                "200 OK",
                "text/event-stream",
                &format!("data: {{{}{KEY}\n\n", pad("w")),
            ),
            _ => reply(
                "200 OK",
                "text/event-stream",
                &format!(
                    "data: {{\"error\":{{\"message\":\"{}{KEY}\"}}}}\n\n",
                    pad("z")
                ),
            ),
        }
    })
}

#[test]
fn a_key_echoed_across_any_cut_is_redacted_whole() {
    let (url, _) = serve(echo_around_cuts);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench_n(&url, &out, (CUTS.len() * 2 * SPAN, 8), &["--api-key", KEY]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    holds_no_piece("stdout", &String::from_utf8_lossy(&o.stdout), KEY);
    holds_no_piece("stderr", &stderr, KEY);
    let written = files(&out);
    assert!(written.iter().any(|(p, _)| p.ends_with("run.json")));
    for (path, text) in &written {
        holds_no_piece(path, text, KEY);
    }
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert_eq!(records.lines().count(), CUTS.len() * 2 * SPAN, "{records}");
}

/// A 401 whose echo of the key is split across two writes (two reads), and
/// an error event whose message is.
fn split_echo(mut s: TcpStream, head: &str) {
    let (first, rest) = KEY.split_at(9);
    let parts: [String; 2] = if request_no(head) % 2 == 0 {
        let body = format!("denied {first}{rest} again");
        [
            format!(
                "HTTP/1.1 401 Unauthorized\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\ndenied {first}",
                body.len()
            ),
            format!("{rest} again"),
        ]
    } else {
        [
            format!(
                "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\ndata: {{\"error\":{{\"message\":\"bad {first}"
            ),
            format!("{rest}\"}}}}\n\n"),
        ]
    };
    let _ = s.write_all(parts[0].as_bytes());
    let _ = s.flush();
    std::thread::sleep(Duration::from_millis(50));
    let _ = s.write_all(parts[1].as_bytes());
}

/// A server handing each connection (after its request) to `handle`, on
/// its own thread; `/v1/models` answered by [`models`].
fn serve_with(handle: fn(TcpStream, &str)) -> (String, TcpListener) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let accepting = listener.try_clone().unwrap();
    std::thread::spawn(move || {
        for s in accepting.incoming() {
            let Ok(mut s) = s else { return };
            std::thread::spawn(move || {
                let _ = s.set_read_timeout(Some(Duration::from_secs(20)));
                let Some(head) = read_request(&mut s) else {
                    return;
                };
                match models(&head) {
                    Some(list) => drop(s.write_all(list.as_bytes())),
                    None => handle(s, &head),
                }
            });
        }
    });
    (url, listener)
}

#[test]
fn a_key_split_across_reads_is_redacted() {
    let (url, _listener) = serve_with(split_echo);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench_n(&url, &out, (4, 1), &["--api-key", KEY]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    holds_no_piece("stderr", &stderr, KEY);
    for (path, text) in files(&out) {
        holds_no_piece(&path, &text, KEY);
    }
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert_eq!(records.matches("[redacted]").count(), 4, "{records}");
}

const PASSWORD: &str = "pw-Hunter2-secret";
const QUERY_KEY: &str = "qk-ZYXWVUTSRQponm";

/// Odd requests: a 401 echoing the request line (its query) and the
/// `Authorization` header (Basic of the URL's userinfo); even ones: one
/// token. The model list answers wherever it is asked (behind a query too).
fn echo_credentials(head: &str) -> String {
    let line = head.lines().next().unwrap_or("");
    if line.starts_with("GET ") && line.contains("/v1/models") {
        return models("GET /v1/models").unwrap();
    }
    if request_no(head) % 2 == 0 {
        return super::one_token(head);
    }
    let auth = head
        .lines()
        .find(|l| l.to_ascii_lowercase().starts_with("authorization:"))
        .unwrap_or("");
    let body = format!("{{\"error\":{{\"message\":\"denied {line} {auth}\"}}}}");
    reply("401 Unauthorized", "application/json", &body)
}

/// The Basic credentials of `user:password`, as a client sends them.
fn basic(user_password: &str) -> String {
    const ABC: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for group in user_password.as_bytes().chunks(3) {
        let b = [
            group[0],
            *group.get(1).unwrap_or(&0),
            *group.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            if i <= group.len() {
                out.push(ABC[(n >> (18 - 6 * i)) as usize & 63] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn credentials_in_the_url_are_sent_but_never_shown_or_kept() {
    let (url, _) = serve(echo_credentials);
    let host = url.trim_start_matches("http://");
    let basic = basic(&format!("me:{PASSWORD}"));
    for (form, secrets) in [
        (
            format!("http://me:{PASSWORD}@{host}"),
            vec![PASSWORD, &basic],
        ),
        (
            format!("http://{host}?api_key={QUERY_KEY}"),
            vec![QUERY_KEY],
        ),
        (
            format!("http://{host}/v1?API_KEY={QUERY_KEY}&api-version=7"),
            vec![QUERY_KEY],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let out = dir.path().join("run");
        let o = bench_n(&form, &out, (4, 1), &[]);
        let (stdout, stderr) = (
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr),
        );
        let history = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
            .args(["history", "--format", "json", "--dir"])
            .arg(dir.path())
            .output()
            .unwrap();
        let history = String::from_utf8_lossy(&history.stdout);
        let run = std::fs::read_to_string(out.join("run.json"))
            .unwrap_or_else(|e| panic!("{form}: no run.json ({e}): {stderr}"));
        let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
        // Sent: the odd requests reached the server and were refused with
        // the credentials echoed, the even ones answered.
        assert_eq!(
            records.matches("\"http_status\"").count(),
            2,
            "{form}: {records}"
        );
        assert!(run.contains(&format!("\"http://{host}")), "{form}: {run}");
        assert!(history.contains(host), "{form}: {history}");
        for secret in secrets {
            for (what, text) in [
                ("stdout", &*stdout),
                ("stderr", &*stderr),
                ("run.json", &run),
                ("requests.jsonl", &records),
                ("history", &*history),
            ] {
                holds_no_piece(&format!("{form}: {what}"), text, secret);
            }
        }
    }
}

/// A stream of reasoning only: no answer text, no tool call.
fn reasoning_only(head: &str) -> String {
    models(head).unwrap_or_else(|| {
        let events = "data: {\"choices\":[{\"delta\":{\"reasoning_content\":\"let me think\"}}]}\n\ndata: {\"choices\":[{\"delta\":{\"reasoning_content\":\" harder\"}}]}\n\ndata: {\"choices\":[{\"delta\":{},\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
        reply("200 OK", "text/event-stream", events)
    })
}

#[test]
fn reasoning_without_visible_text_is_no_answer_and_below_grade_a() {
    let (url, _) = serve(reasoning_only);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench(&url, &out, &["--fail-below", "a"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(stderr.contains("no_visible_text"), "{stderr}");
    assert!(stderr.contains("reasoning only"), "{stderr}");
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert_eq!(
        records.matches("\"no_visible_text\"").count(),
        2,
        "{records}"
    );
    let run: serde_json::Value =
        serde_json::from_slice(&std::fs::read(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run["counts"]["ok"], 0, "{run}");
    assert_eq!(run["counts"]["by_kind"]["no_visible_text"], 2, "{run}");
}

/// Runs `tokenpace` with `args`, stdout and stderr to files in `dir`; kills
/// it after `limit`. Its (stdout, stderr, success, time taken, peak RSS in
/// KiB as last seen).
fn run_bounded(
    args: &[&str],
    dir: &Path,
    limit: Duration,
) -> (String, String, bool, Duration, u64) {
    let (out, err) = (dir.join("stdout"), dir.join("stderr"));
    let start = Instant::now();
    let mut child = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(args)
        .env_remove("TOKENPACE_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .stdout(Stdio::from(std::fs::File::create(&out).unwrap()))
        .stderr(Stdio::from(std::fs::File::create(&err).unwrap()))
        .spawn()
        .unwrap();
    let status_file = format!("/proc/{}/status", child.id());
    let mut peak_kib = 0;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if start.elapsed() > limit {
            let _ = child.kill();
            break child.wait().unwrap();
        }
        let hwm = std::fs::read_to_string(&status_file).ok().and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("VmHWM:"))
                .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        });
        peak_kib = peak_kib.max(hwm.unwrap_or(0));
        std::thread::sleep(Duration::from_millis(20));
    };
    let read = |p: &Path| std::fs::read_to_string(p).unwrap_or_default();
    (
        read(&out),
        read(&err),
        status.success(),
        start.elapsed(),
        peak_kib,
    )
}

#[test]
fn a_server_that_never_answers_ends_the_run_in_time() {
    // Connections are accepted (the backlog) and never answered.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", silent.local_addr().unwrap());
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let out = out.to_str().unwrap();
    for extra in [&[][..], &["--model", "m"][..]] {
        let mut args = vec!["bench", &url, "--timeout", "5", "--connect-timeout", "2"];
        args.extend([
            "--first-token-timeout",
            "3",
            "--requests",
            "2",
            "--out",
            out,
        ]);
        args.extend(extra);
        let (_, stderr, ok, took, _) = run_bounded(&args, dir.path(), Duration::from_secs(40));
        assert!(!ok, "{extra:?}: {stderr}");
        assert!(
            took < Duration::from_secs(12),
            "{extra:?}: took {took:?}: {stderr}"
        );
        assert!(
            stderr.contains("did not answer") || stderr.contains("timeout"),
            "{extra:?}: {stderr}"
        );
    }
}

/// `/metrics` sends 300 MB of comment lines, then holds the connection;
/// the API answers one token.
fn endless_metrics(mut s: TcpStream, head: &str) {
    if !head.starts_with("GET /metrics") {
        let _ = s.write_all(super::one_token(head).as_bytes());
        return;
    }
    let _ =
        s.write_all(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
    let line = "# padding padding padding padding padding padding padding padding\n".repeat(16_000);
    for _ in 0..(300 << 20) / line.len() {
        if s.write_all(line.as_bytes()).is_err() {
            return;
        }
    }
    std::thread::sleep(Duration::from_secs(30));
}

#[test]
fn an_endless_metrics_body_is_cut_and_said() {
    let (url, _listener) = serve_with(endless_metrics);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let mut args = vec!["bench", &url, "--requests", "2", "--max-tokens", "8"];
    args.extend([
        "--timeout",
        "10",
        "--server-metrics",
        "--out",
        out.to_str().unwrap(),
    ]);
    let (_, stderr, ok, took, peak_kib) = run_bounded(&args, dir.path(), Duration::from_secs(60));
    assert!(ok, "{stderr}");
    assert!(took < Duration::from_secs(30), "took {took:?}: {stderr}");
    assert!(peak_kib < 200 << 10, "peak RSS {peak_kib} KiB: {stderr}");
    assert!(stderr.contains("32 MiB"), "{stderr}");
}

/// One token, then an SSE comment every 100 ms until the client leaves.
fn one_token_then_pings(mut s: TcpStream, _head: &str) {
    let token = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";
    let _ = s.write_all(
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n{token}").as_bytes(),
    );
    for _ in 0..600 {
        std::thread::sleep(Duration::from_millis(100));
        if s.write_all(b": ping\n\n").is_err() {
            return;
        }
    }
}

#[test]
fn pings_after_the_first_token_end_at_the_idle_timeout() {
    let (url, _listener) = serve_with(one_token_then_pings);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let start = Instant::now();
    let o = bench(&url, &out, &["--idle-timeout", "1"]);
    let took = start.elapsed();
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(!o.status.success(), "{stderr}");
    assert!(took < Duration::from_secs(8), "took {took:?}: {stderr}");
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert_eq!(records.matches("\"timeout\"").count(), 2, "{records}");
    assert!(records.contains("idle"), "{records}");
}

fn slow_tokens(mut s: TcpStream, _head: &str) {
    let head = "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nConnection: close\r\n\r\n";
    let _ = s.write_all(head.as_bytes());
    for _ in 0..8 {
        let token = "data: {\"choices\":[{\"delta\":{\"content\":\"hi\"}}]}\n\n";
        if s.write_all(token.as_bytes()).is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
    let _ = s.write_all(b"data: [DONE]\n\n");
}

/// Tokens 0.3 s apart for 2.4 s, with 1 s allowed between tokens: the
/// stream's one timer fires at deadlines later tokens have moved on, and
/// must move with them rather than end the stream.
#[test]
fn tokens_slower_than_reads_but_within_the_idle_timeout_complete() {
    let (url, _listener) = serve_with(slow_tokens);
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("run");
    let o = bench(&url, &out, &["--idle-timeout", "1"]);
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{stderr}");
    let records = std::fs::read_to_string(out.join("requests.jsonl")).unwrap();
    assert!(!records.contains("\"timeout\""), "{records}");
    assert_eq!(records.matches("\"at_ns\"").count(), 16, "{records}");
}
