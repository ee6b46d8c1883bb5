//! AIPerf's `profile_export.jsonl`: one JSON line per request, its
//! `metadata` (clock readings in ns) and `metrics` (each a value and a
//! unit), inter-chunk gaps included. The aggregate
//! `profile_export_aiperf.json` beside it, when there, gives the tool's
//! version and the run's settings; alone it holds no request to import.

use crate::json::{array, count, field, instant_ns, object, seconds};
use crate::timed::{settings, tokenized, usage, Timed};
use crate::Parsed;
use serde_json::{Map, Value};
use tokenpace_core::record::TokenCount;

/// The aggregate file AIPerf writes beside `profile_export.jsonl`.
pub(crate) const AGGREGATE: &str = "profile_export_aiperf.json";

/// Whether `text` is AIPerf's: per-request lines, or its aggregate.
pub(crate) fn looks_like(text: &str) -> bool {
    let head = text.trim_start();
    head.starts_with('{')
        && ((head.contains("\"request_start_ns\"") && head.contains("\"metrics\""))
            || head.contains("\"aiperf_version\""))
}

/// The requests of `text` (the JSONL); `aggregate` is the text of the
/// aggregate file beside it, if any.
pub(crate) fn parse(text: &str, aggregate: Option<&str>) -> Result<Parsed, String> {
    if text.trim_start().starts_with('{')
        && text.contains("\"aiperf_version\"")
        && !text.contains("\"request_start_ns\"")
    {
        return Err(format!("this is the aggregate {AGGREGATE}, which holds no per-request times: import profile_export.jsonl from the same directory"));
    }
    let mut requests = Vec::new();
    for (i, line) in text
        .lines()
        .enumerate()
        .filter(|(_, l)| !l.trim().is_empty())
    {
        let what = format!("line {}", i + 1);
        let v: Value = serde_json::from_str(line).map_err(|e| {
            format!("{what} is not JSON ({e}): give the profile_export.jsonl AIPerf wrote")
        })?;
        requests.push(request(object(&v, &what)?, &what)?);
    }
    let agg: Option<Value> = aggregate.and_then(|a| serde_json::from_str(a).ok());
    let agg = agg.as_ref().and_then(Value::as_object);
    Ok(Parsed {
        requests,
        tool_version: agg
            .and_then(|a| a.get("aiperf_version"))
            .and_then(Value::as_str)
            .map(str::to_string),
        settings: run_settings(agg),
        missing: Vec::new(),
    })
}

/// A metric's value in seconds (AIPerf writes ms, ns or s, with the unit).
fn metric_seconds(m: &Map<String, Value>, name: &str, what: &str) -> Result<Option<f64>, String> {
    let Some(metric) = m.get(name).filter(|v| !v.is_null()) else {
        return Ok(None);
    };
    let value = field(
        object(metric, name)?,
        "value",
        &format!("{what} metrics.{name}"),
    )?;
    let scale = unit_scale(metric, name, what)?;
    Ok(Some(
        seconds(value, &format!("{what} metrics.{name}"))? * scale,
    ))
}

/// Seconds per unit of `metric`.
fn unit_scale(metric: &Value, name: &str, what: &str) -> Result<f64, String> {
    match metric.get("unit").and_then(Value::as_str) {
        Some("ms") => Ok(1e-3),
        Some("ns") => Ok(1e-9),
        Some("us") => Ok(1e-6),
        Some("s" | "sec") => Ok(1.0),
        other => Err(format!(
            "{what} metrics.{name} has unit {other:?}: expected ms, us, ns or s"
        )),
    }
}

/// One line's request.
fn request(r: &Map<String, Value>, what: &str) -> Result<Timed, String> {
    let meta = object(field(r, "metadata", what)?, &format!("{what} metadata"))?;
    let start_s = instant_ns(
        field(meta, "request_start_ns", what)?,
        &format!("{what} metadata.request_start_ns"),
    )?;
    let empty = Map::new();
    let m = match r.get("metrics") {
        Some(v) => object(v, &format!("{what} metrics"))?,
        None => &empty,
    };
    let mut t = Timed {
        start_s,
        latency_s: metric_seconds(m, "request_latency", what)?,
        ..Timed::default()
    };
    let tokens =
        |name: &str, as_count: fn(u32) -> TokenCount| -> Result<Option<TokenCount>, String> {
            m.get(name)
                .and_then(|v| v.get("value"))
                .map(|v| count(v, &format!("{what} metrics.{name}")).map(as_count))
                .transpose()
        };
    // The server's usage first; AIPerf's own tokenizer count otherwise.
    t.prompt_tokens =
        tokens("usage_prompt_tokens", usage)?.or(tokens("input_sequence_length", tokenized)?);
    t.output_tokens =
        tokens("usage_completion_tokens", usage)?.or(tokens("output_sequence_length", tokenized)?);
    if let Some(e) = r.get("error").filter(|e| !e.is_null()) {
        let message = e.get("message").and_then(Value::as_str).map(str::to_string);
        t.error = Some(message.unwrap_or_else(|| e.to_string()));
        return Ok(t);
    }
    t.ttft_s = metric_seconds(m, "time_to_first_token", what)?;
    if let Some(metric) = m.get("inter_chunk_latency").filter(|v| !v.is_null()) {
        let scale = unit_scale(metric, "inter_chunk_latency", what)?;
        let name = format!("{what} metrics.inter_chunk_latency");
        let gaps = array(field(object(metric, &name)?, "value", &name)?, &name)?;
        t.gaps_s = Some(
            gaps.iter()
                .map(|g| seconds(g, &name).map(|s| s * scale))
                .collect::<Result<_, _>>()?,
        );
    } else if t.ttft_s.is_some() {
        // One chunk: no gap, the answer came in one piece.
        t.gaps_s = Some(Vec::new());
    }
    Ok(t)
}

/// What the aggregate file says about the run.
fn run_settings(agg: Option<&Map<String, Value>>) -> tokenpace_core::summary::RunSettings {
    let config = agg.and_then(|a| a.get("input_config"));
    let at = |path: &[&str]| path.iter().try_fold(config?, |v, k| v.get(*k));
    let phase = at(&["phases"]).and_then(Value::as_array).and_then(|p| {
        p.iter()
            .find(|p| p.get("kind").and_then(Value::as_str) == Some("profiling"))
    });
    let of_phase = |k: &str| phase.and_then(|p| p.get(k));
    tokenpace_core::summary::RunSettings {
        model: at(&["models", "items"])
            .and_then(|i| i.get(0))
            .and_then(|m| m.get("name"))
            .and_then(Value::as_str)
            .map(str::to_string),
        target: at(&["endpoint", "urls"])
            .and_then(|u| u.get(0))
            .and_then(Value::as_str)
            .filter(|u| !u.contains('@'))
            .map(str::to_string),
        backend: at(&["endpoint", "type"])
            .and_then(Value::as_str)
            .map(str::to_string),
        concurrency: of_phase("concurrency")
            .and_then(Value::as_u64)
            .and_then(|c| u32::try_from(c).ok()),
        rate: of_phase("request_rate")
            .and_then(Value::as_f64)
            .filter(|r| r.is_finite() && *r > 0.0),
        requests: of_phase("requests").and_then(Value::as_u64),
        ..settings()
    }
}
