//! The ground-truth file: a header line, then one JSON line per request.
//!
//! Times are nanoseconds on the server's monotonic clock since it started;
//! `server_start_unix_ns` (in the header and every line) anchors them to
//! wall-clock time. One thread owns the buffered file: request tasks send
//! lines over a channel and never block on disk; the thread flushes whenever
//! the channel runs empty, and on close it drains everything first.

use std::fs::{File, OpenOptions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::sync::mpsc::{channel, Receiver, Sender};
use std::sync::{Mutex, PoisonError};
use std::thread::JoinHandle;

use anyhow::Context as _;
use serde::{Deserialize, Serialize};

use crate::faults::FaultRecord;

/// The first line the server writes to a truth file.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
pub struct TruthHeader {
    /// Always `"header"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Schema version of the lines.
    pub version: u32,
    /// Wall-clock time (unix ns) of the server's monotonic zero.
    pub server_start_unix_ns: u64,
    /// How prompt tokens are estimated.
    pub prompt_token_method: String,
    /// The configuration in force.
    pub config: serde_json::Value,
}

/// Everything the server did for one request.
#[derive(Debug, Clone, Default, Serialize, Deserialize, schemars::JsonSchema)]
pub struct RequestTruth {
    /// Always `"request"`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Response id (also the `id` field of every chunk sent).
    pub id: String,
    /// Wall-clock time (unix ns) of the server's monotonic zero.
    pub server_start_unix_ns: u64,
    /// `POST /v1/chat/completions` etc.
    pub route: String,
    /// Whether the client asked for a stream.
    pub stream: bool,
    /// When the full request had been read.
    pub received_ns: u64,
    /// When the request's last byte reached this host (the kernel's stamp),
    /// where the kernel stamps arrivals: `received_ns` minus the time the
    /// request waited for the server to read it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub arrived_ns: Option<u64>,
    /// When the response head was written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub headers_ns: Option<u64>,
    /// When the request joined the batch queue.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub queued_ns: Option<u64>,
    /// When it got a batch slot (queue time = admitted − queued).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub admitted_ns: Option<u64>,
    /// Batch size right after admission.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch_at_admission: Option<usize>,
    /// Estimated prompt tokens.
    pub prompt_tokens: u64,
    /// Of those, tokens served from the prefix cache (so not prefilled);
    /// absent when the cache is off.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cached_tokens: Option<u64>,
    /// Of those, tokens this request's prefill wrote to the prefix cache
    /// (its full blocks not cached when it was admitted); absent when the
    /// cache is off. The rest, prompt − cached − created, is what Anthropic
    /// calls `input_tokens`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub created_cache_tokens: Option<u64>,
    /// The `X-Request-ID` header's value, when one was sent (a client's id
    /// to join its records with this log).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub request_id: Option<String>,
    /// The session header's value (`session_header`), when one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub session: Option<String>,
    /// The tool call answered, when the answer was one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tool_call: Option<ToolCallTruth>,
    /// How they were estimated.
    pub prompt_token_method: String,
    /// `min_tokens` asked for (vLLM's: no end before this many tokens),
    /// when above 0.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_tokens: Option<u64>,
    /// Tokens generated (usage's count): those the chunks carried, and a
    /// tool call's tokens generated after its last delta.
    pub completion_tokens: u64,
    /// Of those, the tokens the answer reasoned with before its text (a
    /// dialect that reasons: `reasoning` chunks).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub reasoning_tokens: u64,
    /// Writes that carried generated tokens (`content`, `tool_call` or
    /// `body` chunks); each chunk's `tokens` says how many.
    #[serde(default)]
    pub token_chunks: u64,
    /// When the last token was generated (its deadline), for a stream that
    /// generated any: the finish event follows it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation_end_ns: Option<u64>,
    /// Every write of the response body, in order.
    pub chunks: Vec<ChunkTruth>,
    /// When the server was done with the request.
    pub end_ns: u64,
    /// HTTP status sent (0 when no response head was sent).
    pub status: u16,
    /// `ok`, `error`, `reset`, `truncated`, `overloaded`, `client_gone` or
    /// `shutdown`.
    pub outcome: String,
    /// `stop`, `length` or `tool_calls` when the response finished normally.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finish_reason: Option<String>,
    /// Error message sent, for error responses.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
    /// Faults injected into this response.
    pub faults: Vec<FaultRecord>,
}

/// One write of the response body (an SSE event group or a whole body).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ChunkTruth {
    /// `content`, `reasoning` (a dialect's reasoning before the answer),
    /// `tool_call` (tool-call deltas; `chars` counts the arguments'
    /// characters carried), `finish` (finish/usage/`[DONE]` events),
    /// `keep_alive`, `comment` (a dialect's comment line), `error` (an
    /// in-stream error), `malformed` or `body` (a non-streamed body).
    pub kind: String,
    /// When the model said it was due, if it carries tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub deadline_ns: Option<u64>,
    /// When the last byte had been handed to the socket (after the flush).
    pub written_ns: u64,
    /// Bytes of SSE text (or body) the client receives, without HTTP framing.
    pub bytes: usize,
    /// Tokens carried.
    pub tokens: u32,
    /// Characters of generated text carried.
    pub chars: u32,
    /// Of those, CJK characters.
    pub cjk: u32,
    /// Separate writes it took (more than 1 with `split` or `slow_loris`).
    pub writes: u32,
}

