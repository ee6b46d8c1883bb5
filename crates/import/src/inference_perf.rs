//! inference-perf's `per_request_lifecycle_metrics.json` (written when its
//! config has `report.request_lifecycle.per_request: true`): one JSON list,
//! one entry per request with its send and end times and, for a streamed
//! answer, the time and raw JSON of every chunk that carried text.
//!
//! Format as written by kubernetes-sigs/inference-perf:
//! - `inference_perf/reportgen/base.py` (`generate_reports`: the entry's
//!   keys `start_time`, `end_time`, `request`, `response`, `info`, `error`;
//!   `summarize_requests`: the summary files' `load_summary`, `successes`,
//!   `failures`, `benchmark_time_seconds`, percentiles in seconds)
//! - `inference_perf/apis/base.py` (`InferenceInfo`, `ResponseMetrics`,
//!   `StreamedResponseMetrics`: `chunk_times`, `response_chunks`,
//!   `output_tokens`, `server_usage`; `ErrorResponseInfo`)
//! - `inference_perf/apis/streaming_parser.py` (`chunk_times`: a
//!   `time.perf_counter()` reading, seconds, per chunk with content, 1:1
//!   with `response_chunks`)
//! - `inference_perf/client/modelserver/openai_client.py` (`start_time`,
//!   `end_time`: `time.perf_counter()` around the whole request)
//! - `inference_perf/apis/chat.py` (`input_tokens`: the server's
//!   `usage.prompt_tokens`, else its tokenizer's count; `output_tokens`:
//!   its tokenizer's count of the answer)
//!
//! The summary files (`summary_lifecycle_metrics.json`,
//! `stage_N_lifecycle_metrics.json`) hold percentiles only and are refused,
//! naming the per-request file to import instead. The per-request file has
//! no stage id nor schedule: a multi-stage run's requests import as one run.

use crate::json::{array, count, field, instant, object, parse as parse_json, seconds, text};
use crate::timed::{settings, tokenized, usage, Timed};
use crate::Parsed;
use serde_json::{Map, Value};
use tokenpace_core::record::{ErrorKind, TokenCount};
use tokenpace_core::text::CharCount;

/// Whether `text` is inference-perf's: the per-request list, or a summary.
pub(crate) fn looks_like(text: &str) -> bool {
    let head = text.trim_start();
    (head.starts_with('[')
        && head.contains("\"start_time\"")
        && head.contains("\"request_metrics\""))
        || is_summary(head)
}

/// Whether `text` is one of its summary files (aggregates only).
fn is_summary(text: &str) -> bool {
    text.starts_with('{')
        && text.contains("\"benchmark_time_seconds\"")
        && text.contains("\"load_summary\"")
}

/// The requests of a `per_request_lifecycle_metrics.json`.
pub(crate) fn parse(text_: &str) -> Result<Parsed, String> {
    if is_summary(text_.trim_start()) {
        return Err("this is one of its summary files (summary_ or stage_N_lifecycle_metrics.json): percentiles only, no request, and tokenpace does not make requests up from percentiles; rerun with `report: {request_lifecycle: {per_request: true}}` in its config and import per_request_lifecycle_metrics.json".into());
    }
    let root = parse_json(text_)?;
    let list = array(&root, "the file")?;
    let mut requests = Vec::with_capacity(list.len());
    for (i, entry) in list.iter().enumerate() {
        let what = format!("entry {i}");
        requests.push(request(object(entry, &what)?, &what)?);
    }
    Ok(Parsed {
        requests,
        settings: tokenpace_core::summary::RunSettings {
            model: list.first().and_then(model),
            ..settings()
        },
        tool_version: None,
        missing: Vec::new(),
    })
}

/// The model the first request asked for: `model` of the body it sent
/// (`request`, the JSON the tool posted).
fn model(entry: &Value) -> Option<String> {
    let body: Value = serde_json::from_str(entry.get("request")?.as_str()?).ok()?;
    let model = body.get("model")?.as_str()?;
    Some(model.chars().take(200).collect())
}

/// One entry's request.
fn request(r: &Map<String, Value>, what: &str) -> Result<Timed, String> {
    let name = |f: &str| format!("{what}.{f}");
    let start_s = instant(field(r, "start_time", what)?, &name("start_time"))?;
    let end = instant(field(r, "end_time", what)?, &name("end_time"))?;
    let mut t = Timed {
        start_s,
        latency_s: Some(seconds(&Value::from(end - start_s), &name("end_time"))?),
        ..Timed::default()
    };
    let info = match r.get("info").filter(|v| !v.is_null()) {
        Some(v) => Some(object(v, &name("info"))?),
        None => None,
    };
    let response = match info.and_then(|i| i.get("response_metrics")) {
        Some(v) if !v.is_null() => Some(object(v, &name("info.response_metrics"))?),
        _ => None,
    };
    let server = response
        .and_then(|m| m.get("server_usage"))
        .and_then(Value::as_object);
    t.prompt_tokens = prompt_tokens(info, server, what)?;
    t.output_tokens = output_tokens(response, server, what)?;
    if let Some(e) = r.get("error").filter(|e| !e.is_null()) {
        let e = object(e, &name("error"))?;
        let part = |k: &str| e.get(k).and_then(Value::as_str).unwrap_or("");
        t.error = Some(format!("{}: {}", part("error_type"), part("error_msg")));
        t.error_kind = error_kind(part("error_type"));
        return Ok(t);
    }
    if let Some(m) = response.filter(|m| m.contains_key("chunk_times")) {
        chunks(&mut t, m, what)?;
    }
    Ok(t)
}

