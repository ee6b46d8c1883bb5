//! Masking of what varies from run to run, in one place: the output
//! snapshots (`tests/snapshot_*.rs`) and the docs test (`tests/it/docs.rs`)
//! both compare masked text.
//!
//! The grammar, applied in this order:
//! - the environment: `http://127.0.0.1:PORT` → `http://127.0.0.1:[PORT]`,
//!   temporary directories → `[TMP]`, RFC 3339 times → `[DATE]`,
//!   `YYYY-MM-DD` dates → `[DAY]`;
//! - measured numbers → `#` (bash's `0m14.979s` → `#m#s`). A number is kept when it is part of a word or a
//!   path (`c16`, `p99`, `int4`, `0/2`, `16/16`), a threshold (after `<`,
//!   `≤`, `>`, `≥`, but not an interval's open end `(≥ 0.04)`), a count of requests (before `sent`, `ok`, `failed`), a
//!   setting (after `concurrency`), a row of an error table, or in a line that holds no
//!   measurement by construction (see `KEEP_LINES`);
//! - layout: runs of spaces become two spaces and rulers (`───`) one `─`,
//!   since column widths follow the numbers' widths.
//!
//! JSON ([`json`]): every non-integer number becomes `"#"` (but thresholds
//! and settings, [`EXACT_FLOATS`]), integers under the keys in
//! [`VARYING_INTEGERS`] and `*_ns` too, the machine ([`VARYING_FIELDS`]) is
//! masked and strings get the environment masks; keys, counts and settings
//! stay exact. CSV ([`csv`]): by column, see [`CSV_EXACT`].

use regex::Regex;
use serde_json::Value;
use std::sync::LazyLock;

/// A number as the tool prints one: sign, decimals, exponent.
static NUMBER: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"[-+−]?\d+(?:\.\d+)?(?:e[-+]?\d+)?").unwrap());
static PORT: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"(https?://(?:127\.0\.0\.1|localhost)):\d+").unwrap());
static DATE: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z").unwrap());
static DAY: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d{4}-\d{2}-\d{2}\b").unwrap());
static TMP: LazyLock<Regex> = LazyLock::new(|| {
    let root = std::env::temp_dir();
    let root = regex::escape(root.to_str().unwrap().trim_end_matches('/'));
    Regex::new(&format!(r"{root}/\.tmp[A-Za-z0-9]+")).unwrap()
});
/// bash's `time`: `0m14.979s`.
static MINUTES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"\b\d+m\d+\.\d+s\b").unwrap());
static SPACES: LazyLock<Regex> = LazyLock::new(|| Regex::new(r" {2,}").unwrap());
static RULER: LazyLock<Regex> = LazyLock::new(|| Regex::new(r"─+").unwrap());

/// Words after which a number is a setting, not a measurement.
const SETTING_BEFORE: &[&str] = &["concurrency", "并发"];
/// Words before which a number is a count or a setting.
const COUNT_AFTER: &[&str] = &[
    " sent",
    " ok",
    " failed",
    " 已发送",
    " 失败",
    " level",
    " shard",
    " request",
    " 个请求",
];
/// Lines whose numbers are all settings or definitions.
const KEEP_LINES: &[&str] = &["--prompt-tokens 128,512,2048"];
/// A row of an error table: a snake_case kind and its count (exact).
static ERROR_ROW: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(r"^\s*[a-z]+(?:_[a-z0-9]+)+\s+\d+\s*$").unwrap());

/// Masks the environment only (ports, temporary directories, dates).
pub fn environment(text: &str) -> String {
    let text = PORT.replace_all(text, "$1:[PORT]");
    let text = TMP.replace_all(&text, "[TMP]");
    let text = DATE.replace_all(&text, "[DATE]");
    DAY.replace_all(&text, "[DAY]").into_owned()
}

/// Masks the environment and every measured number, and normalises the
/// column layout (see the module docs).
pub fn text(text: &str) -> String {
    numbers(text, true)
}

/// Like [`text`], for output measured on a real model on this machine:
/// tiers, verdicts and marks (`A`…`C`, `pass`, `fail`, `yes`, `no`, `✓`,
/// `✗`) become `*` and numbers after `<`, `>`, `≥` are masked too (they
/// are targets derived from the measured rates there).
pub fn machine(text: &str) -> String {
    let masked = numbers(text, false);
    let mut out = String::with_capacity(masked.len());
    for line in masked.split_inclusive('\n') {
        let words: Vec<&str> = line.split(' ').collect();
        let words: Vec<&str> = words
            .iter()
            .map(|w| {
                let bare = w.trim_end_matches('\n');
                if MACHINE_MARKS.contains(&bare) {
                    if w.ends_with('\n') {
                        "*\n"
                    } else {
                        "*"
                    }
                } else {
                    w
                }
            })
            .collect();
        out.push_str(&words.join(" "));
    }
    out
}

/// What [`machine`] masks as a word.
const MACHINE_MARKS: &[&str] = &["A", "B", "C", "pass", "fail", "yes", "no", "✓", "✗"];

fn numbers(text: &str, thresholds: bool) -> String {
    let text = environment(text);
    let text = MINUTES.replace_all(&text, "#m#s");
    let mut out = String::with_capacity(text.len());
    for line in text.split_inclusive('\n') {
        out.push_str(&line_numbers(line, thresholds));
    }
    out
}