/// A tool call the server answered with.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct ToolCallTruth {
    /// The call's id (`call_…`).
    pub id: String,
    /// The function called.
    pub name: String,
    /// When the first tool-call chunk was written (absent if none was).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_chunk_ns: Option<u64>,
    /// Characters of arguments sent.
    pub argument_chars: u64,
    /// Generated tokens whose text the arguments carry; the request's
    /// other `completion_tokens` were generated after the last delta
    /// (`tools.argument_tokens`).
    #[serde(default)]
    pub delta_tokens: u64,
    /// Whether the arguments are valid JSON (false under `bad_tool_args`).
    pub valid_json: bool,
}

/// One line of a truth file, as its schema (`schemas/truth.schema.json`)
/// describes it: the header a server run starts with, or a request.
#[derive(Debug, Clone, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(untagged)]
pub enum TruthLine {
    /// The first line of each server run.
    Header(TruthHeader),
    /// Everything the server did for one request.
    Request(Box<RequestTruth>),
}

/// The writer thread behind a truth file.
#[derive(Debug)]
pub struct TruthLog {
    tx: Mutex<Sender<Msg>>,
    thread: Mutex<Option<JoinHandle<std::io::Result<()>>>>,
    path: PathBuf,
}

#[derive(Debug)]
enum Msg {
    Record(Box<RequestTruth>),
    Close,
}

impl TruthLog {
    /// Opens `path` for appending and writes the header line.
    pub fn open(path: &Path, header: &TruthHeader) -> anyhow::Result<Self> {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .with_context(|| format!("could not open truth file '{}'", path.display()))?;
        let mut out = BufWriter::with_capacity(1 << 16, file);
        serde_json::to_writer(&mut out, header)?;
        out.write_all(b"\n")?;
        out.flush()
            .with_context(|| format!("could not write truth file '{}'", path.display()))?;
        let (tx, rx) = channel();
        let thread = std::thread::Builder::new()
            .name("tokenpace-sim-truth".into())
            .spawn(move || write_lines(out, rx))?;
        Ok(TruthLog {
            tx: Mutex::new(tx),
            thread: Mutex::new(Some(thread)),
            path: path.to_owned(),
        })
    }

    /// Queues one request's line. The writer thread serializes it, so
    /// request tasks (and their deadlines) never pay for it.
    pub fn record(&self, truth: RequestTruth) {
        // Fails only after close, when no request is left to record.
        let _ = self.sender().send(Msg::Record(Box::new(truth)));
    }

    fn sender(&self) -> std::sync::MutexGuard<'_, Sender<Msg>> {
        self.tx.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Writes every line queued so far, flushes and closes the file; lines
    /// recorded later are dropped. Closing twice is harmless.
    pub fn close(&self) -> anyhow::Result<()> {
        let _ = self.sender().send(Msg::Close);
        let thread = self
            .thread
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .take();
        match thread.map(JoinHandle::join) {
            Some(Ok(r)) => {
                r.with_context(|| format!("could not write truth file '{}'", self.path.display()))
            }
            Some(Err(_)) => anyhow::bail!("truth writer thread panicked"),
            None => Ok(()),
        }
    }
}

impl Drop for TruthLog {
    fn drop(&mut self) {
        let _ = self.close();
    }
}

/// A truth file read back: every header (one per server run appended to
/// the file) and every request line, in file order.
#[derive(Debug, Clone, Default)]
pub struct TruthFile {
    /// Header lines.
    pub headers: Vec<TruthHeader>,
    /// Request lines.
    pub requests: Vec<RequestTruth>,
}

/// Reads a truth file written by the simulator.
pub fn read(path: &Path) -> anyhow::Result<TruthFile> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("could not read truth file '{}'", path.display()))?;
    let mut out = TruthFile::default();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let at = || format!("truth file '{}', line {}", path.display(), i + 1);
        if line.starts_with(r#"{"type":"header""#) {
            out.headers
                .push(serde_json::from_str(line).with_context(at)?);
        } else {
            out.requests
                .push(serde_json::from_str(line).with_context(at)?);
        }
    }
    Ok(out)
}

fn write_lines(mut out: BufWriter<File>, rx: Receiver<Msg>) -> std::io::Result<()> {
    while let Ok(msg) = rx.recv() {
        let mut next = Some(msg);
        while let Some(msg) = next.take() {
            match msg {
                Msg::Record(truth) => {
                    serde_json::to_writer(&mut out, &*truth)?;
                    out.write_all(b"\n")?;
                }
                Msg::Close => return out.flush(),
            }
            next = rx.try_recv().ok();
        }
        // The queue ran empty: make what we have visible to readers.
        out.flush()?;
    }
    out.flush()
}

fn is_zero(n: &u64) -> bool {
    *n == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_survive_close() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("t.jsonl");
        let header = TruthHeader {
            kind: "header".into(),
            version: 1,
            server_start_unix_ns: 5,
            prompt_token_method: "m".into(),
            config: serde_json::Value::Null,
        };
        let log = TruthLog::open(&path, &header).unwrap();
        for i in 0..1000 {
            log.record(RequestTruth {
                id: format!("r{i}"),
                ..RequestTruth::default()
            });
        }
        log.close().unwrap();
        let text = std::fs::read_to_string(&path).unwrap();
        assert_eq!(text.lines().count(), 1001);
        assert!(text.lines().last().unwrap().contains("\"r999\""));
        let back = read(&path).unwrap();
        assert_eq!((back.headers.len(), back.requests.len()), (1, 1000));
        assert_eq!(back.requests[999].id, "r999");
    }
}
