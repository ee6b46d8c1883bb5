//! A recording proxy on 127.0.0.1: every byte a server sends back on each
//! connection is kept, so a test can read what the server said with its
//! own parser (not the client's) and hold the client's records to it.

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};
use std::thread;

/// What one connection's server sent back, as it arrived.
type Kept = Arc<Mutex<Vec<u8>>>;

/// A running proxy.
pub struct Proxy {
    /// Its base URL.
    pub url: String,
    answers: Arc<Mutex<Vec<Kept>>>,
}

/// Copies `from` to `to` until either closes, keeping what passed in `keep`.
fn pipe(mut from: TcpStream, mut to: TcpStream, keep: Option<Kept>) {
    let mut buf = [0u8; 16384];
    while let Ok(n) = from.read(&mut buf) {
        if n == 0 || to.write_all(&buf[..n]).is_err() {
            break;
        }
        if let Some(k) = &keep {
            k.lock().unwrap().extend_from_slice(&buf[..n]);
        }
    }
    let _ = to.shutdown(std::net::Shutdown::Write);
}

impl Proxy {
    /// Forwards to `upstream` (`host:port`).
    pub fn start(upstream: &str) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let answers: Arc<Mutex<Vec<Kept>>> = Arc::default();
        let (all, upstream) = (answers.clone(), upstream.to_string());
        thread::spawn(move || {
            for client in listener.incoming().flatten() {
                let Ok(server) = TcpStream::connect(&upstream) else {
                    continue;
                };
                let kept = Arc::new(Mutex::new(Vec::new()));
                all.lock().unwrap().push(kept.clone());
                let (c2, s2) = (client.try_clone().unwrap(), server.try_clone().unwrap());
                thread::spawn(move || pipe(c2, s2, None));
                thread::spawn(move || pipe(server, client, Some(kept)));
            }
        });
        Proxy { url, answers }
    }

    /// The bodies of every HTTP response so far (chunked framing undone),
    /// each connection's in order.
    pub fn bodies(&self) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        for conn in self.answers.lock().unwrap().iter() {
            let data = conn.lock().unwrap().clone();
            let mut at = 0;
            while let Some(end) = find(&data[at..], b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&data[at..at + end]).to_ascii_lowercase();
                at += end + 4;
                if head.contains("transfer-encoding: chunked") {
                    let mut body = Vec::new();
                    while let Some(eol) = find(&data[at..], b"\r\n") {
                        let size = std::str::from_utf8(&data[at..at + eol])
                            .ok()
                            .and_then(|s| {
                                usize::from_str_radix(s.split(';').next()?.trim(), 16).ok()
                            })
                            .unwrap_or(0);
                        at += eol + 2;
                        if size == 0 {
                            at += 2;
                            break;
                        }
                        body.extend_from_slice(&data[at..(at + size).min(data.len())]);
                        at += size + 2;
                    }
                    out.push(body);
                } else {
                    let len = head
                        .lines()
                        .find_map(|l| l.strip_prefix("content-length:"))
                        .and_then(|v| v.trim().parse::<usize>().ok())
                        .unwrap_or(data.len() - at);
                    out.push(data[at..(at + len).min(data.len())].to_vec());
                    at += len;
                }
            }
        }
        out
    }
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The `data:` payloads of a server-sent-events body.
pub fn sse_data(body: &[u8]) -> Vec<String> {
    String::from_utf8_lossy(body)
        .replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|event| {
            let data: Vec<&str> = event
                .lines()
                .filter_map(|l| l.strip_prefix("data:"))
                .map(|d| d.strip_prefix(' ').unwrap_or(d))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}
