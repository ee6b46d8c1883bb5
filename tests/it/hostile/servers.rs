//! Hostile clients against `tokenpace sim` and `tokenpace serve`: slow headers, smuggled requests, unauthenticated use; and hostile traces against the client.
//!
//! Both servers read HTTP through `tokenpace_wire`: a request must arrive
//! whole within the read timeout (408, then the connection closes), a head
//! whose body length is ambiguous is a 400 that closes the connection, and
//! `serve --api-key` (or `TOKENPACE_SERVE_API_KEY`) guards every route but
//! `/health`. Everything here talks to 127.0.0.1 and ends by itself.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use tokenpace_serve::{
    FinishReason, Finished, GenEvent, GenerationRequest, Generator, ServeConfig, SubmitError,
};
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver};

use crate::common;

const SERVE_KEY: &str = "sk-serve-hostile-0123456789";
const SIM_KEY: &str = "sk-sim-hostile-9876543210";

/// The host and port of a base URL (`http://127.0.0.1:PORT`).
fn addr(url: &str) -> SocketAddr {
    url.trim_start_matches("http://")
        .trim_end_matches('/')
        .parse()
        .unwrap()
}

/// Writes `bytes` on a new connection and reads until the server closes it
/// (or 5 s pass): everything it answered, and whether it closed.
fn exchange(at: SocketAddr, bytes: &[u8]) -> (String, bool) {
    let mut s = TcpStream::connect(at).unwrap();
    s.set_read_timeout(Some(Duration::from_secs(5))).unwrap();
    s.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let closed = s.read_to_end(&mut out).is_ok();
    (String::from_utf8_lossy(&out).into_owned(), closed)
}

/// One request with `headers` and `body`; the status and the whole answer.
fn request(at: SocketAddr, method: &str, path: &str, headers: &str, body: &str) -> (u16, String) {
    let raw = format!(
        "{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n{headers}Content-Length: {}\r\n\r\n{body}",
        body.len()
    );
    let (text, _) = exchange(at, raw.as_bytes());
    let status = text.get(9..12).and_then(|s| s.parse().ok()).unwrap_or(0);
    (status, text)
}

/// Answers every generation with "ok".
struct Canned;

impl Generator for Canned {
    fn model_name(&self) -> &str {
        "canned"
    }

    fn submit(&self, _: GenerationRequest) -> Result<UnboundedReceiver<GenEvent>, SubmitError> {
        let (tx, rx) = unbounded_channel();
        let _ = tx.send(GenEvent::Started { prompt_tokens: 1 });
        let _ = tx.send(GenEvent::Token("ok".into()));
        let _ = tx.send(GenEvent::Done(Finished {
            reason: FinishReason::Stop,
            prompt_tokens: 1,
            cached_tokens: None,
            completion_tokens: 1,
            queue_ms: 0.0,
            prompt_ms: 0.0,
            predicted_ms: 0.0,
        }));
        Ok(rx)
    }

    fn load(&self) -> (usize, usize) {
        (0, 0)
    }
}

/// `tokenpace_serve` over [`Canned`] on 127.0.0.1, on its own runtime
/// (dropping both stops it).
fn serve(config: ServeConfig) -> (tokio::runtime::Runtime, tokenpace_serve::ServeHandle) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap();
    let handle = runtime.block_on(tokenpace_serve::start(Arc::new(Canned), config));
    (runtime, handle.unwrap())
}