/// Rows of the ramp-up / steady / drain table: how many requests fall in
/// each phase depends on the machine's timing, so their counts are masked
/// too.
const PHASE_ROWS: &[&str] = &["ramp-up ", "steady ", "drain "];

fn line_numbers(line: &str, thresholds: bool) -> String {
    if PHASE_ROWS.iter().any(|p| line.trim_start().starts_with(p)) {
        return layout(&NUMBER.replace_all(line, "#"));
    }
    if KEEP_LINES.iter().any(|k| line.contains(k)) || ERROR_ROW.is_match(line) {
        return layout(line);
    }
    let mut out = String::with_capacity(line.len());
    let mut last = 0;
    for m in NUMBER.find_iter(line) {
        out.push_str(&line[last..m.start()]);
        if keep(&line[..m.start()], &line[m.end()..], thresholds) {
            out.push_str(m.as_str());
        } else {
            out.push('#');
        }
        last = m.end();
    }
    out.push_str(&line[last..]);
    layout(&out)
}

fn layout(line: &str) -> String {
    let line = SPACES.replace_all(line, "  ");
    RULER.replace_all(&line, "─").into_owned()
}

fn keep(before: &str, after: &str, thresholds: bool) -> bool {
    // Part of a word, a path, a version, a ratio of counts or a placeholder.
    if before
        .chars()
        .last()
        .is_some_and(|c| c.is_alphanumeric() || "_./:[#-".contains(c))
    {
        return true;
    }
    if after
        .chars()
        .next()
        .is_some_and(|c| c.is_alphabetic() || "_/:]".contains(c))
    {
        return true;
    }
    let b = before.trim_end();
    // A percentile's interval open at one end, `(≥ 0.043)`: measured.
    if b.ends_with("(≥") || b.ends_with("(≤") {
        return false;
    }
    if b.ends_with(['<', '≤', '>', '≥']) {
        return thresholds;
    }
    if SETTING_BEFORE.iter().any(|w| b.ends_with(w)) {
        return true;
    }
    COUNT_AFTER.iter().any(|w| after.starts_with(w))
}

/// CSV columns that are settings or counts (kept, with the prompt and
/// output token statistics, which the simulator fixes); every other
/// non-empty cell is masked.
pub const CSV_EXACT: &[&str] = &[
    "level",
    "concurrency",
    "rate",
    "prompt_tokens",
    "sent",
    "ok",
    "failed",
    "overall_tier",
];

/// Masks a CSV table by column: the header and the [`CSV_EXACT`] columns
/// stay, every other non-empty cell becomes `#`.
pub fn csv(text: &str) -> String {
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap_or_default().split(',').collect();
    let mut out = header.join(",") + "\n";
    for line in lines {
        let cells: Vec<String> = line
            .split(',')
            .enumerate()
            .map(|(i, cell)| {
                let name = header.get(i).copied().unwrap_or_default();
                let exact = CSV_EXACT.contains(&name)
                    || name.starts_with("prompt_tokens_")
                    || name.starts_with("output_tokens_");
                if cell.is_empty() || exact {
                    environment(cell)
                } else {
                    "#".to_string()
                }
            })
            .collect();
        out.push_str(&cells.join(","));
        out.push('\n');
    }
    out
}

/// Float fields that are settings or thresholds (kept).
pub const EXACT_FLOATS: &[&str] = &[
    "threshold",
    "network_overhead_s",
    "stall_threshold_s",
    "alpha",
    "min_change_pct",
    "ci_level",
    "target_pct",
];
/// Integer fields that are measured (times, durations, sizes, the machine).
pub const VARYING_INTEGERS: &[&str] = &["cpus", "workers", "bytes", "size_bytes"];
/// Fields whose value is the environment's, masked whatever their type.
pub const VARYING_FIELDS: &[&str] = &["tool_version", "os", "arch", "started_at"];

/// Fields of prose that may quote measured numbers (a merge's note on how
/// far apart its shards ran), masked as [`text`] is.
pub const PROSE_FIELDS: &[&str] = &["notes"];

/// Masks a JSON document in place (see the module docs).
pub fn json(value: &mut Value) {
    walk(value, None);
}

fn walk(value: &mut Value, key: Option<&str>) {
    if key.is_some_and(|k| VARYING_FIELDS.contains(&k)) && !value.is_null() {
        *value = Value::from("#");
        return;
    }
    match value {
        Value::Number(n) => {
            let varying = (n.is_f64() && !key.is_some_and(|k| EXACT_FLOATS.contains(&k)))
                || key.is_some_and(|k| VARYING_INTEGERS.contains(&k) || k.ends_with("_ns"));
            if varying {
                *value = Value::from("#");
            }
        }
        Value::String(s) if key.is_some_and(|k| PROSE_FIELDS.contains(&k)) => *s = text(s),
        Value::String(s) => *s = environment(s),
        Value::Array(items) => items.iter_mut().for_each(|v| walk(v, key)),
        Value::Object(map) => {
            for (k, v) in map.iter_mut() {
                walk(v, Some(k));
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Parses `text` as JSON and masks it.
pub fn json_text(text: &str) -> Value {
    let mut value: Value =
        serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}):\n{text}"));
    json(&mut value);
    value
}
