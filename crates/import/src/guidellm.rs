//! GuideLLM's benchmarks JSON (`guidellm run --output kind=json`): one
//! entry per benchmark, each with its requests (successful, errored,
//! incomplete) and their timings. Only the first and last token are timed.

use crate::json::{array, count, field, instant, object, parse as parse_json, seconds, text};
use crate::timed::{settings, tokenized, Timed};
use crate::Parsed;
use serde_json::{Map, Value};
use tokenpace_core::record::TokenCount;
use tokenpace_core::setting::Setting;
use tokenpace_core::text::CharCount;

/// Whether `text` is GuideLLM's: a JSON object with `benchmarks` whose
/// requests are `generative_request_stats`.
pub(crate) fn looks_like(text: &str) -> bool {
    text.trim_start().starts_with('{')
        && text.contains("\"benchmarks\"")
        && text.contains("generative_request_stats")
}

/// The requests and settings of benchmark `index` (required when the file
/// holds several).
pub(crate) fn parse(text_: &str, index: Option<usize>) -> Result<Parsed, String> {
    let root = parse_json(text_)?;
    let obj = object(&root, "the file")?;
    let benchmarks = array(field(obj, "benchmarks", "the file")?, "'benchmarks'")?;
    let b = match (benchmarks.len(), index) {
        (0, _) => return Err("'benchmarks' is empty: the run measured nothing".into()),
        (1, None) => &benchmarks[0],
        (n, None) => {
            return Err(format!(
                "it holds {n} benchmarks (a sweep): import one with {} 0 to {}",
                Setting::Benchmark,
                n - 1
            ))
        }
        (n, Some(i)) => benchmarks.get(i).ok_or_else(|| {
            format!(
                "{} {i}: it holds {n} benchmarks, numbered 0 to {}",
                Setting::Benchmark,
                n - 1
            )
        })?,
    };
    let b = object(b, "the benchmark")?;
    let groups = object(field(b, "requests", "the benchmark")?, "'requests'")?;
    let mut requests = Vec::new();
    for group in ["successful", "errored", "incomplete"] {
        let Some(list) = groups.get(group).filter(|v| !v.is_null()) else {
            continue;
        };
        for (i, r) in array(list, group)?.iter().enumerate() {
            let what = format!("requests.{group}[{i}]");
            requests.push(request(object(r, &what)?, group, &what)?);
        }
    }
    let tool_version = obj
        .get("metadata")
        .and_then(|m| m.get("guidellm_version"))
        .and_then(Value::as_str)
        .map(str::to_string);
    Ok(Parsed {
        requests,
        settings: run_settings(b),
        tool_version,
        missing: Vec::new(),
    })
}

/// One request's stats.
fn request(r: &Map<String, Value>, group: &str, what: &str) -> Result<Timed, String> {
    let name = |f: &str| format!("{what}.{f}");
    let start = instant(
        field(r, "request_start_time", what)?,
        &name("request_start_time"),
    )?;
    let mut t = Timed {
        start_s: start,
        ..Timed::default()
    };
    // GuideLLM counts tokens from the server's usage, or with its
    // tokenizer when the server sent none; the file does not say which.
    let tokens = |f: &str| -> Result<Option<TokenCount>, String> {
        r.get(f)
            .filter(|v| !v.is_null())
            .map(|v| count(v, &name(f)).map(tokenized))
            .transpose()
    };
    t.prompt_tokens = tokens("prompt_tokens")?;
    t.output_tokens = tokens("output_tokens")?;
    if let Some(v) = r.get("output") {
        t.text = text(v, &name("output"))?.map(CharCount::of);
    }
    if let Some(v) = r.get("request_latency").filter(|v| !v.is_null()) {
        t.latency_s = Some(seconds(v, &name("request_latency"))?);
    }
    if group != "successful" {
        let info = r
            .get("info")
            .and_then(|i| i.get("error"))
            .and_then(Value::as_str);
        t.error = Some(match (group, info) {
            (_, Some(e)) => e.to_string(),
            ("incomplete", None) => "incomplete: the benchmark ended while it was in flight".into(),
            _ => "errored (no message in the file)".into(),
        });
        return Ok(t);
    }
    let ttft_ms = seconds(
        field(r, "time_to_first_token_ms", what)?,
        &name("time_to_first_token_ms"),
    )?;
    t.ttft_s = Some(ttft_ms / 1e3);
    if let Some(last) = r
        .get("info")
        .and_then(|i| i.get("timings"))
        .and_then(|t| t.get("last_token_iteration"))
        .and_then(Value::as_f64)
    {
        t.last_s = Some(seconds(
            &Value::from(last - start),
            &name("info.timings.last_token_iteration"),
        )?);
    }
    Ok(t)
}

/// What the benchmark says about how it was run.
fn run_settings(b: &Map<String, Value>) -> tokenpace_core::summary::RunSettings {
    let config = b.get("config");
    let at = |path: &[&str]| {
        path.iter()
            .try_fold(config?, |v, k| v.get(*k))
            .filter(|v| !v.is_null())
    };
    let target = at(&["backend", "target"])
        .and_then(Value::as_str)
        // Never a URL with credentials in it.
        .filter(|t| !t.contains('@'))
        .map(str::to_string);
    tokenpace_core::summary::RunSettings {
        target,
        model: at(&["backend", "model"])
            .and_then(Value::as_str)
            .map(str::to_string),
        backend: at(&["backend", "request_format"])
            .and_then(Value::as_str)
            .map(str::to_string),
        concurrency: at(&["strategy", "streams"])
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok()),
        rate: at(&["strategy", "rate"])
            .and_then(Value::as_f64)
            .filter(|r| r.is_finite() && *r > 0.0),
        ..settings()
    }
}
