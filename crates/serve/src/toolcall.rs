//! Tool calls read out of the generated text, hermes-style (the convention
//! vLLM's `hermes` parser reads): the answer opens with
//! `<tool_call>{"name": …, "arguments": {…}}</tool_call>` (a one-element
//! JSON list inside the tags is taken too). The [`Scanner`] sees the text
//! token by token and says what to stream: text as it comes, except a
//! beginning that may still become `<tool_call>`; once a call's name is
//! known, its start, then its arguments as the model writes them.
//!
//! One call per answer, and only at its start: text before `<tool_call>`
//! makes the answer text (the tag stays in it), and whatever follows the
//! first call's arguments is not sent. `</tool_call>` is a stop string, so
//! generation ends there.

use serde_json::Value;

/// Opens a call.
pub const OPEN: &str = "<tool_call>";
/// Closes a call; generation stops at it.
pub const CLOSE: &str = "</tool_call>";

/// What to send next.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// Answer text.
    Text(String),
    /// A call of this function begins.
    CallStart(String),
    /// The next piece of the call's JSON arguments.
    Arguments(String),
}

/// A call the answer made.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParsedToolCall {
    /// The function.
    pub name: String,
    /// Its arguments as sent (JSON text).
    pub arguments: String,
    /// Whether the arguments are a whole JSON object (false when the
    /// generation was cut short, or the model wrote broken JSON).
    pub valid: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum State {
    /// Nothing but a possible beginning of `<tool_call>` yet.
    Lead,
    /// The answer is text.
    Text,
    /// In a call (`buf` after the tag), its name not read yet.
    Head,
    /// The name is read; the arguments start at `buf[start..]`.
    Args(Args),
    /// A call in another shape: read whole when generation ends.
    Whole,
}

#[derive(Debug, Clone, PartialEq, Default)]
struct Args {
    name: String,
    start: usize,
    /// Bytes of the arguments read and sent, from `start`.
    scanned: usize,
    /// The arguments' first byte (their `{`), once seen.
    open: Option<usize>,
    depth: u32,
    in_string: bool,
    escaped: bool,
    /// Where the arguments' object closed.
    end: Option<usize>,
}

/// Reads one answer.
#[derive(Debug, Clone)]
pub struct Scanner {
    /// Functions the answer may call.
    names: Vec<String>,
    state: State,
    buf: String,
}

impl Scanner {
    /// A scanner accepting calls of `names` only.
    pub fn new(names: Vec<String>) -> Self {
        Scanner {
            names,
            state: State::Lead,
            buf: String::new(),
        }
    }

    /// Takes the next generated text.
    pub fn push(&mut self, text: &str) -> Vec<Piece> {
        match &self.state {
            State::Text if text.is_empty() => return Vec::new(),
            State::Text => return vec![Piece::Text(text.to_owned())],
            State::Lead => {
                self.buf.push_str(text);
                let lead = self.buf.trim_start();
                if lead.is_empty() || OPEN.starts_with(lead) {
                    return Vec::new();
                }
                if !lead.starts_with(OPEN) {
                    self.state = State::Text;
                    return vec![Piece::Text(std::mem::take(&mut self.buf))];
                }
                self.buf = lead[OPEN.len()..].to_owned();
                self.state = State::Head;
            }
            _ => self.buf.push_str(text),
        }
        self.advance()
    }

    /// Moves through the call as far as the text allows.
    fn advance(&mut self) -> Vec<Piece> {
        let mut out = Vec::new();
        if self.state == State::Head {
            match head(&self.buf) {
                Head::More => return out,
                Head::No => self.state = State::Whole,
                Head::Yes { name, end } if self.names.contains(&name) => {
                    self.state = State::Args(Args {
                        name,
                        start: end,
                        ..Args::default()
                    });
                }
                Head::Yes { .. } => self.state = State::Whole,
            }
        }
        if let State::Args(args) = &mut self.state {
            let raw = &self.buf[args.start..];
            let was_open = args.open.is_some();
            match args.scan(raw) {
                // The call starts with its arguments' `{`.
                Some(piece) => {
                    if !was_open && args.open.is_some() {
                        out.push(Piece::CallStart(args.name.clone()));
                    }
                    if !piece.is_empty() {
                        out.push(Piece::Arguments(piece));
                    }
                }
                // Not an object: read the whole call at the end.
                None => self.state = State::Whole,
            }
        }
        out
    }

