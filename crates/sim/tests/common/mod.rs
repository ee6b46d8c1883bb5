//! A plain HTTP/1.1 client over a raw socket, so tests see exactly what the
//! simulator wrote and when each piece arrived.
#![allow(dead_code)]

pub mod capture;

use std::path::PathBuf;
use std::time::Instant;

use serde_json::Value;
use tokenpace_sim::{SimConfig, SimHandle, SimServer};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// A simulator on port 0 with a truth file in a temporary directory.
pub struct TestSim {
    pub sim: SimHandle,
    pub truth: PathBuf,
    _dir: tempfile::TempDir,
}

impl TestSim {
    pub async fn start(edit: impl FnOnce(&mut SimConfig)) -> TestSim {
        let dir = tempfile::tempdir().unwrap();
        let truth = dir.path().join("truth.jsonl");
        let mut config = SimConfig {
            port: 0,
            truth: Some(truth.clone()),
            ..SimConfig::default()
        };
        config.timing.ttft_ms = 5.0;
        config.timing.decode = 500.0;
        config.faults.stall_ms = 30.0;
        edit(&mut config);
        let sim = SimServer::start(config).await.unwrap();
        TestSim {
            sim,
            truth,
            _dir: dir,
        }
    }

    /// Shuts down and returns the truth file's request lines (checking the
    /// typed reader accepts every line too).
    pub async fn finish(self) -> Vec<Value> {
        self.sim.shutdown().await.unwrap();
        let text = std::fs::read_to_string(&self.truth).unwrap();
        let mut lines = text
            .lines()
            .map(|l| serde_json::from_str::<Value>(l).unwrap());
        let header = lines.next().unwrap();
        assert_eq!(header["type"], "header");
        let lines: Vec<Value> = lines.collect();
        let typed = tokenpace_sim::truth::read(&self.truth).unwrap();
        assert_eq!(
            (typed.headers.len(), typed.requests.len()),
            (1, lines.len())
        );
        lines
    }
}

#[derive(Debug, PartialEq, Eq)]
pub enum End {
    /// The body ended as framed (last chunk or Content-Length).
    Complete,
    /// The server closed the connection before the body ended.
    Eof,
    /// The connection was reset.
    Reset,
}

#[derive(Debug)]
pub struct TimedResponse {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    /// The body, de-chunked.
    pub body: Vec<u8>,
    /// Each HTTP chunk (or read, for plain bodies) and when it was complete.
    pub pieces: Vec<(Instant, Vec<u8>)>,
    pub sent: Instant,
    pub end: End,
}

impl TimedResponse {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or_else(|e| {
            panic!("{e}: {}", String::from_utf8_lossy(&self.body));
        })
    }

    pub fn text(&self) -> String {
        String::from_utf8(self.body.clone()).unwrap()
    }

    /// The `data:` payloads of the SSE body, in order (comments dropped).
    pub fn events(&self) -> Vec<String> {
        sse_events(&self.text())
    }

    /// The streamed content (chat deltas or completion text) joined.
    pub fn content(&self) -> String {
        self.events()
            .iter()
            .filter(|e| e.as_str() != "[DONE]")
            .filter_map(|e| serde_json::from_str::<Value>(e).ok())
            .filter_map(|v| {
                let c = &v["choices"][0];
                c["delta"]["content"]
                    .as_str()
                    .or(c["text"].as_str())
                    .map(str::to_owned)
            })
            .collect()
    }
}

pub fn sse_events(text: &str) -> Vec<String> {
    text.replace("\r\n", "\n")
        .split("\n\n")
        .filter_map(|block| {
            let data: Vec<&str> = block
                .lines()
                .filter_map(|l| l.strip_prefix("data: "))
                .collect();
            (!data.is_empty()).then(|| data.join("\n"))
        })
        .collect()
}