/// A connection that sends a request head one byte every 100 ms and never
/// finishes it (or, `silent`, sends nothing): how long until the server
/// closed it (None: still open after 6 s) and what it answered.
fn slow_client(at: SocketAddr, silent: bool) -> (Option<Duration>, String) {
    use std::io::ErrorKind::{TimedOut, WouldBlock};
    let start = Instant::now();
    let mut s = TcpStream::connect(at).unwrap();
    s.set_read_timeout(Some(Duration::from_millis(100)))
        .unwrap();
    let head = b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ";
    let (mut got, mut buf) = (Vec::new(), [0u8; 4096]);
    let mut closed = None;
    for i in 0usize.. {
        if !silent {
            // The server may have closed already: a failed write is fine.
            let _ = s.write_all(&[*head.get(i).unwrap_or(&b'a')]);
        }
        match s.read(&mut buf) {
            Ok(n) if n > 0 => got.extend_from_slice(&buf[..n]),
            Err(e) if matches!(e.kind(), WouldBlock | TimedOut) => {}
            _ => closed = Some(start.elapsed()),
        }
        if closed.is_some() || start.elapsed() > Duration::from_secs(6) {
            break;
        }
    }
    (closed, String::from_utf8_lossy(&got).into_owned())
}

#[test]
fn slowloris_connections_are_closed_after_the_read_deadline_while_others_are_served() {
    let mut config = common::fast_sim();
    config.limits.read_timeout_ms = 1000;
    let sim = common::Sim::start(config);
    let at = addr(&sim.url());
    let slow: Vec<_> = (0..48)
        .map(|i| std::thread::spawn(move || slow_client(at, i % 6 == 0)))
        .collect();
    // A normal client is served all along.
    for _ in 0..6 {
        std::thread::sleep(Duration::from_millis(150));
        let t = Instant::now();
        let (status, text) = request(at, "GET", "/health", "", "");
        assert_eq!(status, 200, "{text}");
        assert!(t.elapsed() < Duration::from_secs(1), "{:?}", t.elapsed());
    }
    for (i, c) in slow.into_iter().enumerate() {
        let (closed, text) = c.join().unwrap();
        let closed = closed.unwrap_or_else(|| {
            panic!("slow connection {i} was still open after 6 s (read timeout 1 s): {text:?}")
        });
        assert!(
            (Duration::from_millis(900)..Duration::from_secs(4)).contains(&closed),
            "connection {i} closed after {closed:?}"
        );
        let timed_out = text.starts_with("HTTP/1.1 408 Request Timeout\r\n");
        assert!(
            timed_out && text.contains("Connection: close\r\n"),
            "{i}: {text}"
        );
    }
    sim.stop();
}

/// Heads whose body length a proxy and the server could read differently.
const SMUGGLING: [&str; 7] = [
    "Content-Length: 30\r\nContent-Length: 0\r\n",
    "Content-Length: 0\r\nContent-Length: 30\r\n",
    "Content-Length: 0, 30\r\n",
    "Content-Length: 0\r\nTransfer-Encoding: chunked\r\n",
    "Transfer-Encoding: gzip\r\nContent-Length: 0\r\n",
    "Transfer-Encoding: identity\r\n",
    "Content-Length: +0\r\n",
];

/// Each smuggling head, with a second request right behind it: one 400,
/// then the connection closes with the second unanswered.
fn refuses_smuggling(at: SocketAddr, server: &str) {
    for head in SMUGGLING {
        let raw = format!(
            "GET /health HTTP/1.1\r\nHost: x\r\n{head}\r\n0\r\n\r\nGET /v1/models HTTP/1.1\r\nHost: x\r\n\r\n"
        );
        let (text, closed) = exchange(at, raw.as_bytes());
        // Each response head names the server once.
        let answers = text.matches("\r\nServer: tokenpace\r\n").count();
        assert!(
            text.starts_with("HTTP/1.1 400 Bad Request\r\n") && answers == 1 && closed,
            "{server}, {head:?}: {answers} answers (closed: {closed}):\n{text}"
        );
        assert!(text.contains("Connection: close\r\n"), "{text}");
    }
    // One length said twice is still one length, and the connection stays.
    let raw = "GET /health HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\nContent-Length: 0\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
    let (text, _) = exchange(at, raw.as_bytes());
    let answers = text.matches("HTTP/1.1 200 OK").count();
    assert_eq!(answers, 2, "{server}: {text}");
}

#[test]
fn smuggled_requests_get_400_and_nothing_after_them_is_answered() {
    let sim = common::Sim::start(common::fast_sim());
    refuses_smuggling(addr(&sim.url()), "sim");
    sim.stop();
    let (_runtime, serve) = serve(ServeConfig::default());
    refuses_smuggling(serve.addr(), "serve");
}

