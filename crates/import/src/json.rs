//! Reading fields of a tool's JSON with errors that name the field: each
//! value checked to be what a benchmark can have measured.

use serde_json::{Map, Value};

/// The longest duration a field may hold, seconds (about 116 days).
const MAX_SECONDS: f64 = 1e7;
/// The largest clock reading a start time may be, seconds (epoch times
/// in seconds are about 1.8e9).
const MAX_INSTANT: f64 = 1e12;

/// `text` as one JSON value.
pub(crate) fn parse(text: &str) -> Result<Value, String> {
    serde_json::from_str(text).map_err(|e| format!("not JSON ({e}): give the file the tool wrote"))
}

/// `v` as an object.
pub(crate) fn object<'a>(v: &'a Value, what: &str) -> Result<&'a Map<String, Value>, String> {
    v.as_object()
        .ok_or_else(|| format!("{what} is not a JSON object"))
}

/// The field `name` of `obj`, required.
pub(crate) fn field<'a>(
    obj: &'a Map<String, Value>,
    name: &str,
    what: &str,
) -> Result<&'a Value, String> {
    obj.get(name)
        .filter(|v| !v.is_null())
        .ok_or_else(|| format!("{what} has no '{name}'"))
}

/// `v` as an array.
pub(crate) fn array<'a>(v: &'a Value, what: &str) -> Result<&'a [Value], String> {
    v.as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| format!("{what} is not a list"))
}

/// `v` as a number of seconds a request took.
pub(crate) fn seconds(v: &Value, what: &str) -> Result<f64, String> {
    let x = v
        .as_f64()
        .ok_or_else(|| format!("{what} is not a number"))?;
    if x.is_finite() && (0.0..=MAX_SECONDS).contains(&x) {
        Ok(x)
    } else {
        Err(format!(
            "{what} is {x}: a duration must be 0 to {MAX_SECONDS} s"
        ))
    }
}

/// `v` as a clock reading, seconds.
pub(crate) fn instant(v: &Value, what: &str) -> Result<f64, String> {
    let x = v
        .as_f64()
        .ok_or_else(|| format!("{what} is not a number"))?;
    if x.is_finite() && x.abs() <= MAX_INSTANT {
        Ok(x)
    } else {
        Err(format!("{what} is {x}: not a clock reading in seconds"))
    }
}

/// `v` as a clock reading in nanoseconds, returned in seconds.
pub(crate) fn instant_ns(v: &Value, what: &str) -> Result<f64, String> {
    let ns = v
        .as_u64()
        .ok_or_else(|| format!("{what} is not a whole number of nanoseconds"))?;
    instant(&Value::from(ns as f64 / 1e9), what)
}

/// `v` as a token count.
pub(crate) fn count(v: &Value, what: &str) -> Result<u32, String> {
    v.as_u64()
        .or_else(|| {
            v.as_f64()
                .filter(|x| x.fract() == 0.0 && *x >= 0.0)
                .map(|x| x as u64)
        })
        .and_then(|n| u32::try_from(n).ok())
        .ok_or_else(|| {
            format!(
                "{what} is not a token count (a whole number up to {})",
                u32::MAX
            )
        })
}

/// `v` as a string, or `None` for null.
pub(crate) fn text<'a>(v: &'a Value, what: &str) -> Result<Option<&'a str>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) => Ok(Some(s)),
        _ => Err(format!("{what} is not a string")),
    }
}