pub fn chat(extra: &str) -> String {
    format!(r#"{{"model":"m","messages":[{{"role":"user","content":"hello there"}}]{extra}}}"#)
}

pub async fn post(sim: &SimHandle, path: &str, body: &str) -> TimedResponse {
    request(sim, "POST", path, &[], body.as_bytes()).await
}

pub async fn request(
    sim: &SimHandle,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> TimedResponse {
    let mut stream = TcpStream::connect(sim.addr()).await.unwrap();
    send(&mut stream, method, path, headers, body).await
}

pub async fn send(
    stream: &mut TcpStream,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> TimedResponse {
    stream.set_nodelay(true).unwrap();
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Length: {}\r\n",
        body.len()
    );
    for (n, v) in headers {
        head.push_str(&format!("{n}: {v}\r\n"));
    }
    head.push_str("\r\n");
    let mut out = head.into_bytes();
    out.extend_from_slice(body);
    let sent = Instant::now();
    stream.write_all(&out).await.unwrap();
    read_response(stream, sent).await
}

pub async fn read_response(stream: &mut TcpStream, sent: Instant) -> TimedResponse {
    let mut buf: Vec<u8> = Vec::new();
    let mut end = End::Complete;
    // Head.
    let head_len = loop {
        if let Some(i) = find(&buf, b"\r\n\r\n") {
            break i + 4;
        }
        match read_more(stream, &mut buf).await {
            Ok(0) => panic!(
                "closed before the response head: {:?}",
                String::from_utf8_lossy(&buf)
            ),
            Ok(_) => {}
            Err(e) => panic!("error before the response head: {e}"),
        }
    };
    let head = String::from_utf8(buf[..head_len].to_vec()).unwrap();
    buf.drain(..head_len);
    let mut lines = head.lines();
    let status: u16 = lines
        .next()
        .unwrap()
        .split(' ')
        .nth(1)
        .unwrap()
        .parse()
        .unwrap();
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(n, v)| (n.trim().to_ascii_lowercase(), v.trim().to_owned()))
        .collect();
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone());
    let mut body = Vec::new();
    let mut pieces = Vec::new();
    if get("transfer-encoding").is_some_and(|v| v.contains("chunked")) {
        loop {
            // Chunk size line.
            let line_end = loop {
                if let Some(i) = find(&buf, b"\r\n") {
                    break Some(i);
                }
                match read_more(stream, &mut buf).await {
                    Ok(0) => break None,
                    Ok(_) => {}
                    Err(_) => {
                        end = End::Reset;
                        break None;
                    }
                }
            };
            let Some(line_end) = line_end else {
                if end == End::Complete {
                    end = End::Eof;
                }
                break;
            };
            let size =
                usize::from_str_radix(std::str::from_utf8(&buf[..line_end]).unwrap(), 16).unwrap();
            if size == 0 {
                break;
            }
            let need = line_end + 2 + size + 2;
            while buf.len() < need {
                match read_more(stream, &mut buf).await {
                    Ok(0) => {
                        end = End::Eof;
                        break;
                    }
                    Ok(_) => {}
                    Err(_) => {
                        end = End::Reset;
                        break;
                    }
                }
            }
            if buf.len() < need {
                break;
            }
            let data = buf[line_end + 2..line_end + 2 + size].to_vec();
            body.extend_from_slice(&data);
            pieces.push((Instant::now(), data));
            buf.drain(..need);
        }
    } else {
        let len: usize = get("content-length")
            .and_then(|v| v.parse().ok())
            .unwrap_or(0);
        while buf.len() < len {
            match read_more(stream, &mut buf).await {
                Ok(0) => {
                    end = End::Eof;
                    break;
                }
                Ok(_) => pieces.push((Instant::now(), Vec::new())),
                Err(_) => {
                    end = End::Reset;
                    break;
                }
            }
        }
        body = buf[..len.min(buf.len())].to_vec();
    }
    TimedResponse {
        status,
        headers,
        body,
        pieces,
        sent,
        end,
    }
}

async fn read_more(stream: &mut TcpStream, buf: &mut Vec<u8>) -> std::io::Result<usize> {
    buf.reserve(65536);
    stream.read_buf(buf).await
}

fn find(hay: &[u8], needle: &[u8]) -> Option<usize> {
    hay.windows(needle.len()).position(|w| w == needle)
}

/// The truth line of response `id`.
pub fn line<'a>(lines: &'a [Value], id: &str) -> &'a Value {
    lines
        .iter()
        .find(|l| l["id"] == id)
        .unwrap_or_else(|| panic!("no truth line for {id}"))
}
