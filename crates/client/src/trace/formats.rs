//! The three trace formats: what their first line looks like, their
//! columns, and one row of each as a request.

use serde::Deserialize;
use tokenpace_core::setting::Setting;

/// A trace file's format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TraceFormat {
    /// Mooncake JSONL: `{"timestamp": ms, "input_length", "output_length",
    /// "hash_ids": [...]}` per line.
    Mooncake,
    /// Azure LLM inference CSV: `TIMESTAMP,ContextTokens,GeneratedTokens`.
    Azure,
    /// BurstGPT CSV: `Timestamp,Model,Request tokens,Response tokens,Total
    /// tokens,Log Type`.
    BurstGpt,
}

impl TraceFormat {
    /// Every format.
    pub const ALL: [TraceFormat; 3] = [
        TraceFormat::Mooncake,
        TraceFormat::Azure,
        TraceFormat::BurstGpt,
    ];

    /// Its name on the command line.
    pub fn id(self) -> &'static str {
        match self {
            TraceFormat::Mooncake => "mooncake",
            TraceFormat::Azure => "azure",
            TraceFormat::BurstGpt => "burstgpt",
        }
    }

    /// Columns (JSON keys for Mooncake) a file must have.
    pub fn required(self) -> &'static [&'static str] {
        match self {
            TraceFormat::Mooncake => &["timestamp", "input_length", "output_length"],
            TraceFormat::Azure => &["TIMESTAMP", "ContextTokens", "GeneratedTokens"],
            TraceFormat::BurstGpt => &["Timestamp", "Request tokens", "Response tokens"],
        }
    }

    /// Columns it may have besides.
    fn optional(self) -> &'static [&'static str] {
        match self {
            TraceFormat::Mooncake => &["hash_ids"],
            TraceFormat::Azure => &[],
            TraceFormat::BurstGpt => &["Model", "Total tokens", "Log Type"],
        }
    }

    /// "mooncake (timestamp, input_length, …), azure (…), burstgpt (…)".
    pub(super) fn expected() -> String {
        Self::ALL
            .iter()
            .map(|f| format!("{} ({})", f.id(), f.required().join(", ")))
            .collect::<Vec<_>>()
            .join("; ")
    }
}

/// BurstGPT's kinds of request (`Log Type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogType {
    /// `Conversation log`: ChatGPT-style conversations.
    Conversation,
    /// `API log`: calls through the API.
    Api,
}

impl LogType {
    fn value(self) -> &'static str {
        match self {
            LogType::Conversation => "Conversation log",
            LogType::Api => "API log",
        }
    }
}

/// The most tokens a prompt or answer may have: 2^20, the longest context any
/// served model has (more is a broken file, or the wrong column).
const MAX_TOKENS: u64 = 1 << 20;

/// A row's problem: the column, and what is wrong.
pub(super) type RowError = (Option<String>, String);

/// One row before times are made relative.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Row {
    /// Nanoseconds on the trace's own clock.
    pub at_ns: u64,
    pub input_tokens: u32,
    pub output_tokens: u32,
    pub hash_ids: Vec<u64>,
    /// Whether the log-type filter keeps it.
    pub keep: bool,
}

/// How to read a file's rows, from its first line.
#[derive(Debug, Clone)]
pub(super) enum Layout {
    Mooncake,
    Csv {
        format: TraceFormat,
        columns: usize,
        time: usize,
        input: usize,
        output: usize,
        log_type: Option<usize>,
    },
}

impl Layout {
    /// The layout of a file whose first non-blank line is `first`, and
    /// whether that line is a header (consumed) rather than a request.
    pub fn detect(first: &str, forced: Option<TraceFormat>) -> Result<(Layout, bool), RowError> {
        let looks_json = first.trim_start().starts_with('{');
        let format = match forced {
            Some(f) => f,
            None if looks_json => TraceFormat::Mooncake,
            None => {
                let names = split_csv(first);
                TraceFormat::ALL[1..]
                    .iter()
                    .copied()
                    .find(|f| f.required().iter().all(|c| names.iter().any(|n| n == c)))
                    .ok_or_else(|| {
                        (None, format!(
                            "the first line is neither a JSON object nor a known CSV header (found: {}); expected one of: {}; or force one with {}",
                            names.join(", "),
                            TraceFormat::expected(),
                            Setting::TraceFormat
                        ))
                    })?
            }
        };
        match format {
            TraceFormat::Mooncake if !looks_json => Err((
                None,
                "a Mooncake trace has one JSON object per line ({\"timestamp\": …}); this line is not one".into(),
            )),
            TraceFormat::Mooncake => Ok((Layout::Mooncake, false)),
            format => Ok((Self::csv(format, first)?, true)),
        }
    }