    /// The generation ended: the last pieces, and the call if one was made.
    pub fn finish(&mut self) -> (Vec<Piece>, Option<ParsedToolCall>) {
        match std::mem::replace(&mut self.state, State::Text) {
            State::Lead if self.buf.is_empty() => (Vec::new(), None),
            State::Lead => (vec![Piece::Text(std::mem::take(&mut self.buf))], None),
            State::Text => (Vec::new(), None),
            State::Args(Args { open: None, .. }) | State::Head | State::Whole => {
                match parse_call(&self.buf, &self.names) {
                    Some(call) => (
                        vec![
                            Piece::CallStart(call.name.clone()),
                            Piece::Arguments(call.arguments.clone()),
                        ],
                        Some(call),
                    ),
                    None => (vec![Piece::Text(format!("{OPEN}{}", self.buf))], None),
                }
            }
            State::Args(args) => {
                let raw = &self.buf[args.start..];
                let open = args.open.unwrap_or(args.scanned);
                let arguments = &raw[open..args.end.unwrap_or(args.scanned)];
                let valid = args.end.is_some()
                    && serde_json::from_str::<Value>(arguments).is_ok_and(|v| v.is_object());
                let call = ParsedToolCall {
                    name: args.name,
                    arguments: arguments.to_owned(),
                    valid,
                };
                (Vec::new(), Some(call))
            }
        }
    }
}

impl Args {
    /// Reads on through `raw` (the text after `"arguments":`); the new
    /// piece of the arguments, or `None` when they are not a JSON object.
    fn scan(&mut self, raw: &str) -> Option<String> {
        if self.end.is_some() {
            return Some(String::new());
        }
        let from = self.scanned;
        for (i, c) in raw[from..].char_indices() {
            let at = from + i;
            if self.open.is_none() {
                match c {
                    c if c.is_whitespace() => continue,
                    '{' => {
                        self.open = Some(at);
                        self.depth = 1;
                        continue;
                    }
                    _ => return None,
                }
            }
            if self.in_string {
                match (self.escaped, c) {
                    (true, _) => self.escaped = false,
                    (false, '\\') => self.escaped = true,
                    (false, '"') => self.in_string = false,
                    _ => {}
                }
                continue;
            }
            match c {
                '"' => self.in_string = true,
                '{' | '[' => self.depth += 1,
                '}' | ']' => {
                    self.depth -= 1;
                    if self.depth == 0 {
                        self.end = Some(at + 1);
                        break;
                    }
                }
                _ => {}
            }
        }
        let upto = self.end.unwrap_or(raw.len());
        let sent_from = self.open.map_or(upto, |open| from.max(open));
        self.scanned = upto;
        Some(raw[sent_from.min(upto)..upto].to_owned())
    }
}

#[derive(Debug, PartialEq, Eq)]
enum Head {
    /// The text so far fits; more is needed.
    More,
    /// Not `{"name": "…", "arguments":`.
    No,
    /// The name, and where the arguments start.
    Yes { name: String, end: usize },
}

/// Reads `[{"name": "NAME", "arguments":` (the `[` optional, any
/// whitespace between) at the start of `s`.
fn head(s: &str) -> Head {
    let mut at = 0;
    let ws = |at: &mut usize| *at += s[*at..].len() - s[*at..].trim_start().len();
    ws(&mut at);
    if s[at..].starts_with('[') {
        at += 1;
    }
    let mut name = String::new();
    for step in ["{", "\"name\"", ":", "NAME", ",", "\"arguments\"", ":"] {
        ws(&mut at);
        let rest = &s[at..];
        if rest.is_empty() {
            return Head::More;
        }
        if step == "NAME" {
            let Some(body) = rest.strip_prefix('"') else {
                return Head::No;
            };
            match body.find(['"', '\\']) {
                None => return Head::More,
                Some(end) if body[end..].starts_with('"') => {
                    name = body[..end].to_owned();
                    at += end + 2;
                }
                Some(_) => return Head::No,
            }
        } else if rest.starts_with(step) {
            at += step.len();
        } else if step.starts_with(rest) {
            return Head::More;
        } else {
            return Head::No;
        }
    }
    Head::Yes { name, end: at }
}

/// A whole call from the text after `<tool_call>`: an object, or a list
/// whose first element is one, with a known `name` and `arguments` (or
/// `parameters`) that are an object or a string holding one.
pub fn parse_call(after_open: &str, names: &[String]) -> Option<ParsedToolCall> {
    let text = after_open.split(CLOSE).next().unwrap_or_default().trim();
    let value = serde_json::Deserializer::from_str(text)
        .into_iter::<Value>()
        .next()?
        .ok()?;
    let call = match &value {
        Value::Array(items) => items.first()?,
        v => v,
    };
    let name = call.get("name")?.as_str()?;
    if !names.iter().any(|n| n == name) {
        return None;
    }
    let arguments = match call.get("arguments").or_else(|| call.get("parameters")) {
        None | Some(Value::Null) => "{}".to_owned(),
        Some(Value::String(s)) => {
            serde_json::from_str::<Value>(s)
                .ok()
                .filter(Value::is_object)?;
            s.clone()
        }
        Some(v @ Value::Object(_)) => v.to_string(),
        Some(_) => return None,
    };
    Some(ParsedToolCall {
        name: name.to_owned(),
        arguments,
        valid: true,
    })
}

#[cfg(test)]
#[path = "toolcall_tests.rs"]
mod tests;
