//! One answer's bytes, in the API it was asked on: the generated text, or
//! the tool call read out of it ([`crate::toolcall`]), as the wire crate's
//! events (streamed) or one body (whole). No I/O here: `respond` writes
//! what this builds.

use crate::events::{timings, usage};
use crate::generate::Finished;
use crate::request::ApiRequest;
use crate::toolcall::{ParsedToolCall, Piece, Scanner};
use tokenpace_wire::{Endpoint, Events, OutputItem};

/// How an answer that might have called a tool ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToolOutcome {
    /// No tools in play.
    NotAsked,
    /// A call with whole JSON arguments.
    Called,
    /// A call whose arguments are not a whole JSON object (streamed
    /// before that was known).
    BrokenArguments,
    /// The model answered in text where it could have called a tool.
    Text,
    /// The model answered in text although `tool_choice` demanded a call.
    Missing,
}

/// Builds one answer's events.
#[derive(Debug)]
pub struct Answer {
    events: Events,
    endpoint: Endpoint,
    call_id: String,
    scanner: Option<Scanner>,
    required: bool,
    include_usage: bool,
    /// The text sent so far.
    text: String,
    /// The call being sent: its name and arguments so far.
    call: Option<(String, String)>,
    /// No text or call sent yet.
    first: bool,
    /// The opening events are sent.
    started: bool,
}

impl Answer {
    /// The answer to `request`, response `seq`.
    pub fn new(events: Events, request: &ApiRequest, seq: u64) -> Self {
        let endpoint = events.endpoint();
        let call_id = match endpoint {
            Endpoint::Messages => format!("toolu_{seq:08}"),
            _ => format!("call_{seq:08}"),
        };
        Answer {
            events,
            endpoint,
            call_id,
            scanner: request
                .tools
                .as_ref()
                .map(|t| Scanner::new(t.names.clone())),
            required: request.tools.as_ref().is_some_and(|t| t.required),
            include_usage: request.api.include_usage,
            text: String::new(),
            call: None,
            first: true,
            started: false,
        }
    }

    /// The events that open a stream before its first token (Anthropic's
    /// and the Responses API's), for a prompt of `prompt_tokens`.
    pub fn start(&mut self, prompt_tokens: u32) -> Vec<u8> {
        if std::mem::replace(&mut self.started, true) {
            return Vec::new();
        }
        let usage = tokenpace_wire::Usage::new(u64::from(prompt_tokens), 0);
        self.events.start(usage).unwrap_or_default()
    }

    /// An error after the stream has started.
    pub fn error(&mut self, e: &tokenpace_wire::ApiError) -> Vec<u8> {
        let mut out = self.start(0);
        out.extend(self.events.error(e));
        out
    }

    /// The events of one generated token's text (none while a possible
    /// tool call is still being read).
    pub fn token(&mut self, text: &str) -> Vec<u8> {
        let pieces = match &mut self.scanner {
            Some(s) => s.push(text),
            None => vec![Piece::Text(text.to_owned())],
        };
        self.send(pieces)
    }

    fn send(&mut self, pieces: Vec<Piece>) -> Vec<u8> {
        let mut out = Vec::new();
        if pieces.is_empty() {
            return out;
        }
        // A generator that never said `Started` still gets its opening.
        out.extend(self.start(0));
        for piece in pieces {
            match piece {
                Piece::Text(t) if t.is_empty() => {}
                Piece::Text(t) => {
                    out.extend(self.events.content(&t, self.first, None));
                    self.first = false;
                    self.text.push_str(&t);
                }
                Piece::CallStart(name) => {
                    out.extend(self.events.tool_call_start(&self.call_id, &name));
                    self.first = false;
                    self.call = Some((name, String::new()));
                }
                Piece::Arguments(a) => {
                    out.extend(self.events.tool_call_arguments(&a));
                    if let Some((_, args)) = &mut self.call {
                        args.push_str(&a);
                    }
                }
            }
        }
        out
    }

    fn outcome(&self, call: Option<&ParsedToolCall>) -> ToolOutcome {
        match call {
            _ if self.scanner.is_none() => ToolOutcome::NotAsked,
            Some(c) if c.valid => ToolOutcome::Called,
            Some(_) => ToolOutcome::BrokenArguments,
            None if self.required => ToolOutcome::Missing,
            None => ToolOutcome::Text,
        }
    }

    /// The stream's closing events.
    pub fn end(&mut self, done: &Finished) -> (Vec<u8>, ToolOutcome) {
        let (pieces, call) = match &mut self.scanner {
            Some(s) => s.finish(),
            None => (Vec::new(), None),
        };
        let mut out = self.start(done.prompt_tokens);
        out.extend(self.send(pieces));
        if self.first && self.endpoint.typed_events() {
            // An empty answer still has its (empty) text block.
            out.extend(self.events.content("", true, None));
        }
        let outcome = self.outcome(call.as_ref());
        let reason = match (&self.call, &call) {
            (Some(_), Some(c)) if c.valid || done.reason.as_str() != "length" => "tool_calls",
            _ => done.reason.as_str(),
        };
        let usage = usage(done);
        out.extend(match (&self.call, self.endpoint) {
            (_, Endpoint::Chat | Endpoint::Completions) => {
                let usage = self.include_usage.then_some(usage);
                self.events.finish_with(reason, usage, &timings(done))
            }
            (Some((name, arguments)), _) => {
                let output = OutputItem::ToolCall {
                    id: &self.call_id,
                    name,
                    arguments,
                };
                self.events.finish_output(reason, usage, output)
            }
            (None, _) => self
                .events
                .finish_output(reason, usage, OutputItem::Text(&self.text)),
        });
        (out, outcome)
    }

    /// A whole answer's body, from its whole text.
    pub fn body(&mut self, text: &str, done: &Finished) -> (Vec<u8>, ToolOutcome) {
        let call = self.scanner.as_mut().and_then(|s| {
            s.push(text);
            s.finish().1
        });
        // Not streamed yet, so a call whose arguments are broken is text.
        let outcome = match self.outcome(call.as_ref()) {
            ToolOutcome::BrokenArguments if self.required => ToolOutcome::Missing,
            ToolOutcome::BrokenArguments => ToolOutcome::Text,
            o => o,
        };
        let usage = usage(done);
        let body = match call.filter(|c| c.valid) {
            Some(c) => self
                .events
                .tool_call_body(&self.call_id, &c.name, &c.arguments, usage),
            None => {
                let extra = match self.endpoint {
                    Endpoint::Chat | Endpoint::Completions => timings(done),
                    _ => String::new(),
                };
                self.events
                    .body_with(text, done.reason.as_str(), usage, &extra)
            }
        };
        (body, outcome)
    }
}

#[cfg(test)]
#[path = "answer_tests.rs"]
mod tests;