    fn csv(format: TraceFormat, header: &str) -> Result<Layout, RowError> {
        let names = split_csv(header);
        let known = |n: &str| format.required().contains(&n) || format.optional().contains(&n);
        if let Some(bad) = names.iter().find(|n| !known(n)) {
            let columns = [format.required(), format.optional()].concat();
            return Err((
                Some(bad.clone()),
                format!(
                    "not a column of a {} trace ({}); remove it, or name the format with {}",
                    format.id(),
                    columns.join(", "),
                    Setting::TraceFormat,
                ),
            ));
        }
        let find = |c: &str| names.iter().position(|n| n == c);
        let need = |c: &str| {
            find(c).ok_or_else(|| {
                (
                    Some(c.to_string()),
                    format!(
                        "missing from the header; a {} trace needs {}",
                        format.id(),
                        format.required().join(", ")
                    ),
                )
            })
        };
        let [t, i, o] = format.required() else {
            unreachable!("every CSV format names three required columns")
        };
        Ok(Layout::Csv {
            format,
            columns: names.len(),
            time: need(t)?,
            input: need(i)?,
            output: need(o)?,
            log_type: find("Log Type"),
        })
    }

    /// One request line.
    pub fn row(&self, line: &str, filter: Option<LogType>) -> Result<Row, RowError> {
        match self {
            Layout::Mooncake => mooncake(line),
            Layout::Csv {
                format,
                columns,
                time,
                input,
                output,
                log_type,
            } => {
                let fields = split_csv(line);
                if fields.len() != *columns {
                    return Err((
                        None,
                        format!(
                            "{} fields where the header has {columns}; each line needs one value per column",
                            fields.len()
                        ),
                    ));
                }
                let name = |i: usize| Some(format.required()[i].to_string());
                let at_ns = match format {
                    TraceFormat::Azure => datetime_ns(&fields[*time]).map_err(|m| (name(0), m))?,
                    _ => seconds_ns(&fields[*time], 1e9).map_err(|m| (name(0), m))?,
                };
                let keep = match (filter, log_type) {
                    (None, _) => true,
                    (Some(_), None) => {
                        return Err((
                            Some("Log Type".into()),
                            format!(
                                "{} needs a BurstGPT trace with a Log Type column",
                                Setting::TraceLogType
                            ),
                        ))
                    }
                    (Some(want), Some(c)) => {
                        let v = fields[*c].trim();
                        if v != LogType::Conversation.value() && v != LogType::Api.value() {
                            return Err((
                                Some("Log Type".into()),
                                format!("'{v}' is neither 'Conversation log' nor 'API log'"),
                            ));
                        }
                        v == want.value()
                    }
                };
                Ok(Row {
                    at_ns,
                    input_tokens: tokens(&fields[*input]).map_err(|m| (name(1), m))?,
                    output_tokens: tokens(&fields[*output]).map_err(|m| (name(2), m))?,
                    hash_ids: Vec::new(),
                    keep,
                })
            }
        }
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct MooncakeLine {
    timestamp: f64,
    input_length: u64,
    output_length: u64,
    #[serde(default)]
    hash_ids: Vec<u64>,
}

fn mooncake(line: &str) -> Result<Row, RowError> {
    let l: MooncakeLine = serde_json::from_str(line).map_err(|e| {
        (
            None,
            format!(
                "not a Mooncake request ({e}); each line is {{\"timestamp\": ms, \"input_length\": n, \"output_length\": n, \"hash_ids\": [...]}}"
            ),
        )
    })?;
    let col = |c: &str| Some(c.to_string());
    Ok(Row {
        at_ns: number_ns(l.timestamp, 1e6).map_err(|m| (col("timestamp"), m))?,
        input_tokens: plausible(l.input_length).map_err(|m| (col("input_length"), m))?,
        output_tokens: plausible(l.output_length).map_err(|m| (col("output_length"), m))?,
        hash_ids: l.hash_ids,
        keep: true,
    })
}

/// Fields of a CSV line: commas separate, double quotes may enclose a field
/// (`""` inside is one quote); fields are trimmed.
pub(super) fn split_csv(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut quoted = false;
    let mut chars = line.trim_end_matches(['\r', '\n']).chars().peekable();
    while let Some(c) = chars.next() {
        let field = fields.last_mut().expect("starts with one field");
        match (c, quoted) {
            ('"', true) if chars.peek() == Some(&'"') => {
                field.push('"');
                chars.next();
            }
            ('"', _) => quoted = !quoted,
            (',', false) => fields.push(String::new()),
            (c, _) => field.push(c),
        }
    }
    fields.into_iter().map(|f| f.trim().to_string()).collect()
}

fn tokens(field: &str) -> Result<u32, String> {
    let n: u64 = field
        .trim()
        .parse()
        .map_err(|_| format!("'{field}' is not a token count (a whole number ≥ 0)"))?;
    plausible(n)
}

fn plausible(n: u64) -> Result<u32, String> {
    if n > MAX_TOKENS {
        return Err(format!(
            "{n} tokens is more than a trace request may have ({MAX_TOKENS}, the longest \
             context any served model has); is the column right?"
        ));
    }
    Ok(n as u32)
}

/// A time in `unit` nanoseconds per unit (seconds: 1e9) as nanoseconds.
fn seconds_ns(field: &str, unit: f64) -> Result<u64, String> {
    let v: f64 = field
        .trim()
        .parse()
        .map_err(|_| format!("'{field}' is not a number"))?;
    number_ns(v, unit)
}

fn number_ns(v: f64, unit: f64) -> Result<u64, String> {
    let ns = v * unit;
    // 2^63 ns is 292 years: anything beyond is not a timestamp.
    if !(0.0..9.2e18).contains(&ns) {
        return Err(format!("{v} is not a time (it must be ≥ 0 and finite)"));
    }
    Ok(ns.round() as u64)
}

/// `YYYY-MM-DD HH:MM:SS[.fraction]` (or with `T`; a trailing `Z` or
/// `+00:00` is allowed) as nanoseconds since 1970 (UTC).
fn datetime_ns(field: &str) -> Result<u64, String> {
    let bad = || format!("'{field}' is not a date and time like 2023-11-16 18:15:46.6805900");
    let s = field.trim();
    let s = s
        .strip_suffix('Z')
        .or_else(|| s.strip_suffix("+00:00"))
        .unwrap_or(s);
    let (date, time) = s.split_once([' ', 'T']).ok_or_else(bad)?;
    let num = |p: &str, digits: usize| -> Result<i64, String> {
        if p.len() != digits || !p.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad());
        }
        p.parse().map_err(|_| bad())
    };
    let d: Vec<&str> = date.split('-').collect();
    let [y, mo, da] = d[..] else {
        return Err(bad());
    };
    let (y, mo, da) = (num(y, 4)?, num(mo, 2)?, num(da, 2)?);
    let (hms, frac) = time.split_once('.').unwrap_or((time, ""));
    let t: Vec<&str> = hms.split(':').collect();
    let [h, mi, se] = t[..] else {
        return Err(bad());
    };
    let (h, mi, se) = (num(h, 2)?, num(mi, 2)?, num(se, 2)?);
    if !(1..=12).contains(&mo) || !(1..=31).contains(&da) || h > 23 || mi > 59 || se > 60 {
        return Err(bad());
    }
    if frac.len() > 9 || !frac.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad());
    }
    let frac_ns: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().map_err(|_| bad())? * 10i64.pow(9 - frac.len() as u32)
    };
    let secs = days_from_civil(y, mo, da) * 86_400 + h * 3600 + mi * 60 + se;
    if secs < 0 {
        return Err(format!("'{field}' is before 1970"));
    }
    Ok(secs as u64 * 1_000_000_000 + frac_ns as u64)
}

/// Days from 1970-01-01 to a proleptic Gregorian date (Howard Hinnant's
/// algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

#[cfg(test)]
mod tests;