/// Every route of `serve` but `/health`, with a body it accepts.
#[rustfmt::skip]
const SERVE_ROUTES: [(&str, &str, &str); 8] = [
    ("POST", "/v1/chat/completions", r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#),
    ("POST", "/v1/completions", r#"{"prompt":"hi","max_tokens":2}"#),
    ("POST", "/v1/responses", r#"{"input":"hi","max_output_tokens":2}"#),
    ("POST", "/v1/messages", r#"{"model":"m","max_tokens":2,"messages":[{"role":"user","content":"hi"}]}"#),
    ("GET", "/v1/models", ""),
    ("GET", "/metrics", ""),
    ("POST", "/tokenize", r#"{"prompt":"hi"}"#),
    ("GET", "/nowhere", ""),
];

#[test]
fn serve_asks_for_its_key_on_every_route_but_health() {
    let (_runtime, serve) = serve(ServeConfig {
        api_key: Some(SERVE_KEY.into()),
        ..ServeConfig::default()
    });
    let at = serve.addr();
    let bearer = format!("Authorization: Bearer {SERVE_KEY}\r\n");
    let x_api_key = format!("x-api-key: {SERVE_KEY}\r\n");
    for (method, path, body) in SERVE_ROUTES {
        let wrong_keys = [
            "",
            "Authorization: Bearer sk-serve-h\r\n",
            "x-api-key: no\r\n",
        ];
        for wrong in wrong_keys {
            let (status, text) = request(at, method, path, wrong, body);
            assert_eq!(status, 401, "{method} {path} with {wrong:?}: {text}");
            let json = text.split("\r\n\r\n").nth(1).unwrap_or("");
            let v: serde_json::Value = serde_json::from_str(json).unwrap();
            if path == "/v1/messages" {
                assert_eq!(v["type"], "error", "{text}");
                assert_eq!(v["error"]["type"], "authentication_error", "{text}");
            } else {
                assert_eq!(v["error"]["code"], "invalid_api_key", "{text}");
            }
            assert!(!text.contains("sk-serve"), "{text}");
        }
        for good in [&bearer, &x_api_key] {
            let (status, text) = request(at, method, path, good, body);
            // Past the key: the canned generator has no tokenizer (a
            // refusal of its own), and /nowhere is nowhere.
            match path {
                "/tokenize" => assert!(!text.contains("invalid_api_key"), "{text}"),
                "/nowhere" => assert_eq!(status, 404, "{text}"),
                _ => assert_eq!(status, 200, "{method} {path}: {text}"),
            }
        }
    }
    let (status, text) = request(at, "GET", "/health", "", "");
    assert_eq!(status, 200, "{text}");
}

/// A tokenpace command run as its own process with `env` (stderr to a
/// file), its first line of output read.
struct Process {
    child: Child,
    stdout: BufReader<std::process::ChildStdout>,
    stderr: tempfile::NamedTempFile,
    first_line: String,
}

impl Process {
    fn start(args: &[&str], env: &[(&str, &str)]) -> Process {
        let stderr = tempfile::NamedTempFile::new().unwrap();
        let mut command = Command::new(env!("CARGO_BIN_EXE_tokenpace"));
        command.args(args).stdout(Stdio::piped());
        command.stderr(stderr.reopen().unwrap());
        for var in ["TOKENPACE_SIM_API_KEY", "TOKENPACE_SERVE_API_KEY"] {
            command.env_remove(var);
        }
        let mut child = command.envs(env.iter().copied()).spawn().unwrap();
        let mut first_line = String::new();
        let mut stdout = BufReader::new(child.stdout.take().unwrap());
        stdout.read_line(&mut first_line).unwrap();
        Process {
            child,
            stdout,
            stderr,
            first_line,
        }
    }

    /// The base URL from the first line.
    fn addr(&self) -> SocketAddr {
        let from = self
            .first_line
            .find("http://")
            .unwrap_or_else(|| panic!("no URL in the first line: {:?}", self.first_line));
        let url = self.first_line[from..].split_whitespace().next().unwrap();
        addr(url.trim_end_matches("/v1"))
    }

    /// Stops it: everything it wrote on stdout and stderr.
    fn stop(mut self) -> String {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let mut out = self.first_line.clone();
        let _ = self.stdout.read_to_string(&mut out);
        out + &std::fs::read_to_string(self.stderr.path()).unwrap_or_default()
    }
}

impl Drop for Process {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn sim_takes_its_key_from_the_environment_and_never_shows_it() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let mut args: Vec<&str> = "sim --host 127.0.0.1 --port 0 --ttft-ms 0 --truth"
        .split(' ')
        .collect();
    args.push(truth.to_str().unwrap());
    let sim = Process::start(&args, &[("TOKENPACE_SIM_API_KEY", SIM_KEY)]);
    let at = sim.addr();
    let body = r#"{"messages":[{"role":"user","content":"hi"}],"max_tokens":2}"#;
    let (status, text) = request(at, "POST", "/v1/chat/completions", "", body);
    assert_eq!(
        status, 401,
        "the key in TOKENPACE_SIM_API_KEY is asked for: {text}"
    );
    let nope = "Authorization: Bearer nope\r\n";
    let (status, text) = request(at, "GET", "/v1/models", nope, "");
    assert_eq!(status, 401, "{text}");
    let auth = format!("Authorization: Bearer {SIM_KEY}\r\n");
    let (status, text) = request(at, "POST", "/v1/chat/completions", &auth, body);
    assert_eq!(status, 200, "{text}");
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", sim.child.id())).unwrap_or_default();
    assert!(!String::from_utf8_lossy(&cmdline).contains(SIM_KEY));
    let output = sim.stop();
    assert!(!output.contains(SIM_KEY), "{output}");
    let truth = std::fs::read_to_string(&truth).unwrap();
    assert!(
        truth.contains("<redacted>") && !truth.contains(SIM_KEY),
        "{truth}"
    );
}

#[cfg(feature = "engine")]
#[test]
fn serve_takes_its_key_from_the_environment_or_the_flag_and_never_shows_it() {
    let model = tokenpace_models::cache_dir(None)
        .join(tokenpace_models::DEFAULT_PACKAGE)
        .join("SmolLM2-135M-Instruct.Q4_1.gguf");
    assert!(
        model.is_file(),
        "the default model is not cached: run `cargo run -- models --fetch`"
    );
    let model = model.to_str().unwrap();
    let args = |extra: &'static [&'static str]| {
        let mut a = vec!["serve", "--model", model];
        a.extend("--host 127.0.0.1 --port 0 --ctx-size 256 --parallel 1 --threads 1".split(' '));
        a.extend(extra);
        a
    };
    for (extra, env) in [
        (&[][..], &[("TOKENPACE_SERVE_API_KEY", SERVE_KEY)][..]),
        (&["--api-key", SERVE_KEY][..], &[][..]),
    ] {
        let serve = Process::start(&args(extra), env);
        let at = serve.addr();
        let (status, text) = request(at, "GET", "/metrics", "", "");
        assert_eq!(status, 401, "/metrics needs the key: {text}");
        let (status, text) = request(at, "GET", "/v1/models", "x-api-key: nope\r\n", "");
        assert_eq!(status, 401, "{text}");
        let auth = format!("Authorization: Bearer {SERVE_KEY}\r\n");
        let (status, text) = request(at, "GET", "/metrics", &auth, "");
        assert_eq!(status, 200, "{text}");
        let (status, text) = request(at, "GET", "/health", "", "");
        assert_eq!(status, 200, "{text}");
        let output = serve.stop();
        assert!(!output.contains(SERVE_KEY), "{output}");
        assert!(
            !output.contains("beyond this machine"),
            "loopback, a key: {output}"
        );
    }
}

/// A Mooncake trace of one request a second with these input lengths.
fn trace(dir: &std::path::Path, inputs: &[u64]) -> String {
    let path = dir.join("trace.jsonl");
    let lines: String = inputs
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let at = i * 1000;
            format!("{{\"timestamp\": {at}, \"input_length\": {n}, \"output_length\": 1}}\n")
        })
        .collect();
    std::fs::write(&path, lines).unwrap();
    path.to_str().unwrap().to_string()
}

#[test]
fn a_trace_line_beyond_the_longest_context_is_refused_before_anything_is_sent() {
    let dir = tempfile::tempdir().unwrap();
    let truth = dir.path().join("truth.jsonl");
    let mut config = common::fast_sim();
    config.truth = Some(truth.clone());
    let sim = common::Sim::start(config);
    let path = trace(dir.path(), &[100, 2_000_000, 100]);
    let out = dir.path().join("run");
    let url = sim.url();
    let out = out.to_str().unwrap();
    let args = ["bench", &url[..], "--trace", &path[..], "--out", out];
    let e = match common::tokenpace(&args) {
        Ok((status, text)) => panic!("a 2 000 000-token line was replayed ({status:?}):\n{text}"),
        Err(e) => format!("{e:#}"),
    };
    assert!(
        e.contains("line 2 column 'input_length'")
            && e.contains("2000000")
            && e.contains("1048576"),
        "{e}"
    );
    sim.stop();
    let truth = std::fs::read_to_string(&truth).unwrap();
    assert!(!truth.contains("\"type\":\"request\""), "{truth}");
}

/// The peak resident memory of `command` (kB), which must succeed.
#[allow(clippy::zombie_processes, reason = "wait4 reaps it, with its rusage")]
fn peak_rss_kb(mut command: Command) -> i64 {
    let child = command.stdout(Stdio::null()).spawn().unwrap();
    let pid = child.id() as libc::pid_t;
    let (mut status, mut usage) = (0, unsafe { std::mem::zeroed::<libc::rusage>() });
    // wait4 reaps this child alone and gives its own rusage (std's wait does not).
    assert_eq!(unsafe { libc::wait4(pid, &mut status, 0, &mut usage) }, pid);
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "{status}"
    );
    usage.ru_maxrss
}

/// The peak memory a 2^20-token trace request (≈ 4.4 MB of text) adds to
/// a `bench --trace` against the simulator, in MB, as `server_kind` builds
/// it: `other` estimates its length, `tokenpace` cuts it on `/tokenize`.
fn longest_prompt_cost_mb(server_kind: &str) -> f64 {
    let _serial = common::serial();
    let mut config = common::fast_sim();
    config.timing.ttft_ms = 0.0;
    config.timing.prefill = 1e9;
    config.limits.max_body_bytes = 64 << 20;
    let sim = common::Sim::start(config);
    let dir = tempfile::tempdir().unwrap();
    let mut peak = Vec::new();
    for input in [1u64, 1 << 20] {
        let mut bench = Command::new(env!("CARGO_BIN_EXE_tokenpace"));
        let trace = trace(dir.path(), &[input]);
        bench.args(["bench", &sim.url()[..], "--trace", &trace[..]]);
        bench.args(["--timeout", "60", "--server-kind", server_kind, "--out"]);
        bench.arg(dir.path().join(format!("run{input}")));
        peak.push(peak_rss_kb(bench));
    }
    sim.stop();
    (peak[1] - peak[0]) as f64 / 1024.0
}

/// The longest prompt a trace may ask for is built and sent holding a few
/// times its size (about 17 MB here), not gigabytes.
#[test]
fn the_longest_trace_prompt_costs_a_few_times_its_size() {
    let mb = longest_prompt_cost_mb("other");
    assert!(mb < 30.0, "a 2^20-token prompt cost {mb:.1} MB");
}

/// The same prompt cut to its exact length on the server's `/tokenize`.
#[test]
fn the_longest_trace_prompt_cut_on_tokenize_costs_a_few_times_its_size() {
    let mb = longest_prompt_cost_mb("tokenpace");
    assert!(mb < 30.0, "a 2^20-token prompt cost {mb:.1} MB");
}
