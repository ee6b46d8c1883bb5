//! `vllm bench serve --save-result --save-detailed`: one JSON object whose
//! lists hold one entry per request (`start_times`, `ttfts`, `itls`, …).
//! Chunk times are exact; chunk texts and send schedules are not kept.

use crate::json::{array, count, field, instant, object, parse as parse_json, seconds, text};
use crate::timed::{settings, tokenized, Timed};
use crate::Parsed;
use serde_json::{Map, Value};
use tokenpace_core::text::CharCount;

/// Whether `text` is a vllm bench result: a JSON object with `ttfts`.
pub(crate) fn looks_like(text: &str) -> bool {
    text.trim_start().starts_with('{') && text.contains("\"ttfts\"")
}

/// The requests and settings of a vllm bench result.
pub(crate) fn parse(text_: &str) -> Result<Parsed, String> {
    let root = parse_json(text_)?;
    let obj = object(&root, "the file")?;
    if !obj.contains_key("start_times") || !obj.contains_key("itls") {
        return Err("it has no 'start_times' or 'itls': rerun vllm bench serve with --save-result --save-detailed".into());
    }
    let list =
        |name: &str| -> Result<&[Value], String> { array(field(obj, name, "the file")?, name) };
    let starts = list("start_times")?;
    let n = starts.len();
    let same = |name: &str| -> Result<Option<&[Value]>, String> {
        match obj.get(name).filter(|v| !v.is_null()) {
            None => Ok(None),
            Some(v) => {
                let l = array(v, name)?;
                if l.len() == n {
                    Ok(Some(l))
                } else {
                    Err(format!("'{name}' has {} entries but 'start_times' {n}: the file is cut or edited; rerun the benchmark", l.len()))
                }
            }
        }
    };
    let (ttfts, itls, latencies) = (same("ttfts")?, same("itls")?, same("latencies")?);
    let (inputs, outputs) = (same("input_lens")?, same("output_lens")?);
    let (errors, texts) = (same("errors")?, same("generated_texts")?);
    let mut requests = Vec::with_capacity(n);
    for (i, start) in starts.iter().enumerate() {
        let name = |f: &str| format!("{f}[{i}]");
        let error = match nth(errors, i) {
            Some(e) => text(e, &name("errors"))?
                .filter(|e| !e.is_empty())
                .map(str::to_string),
            None => None,
        };
        let mut t = Timed {
            start_s: instant(start, &name("start_times"))?,
            error,
            ..Timed::default()
        };
        if let Some(v) = nth(inputs, i) {
            t.prompt_tokens = Some(tokenized(count(v, &name("input_lens"))?));
        }
        if let Some(v) = nth(texts, i) {
            t.text = text(v, &name("generated_texts"))?.map(CharCount::of);
        }
        if t.error.is_none() {
            timings(&mut t, i, ttfts, itls, latencies, outputs)?;
        }
        requests.push(t);
    }
    Ok(Parsed {
        requests,
        settings: run_settings(obj),
        tool_version: None,
        missing: Vec::new(),
    })
}

/// Entry `i` of a list checked to have one per request.
fn nth(list: Option<&[Value]>, i: usize) -> Option<&Value> {
    list.map(|l| &l[i])
}

/// The times and output count of a successful request `i`.
fn timings(
    t: &mut Timed,
    i: usize,
    ttfts: Option<&[Value]>,
    itls: Option<&[Value]>,
    latencies: Option<&[Value]>,
    outputs: Option<&[Value]>,
) -> Result<(), String> {
    let ttfts = ttfts.ok_or("it has no 'ttfts': rerun vllm bench serve with --save-detailed")?;
    t.ttft_s = Some(seconds(&ttfts[i], &format!("ttfts[{i}]"))?);
    if let Some(l) = itls {
        let gaps = array(&l[i], &format!("itls[{i}]"))?;
        t.gaps_s = Some(
            gaps.iter()
                .enumerate()
                .map(|(j, g)| seconds(g, &format!("itls[{i}][{j}]")))
                .collect::<Result<_, _>>()?,
        );
    }
    if let Some(l) = latencies {
        t.latency_s = Some(seconds(&l[i], &format!("latencies[{i}]"))?);
    }
    if let Some(l) = outputs {
        t.output_tokens = Some(tokenized(count(&l[i], &format!("output_lens[{i}]"))?));
    }
    Ok(())
}

/// What the file says about how the run was set up.
fn run_settings(obj: &Map<String, Value>) -> tokenpace_core::summary::RunSettings {
    let str_of = |k: &str| obj.get(k).and_then(Value::as_str).map(str::to_string);
    let num_of = |k: &str| obj.get(k).and_then(Value::as_u64);
    tokenpace_core::summary::RunSettings {
        model: str_of("model_id"),
        backend: str_of("backend").or_else(|| str_of("endpoint_type")),
        concurrency: num_of("max_concurrency").and_then(|c| u32::try_from(c).ok()),
        // "inf" (all at once) is not a rate.
        rate: obj
            .get("request_rate")
            .and_then(Value::as_f64)
            .filter(|r| r.is_finite() && *r > 0.0),
        requests: num_of("num_prompts"),
        ..settings()
    }
}
