//! What the bench binaries share: the simulator as a process of its own,
//! this process's CPU, the bare clients' raw request and the verdicts.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

/// `tokenpace sim --port 0 args…` started, and the URL it printed on its
/// first line.
pub fn start_sim<S: AsRef<std::ffi::OsStr>>(args: &[S]) -> (Child, String) {
    let mut sim = Command::new(env!("CARGO_BIN_EXE_tokenpace"))
        .args(["sim", "--port", "0"])
        .args(args)
        .stdout(Stdio::piped())
        .spawn()
        .expect("start tokenpace sim");
    let mut line = String::new();
    BufReader::new(sim.stdout.take().unwrap())
        .read_line(&mut line)
        .unwrap();
    let url = line.trim().rsplit(' ').next().unwrap().to_string();
    (sim, url)
}

/// This process's CPU seconds (user + system, to the microsecond), and
/// how many times its threads went to sleep and were woken (voluntary
/// context switches: for a reader, one per wait for readable sockets).
pub fn usage() -> (f64, u64) {
    // SAFETY: getrusage fills the zeroed struct it is given.
    let mut u: libc::rusage = unsafe { std::mem::zeroed() };
    unsafe { libc::getrusage(libc::RUSAGE_SELF, &mut u) };
    let s = |t: libc::timeval| t.tv_sec as f64 + t.tv_usec as f64 / 1e6;
    (s(u.ru_utime) + s(u.ru_stime), u.ru_nvcsw as u64)
}

/// A raw streamed chat request of `content` for `max_tokens` tokens to
/// the simulator at `addr`, as the bare clients write it (leaked: it lives
/// as long as their tasks).
pub fn raw_chat_request(
    addr: std::net::SocketAddr,
    content: &str,
    max_tokens: u32,
) -> &'static [u8] {
    let body = format!(
        r#"{{"model":"tokenpace-sim","messages":[{{"role":"user","content":"{content}"}}],"max_tokens":{max_tokens},"stream":true}}"#
    );
    let request = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nhost: {addr}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    request.leak().as_bytes()
}

/// Prints each verdict, and exits with status 1 when one was missed.
pub fn verdicts(verdicts: &[(String, bool)]) {
    let mut missed = 0;
    for (what, ok) in verdicts {
        println!("{} {what}", if *ok { "met   " } else { "MISSED" });
        missed += usize::from(!ok);
    }
    if missed > 0 {
        println!("{missed} target(s) missed");
        std::process::exit(1);
    }
}