/// The kind of an `error_type` the tool names it by: `HTTP Error <status>`
/// (from the response's status) or `TimeoutError`; any other exception's
/// name says too little, so it stays a server error, named as such.
fn error_kind(error_type: &str) -> Option<(ErrorKind, Option<u16>)> {
    if let Some(code) = error_type.strip_prefix("HTTP Error ") {
        let status: u16 = code.trim().parse().ok()?;
        // The file keeps no header: a 503 with Retry-After reads as a
        // plain status, not as throttled.
        return Some((ErrorKind::of_status(status, false), Some(status)));
    }
    (error_type == "TimeoutError").then_some((ErrorKind::Timeout, None))
}

/// Prompt tokens: the server's usage when it sent one (the tool took it
/// from there), else the tool's tokenizer. A failed request's 0 is "not
/// counted".
fn prompt_tokens(
    info: Option<&Map<String, Value>>,
    server: Option<&Map<String, Value>>,
    what: &str,
) -> Result<Option<TokenCount>, String> {
    let Some(v) = info
        .and_then(|i| i.get("request_metrics"))
        .and_then(|m| m.get("text"))
        .and_then(|t| t.get("input_tokens"))
    else {
        return Ok(None);
    };
    let n = count(v, &format!("{what}.info.request_metrics.text.input_tokens"))?;
    let from_server = server.is_some_and(|s| s.get("prompt_tokens").is_some_and(|p| !p.is_null()));
    Ok((n > 0).then(|| if from_server { usage(n) } else { tokenized(n) }))
}

/// Output tokens: the server's `completion_tokens`, else the tool's count.
fn output_tokens(
    response: Option<&Map<String, Value>>,
    server: Option<&Map<String, Value>>,
    what: &str,
) -> Result<Option<TokenCount>, String> {
    if let Some(v) = server
        .and_then(|s| s.get("completion_tokens"))
        .filter(|v| !v.is_null())
    {
        let n = count(v, &format!("{what}.server_usage.completion_tokens"))?;
        return Ok(Some(usage(n)));
    }
    match response.and_then(|m| m.get("output_tokens")) {
        Some(v) => {
            let n = count(v, &format!("{what}.info.response_metrics.output_tokens"))?;
            Ok(Some(tokenized(n)))
        }
        None => Ok(None),
    }
}

/// A streamed answer's chunk times (same clock as `start_time`) and text.
fn chunks(t: &mut Timed, m: &Map<String, Value>, what: &str) -> Result<(), String> {
    let name = format!("{what}.info.response_metrics.chunk_times");
    let times = array(field(m, "chunk_times", what)?, &name)?
        .iter()
        .enumerate()
        .map(|(j, v)| instant(v, &format!("{name}[{j}]")))
        .collect::<Result<Vec<f64>, _>>()?;
    let texts = match m.get("response_chunks").filter(|v| !v.is_null()) {
        Some(v) => Some(chunk_texts(array(v, "response_chunks")?, what)?),
        None => None,
    };
    if let Some(texts) = &texts {
        if texts.len() != times.len() {
            return Err(format!(
                "{what}: {} response_chunks but {} chunk_times (the tool keeps them 1:1): the file is cut or edited",
                texts.len(),
                times.len()
            ));
        }
        t.text = Some(CharCount::of(&texts.concat()));
        t.chunk_chars = Some(texts.iter().map(|c| CharCount::of(c).chars).collect());
    }
    let Some(first) = times.first() else {
        // No chunk carried text: no first token to time.
        return Ok(());
    };
    t.ttft_s = Some(seconds(&Value::from(first - t.start_s), &name)?);
    t.gaps_s = Some(
        times
            .windows(2)
            .map(|w| seconds(&Value::from(w[1] - w[0]), &name))
            .collect::<Result<_, _>>()?,
    );
    Ok(())
}

/// The text each raw chunk carried, read as the tool reads it:
/// `choices[0].text` or `choices[0].delta.content`.
fn chunk_texts(chunks: &[Value], what: &str) -> Result<Vec<String>, String> {
    chunks
        .iter()
        .enumerate()
        .map(|(j, c)| {
            let name = format!("{what}.info.response_metrics.response_chunks[{j}]");
            let raw = text(c, &name)?.unwrap_or("");
            let data: Value = serde_json::from_str(raw).unwrap_or(Value::Null);
            let choice = data.get("choices").and_then(|c| c.get(0));
            let piece = choice
                .and_then(|c| c.get("text"))
                .and_then(Value::as_str)
                .or_else(|| {
                    choice
                        .and_then(|c| c.get("delta"))
                        .and_then(|d| d.get("content"))
                        .and_then(Value::as_str)
                });
            Ok(piece.unwrap_or("").to_string())
        })
        .collect()
}
