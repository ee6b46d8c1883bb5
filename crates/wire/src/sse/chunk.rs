//! Streamed chunks with what rides along with them: a finish reason on
//! the last token's chunk, usage on every chunk, a dialect's extra fields.
//! The chat and completions chunks are written here in every dialect
//! ([`super::DialectShape`]); the APIs with typed events keep their own.

use super::{pad, quote, Events, Usage};
use crate::request::Endpoint;

/// What a streamed chunk carries besides its text.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ChunkExtras<'a> {
    /// The answer's first chunk: chat adds the role (in a role-only chunk
    /// of its own in dialects that send one).
    pub first: bool,
    /// The stream's finish reason, when this chunk carries the answer's
    /// last token and the dialect says so on it
    /// ([`Events::finishes_on_last_chunk`]).
    pub finish_reason: Option<&'a str>,
    /// The counts so far, this chunk's tokens included, when usage is sent
    /// on every chunk (`stream_options.continuous_usage_stats`).
    pub usage: Option<Usage>,
    /// Nothing but `[DONE]` follows (no finish or usage chunk): the dialect's
    /// last-event fields go on this one.
    pub last_event: bool,
    /// Pad the JSON with a filler field to at least this many bytes.
    pub pad_to: Option<usize>,
}

/// How a chat or completions stream ends.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StreamTail<'a> {
    /// The finish reason, unless the last token's chunk carried it.
    pub finish_reason: Option<&'a str>,
    /// The usage chunk's counts, when the client asked for usage.
    pub usage: Option<Usage>,
    /// The counts carried by the finish chunk when usage is sent on every
    /// chunk.
    pub running: Option<Usage>,
}

impl Events {
    /// Whether a text answer's finish reason rides on its last token's
    /// chunk (then [`StreamTail::finish_reason`] is `None`).
    pub fn finishes_on_last_chunk(&self) -> bool {
        matches!(self.endpoint, Endpoint::Chat | Endpoint::Completions)
            && self.shape().finish_on_last_chunk
    }

    /// A chunk of answer text. The APIs other than chat and completions
    /// have no usage or finish on their chunks: see [`Events::content`].
    pub fn text_chunk(&self, text: &str, c: &ChunkExtras<'_>) -> Vec<u8> {
        match self.endpoint {
            Endpoint::Chat => {
                let mut out = Vec::new();
                // After reasoning the role has been sent.
                let first = c.first && self.reasoning.is_none();
                let delta = if first && self.shape().role_chunk.is_none() {
                    format!(
                        "\"delta\":{{\"role\":\"assistant\",\"content\":{}}}",
                        quote(text)
                    )
                } else {
                    if first {
                        out = self.role_chunk(c.usage);
                    }
                    format!("\"delta\":{{\"content\":{}}}", quote(text))
                };
                out.extend(self.openai_event(&delta, c));
                out
            }
            Endpoint::Completions => self.openai_event(&format!("\"text\":{}", quote(text)), c),
            _ => self.content(text, c.first, c.pad_to),
        }
    }

    /// A chunk of a tool call's arguments, `start` (the call's id and
    /// function) on its first.
    pub fn tool_chunk(
        &self,
        start: Option<(&str, &str)>,
        piece: &str,
        c: &ChunkExtras<'_>,
    ) -> Vec<u8> {
        if self.endpoint != Endpoint::Chat {
            let mut out = start.map_or_else(Vec::new, |(id, name)| self.tool_call_start(id, name));
            out.extend(self.tool_call_arguments(piece));
            return out;
        }
        let mut out = Vec::new();
        if let Some((id, name)) = start {
            out = self.role_chunk(c.usage);
            out.extend(self.openai_event(&self.tool_start_delta(id, name), c));
        }
        out.extend(self.openai_event(&self.tool_arguments_delta(piece), c));
        out
    }

    /// The end of a chat or completions stream: the finish chunk (unless
    /// the last token's chunk carried it), usage if asked, and `[DONE]`.
    /// The other APIs end with [`Events::finish_output`] or
    /// [`Events::native_end`].
    pub fn stream_end(&self, end: &StreamTail<'_>) -> Vec<u8> {
        let mut out = Vec::new();
        if let (Some(reason), Some(u), true) = (end.finish_reason, end.usage, self.usage_unasked())
        {
            let choices = format!(
                "[{{\"index\":0,\"delta\":{{}},\"logprobs\":null,\"finish_reason\":{}}}]",
                quote(reason)
            );
            out = self.chunk_event(&choices, None, &self.x_groq(&u), true, None);
            out.extend(self.event("[DONE]"));
            return out;
        }
        if let Some(reason) = end.finish_reason {
            let body = match self.endpoint {
                Endpoint::Chat => "\"delta\":{}",
                _ => "\"text\":\"\"",
            };
            let c = ChunkExtras {
                finish_reason: Some(reason),
                usage: end.running,
                last_event: end.usage.is_none(),
                ..ChunkExtras::default()
            };
            out = self.openai_event(body, &c);
        }
        if let Some(u) = end.usage {
            out.extend(self.chunk_event("[]", Some(self.usage_json(&u)), "", true, None));
        }
        out.extend(self.event("[DONE]"));
        out
    }

    /// The role-only chunk of a dialect that sends one, with the prompt's
    /// count when usage rides on every chunk; nothing otherwise.
    pub(super) fn role_chunk(&self, running: Option<Usage>) -> Vec<u8> {
        let Some(fields) = self.shape().role_chunk else {
            return Vec::new();
        };
        let choice = "[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null,\"finish_reason\":null}]";
        let usage = running.map(|u| self.running_usage_json(&Usage::new(u.prompt_tokens, 0)));
        self.chunk_event(choice, usage, fields, false, None)
    }

    /// One chunk whose choice has `body` (`"delta":{…}` or `"text":…`).
    pub(super) fn openai_event(&self, body: &str, c: &ChunkExtras<'_>) -> Vec<u8> {
        let shape = self.shape();
        let tail = match (self.endpoint, c.finish_reason) {
            (Endpoint::Chat, None) => shape.chat_tail,
            (Endpoint::Chat, Some(_)) => shape.chat_finish_tail,
            _ => shape.completion_tail,
        };
        let finish = c.finish_reason.map_or_else(|| "null".to_owned(), quote);
        let choices =
            format!("[{{\"index\":0,{body},\"logprobs\":null,\"finish_reason\":{finish}{tail}}}]");
        let usage = c.usage.map(|u| self.running_usage_json(&u));
        self.chunk_event(&choices, usage, "", c.last_event, c.pad_to)
    }

    /// `{id…,"choices":…` then usage, `fields`, the dialect's last-event
    /// fields and padding.
    fn chunk_event(
        &self,
        choices: &str,
        usage: Option<String>,
        fields: &str,
        last: bool,
        pad_to: Option<usize>,
    ) -> Vec<u8> {
        let mut json = format!("{{{},\"choices\":{choices}", self.prefix);
        if let Some(u) = usage {
            json.push_str(",\"usage\":");
            json.push_str(&u);
        }
        json.push_str(fields);
        if last {
            json.push_str(self.shape().last_event_fields);
        }
        pad(&mut json, pad_to);
        json.push('}');
        self.event(&json)
    }
}

#[cfg(test)]
#[path = "chunk_tests.rs"]
mod tests;
