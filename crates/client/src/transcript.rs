//! What a response said, kept when a conversation continues from it (see
//! [`crate::recorder::Recorder::keep_transcript`]).

/// What a response said, kept when a conversation continues from it: the
/// visible answer and the tool calls, bounded so a hostile server cannot
/// grow the client's memory without limit.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Transcript {
    /// The visible answer text.
    pub answer: String,
    /// Tool calls in the order they started.
    pub tool_calls: Vec<StreamedToolCall>,
    /// Whether text was dropped because it passed [`Transcript::LIMIT`].
    pub truncated: bool,
    /// The API's index of each call in `tool_calls` (Anthropic and the
    /// Responses API number calls among text and reasoning blocks).
    pub(crate) indices: Vec<u32>,
}

/// One tool call as streamed: its id, function name and JSON arguments.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct StreamedToolCall {
    /// The call's id (`call_…`), as the server gave it.
    pub id: String,
    /// The function's name.
    pub name: String,
    /// The arguments, a JSON text once complete.
    pub arguments: String,
}

impl Transcript {
    /// Bytes of answer plus arguments kept at most (4 MiB).
    pub const LIMIT: usize = 4 << 20;
    /// Tool calls kept at most per response.
    pub const MAX_CALLS: usize = 64;

    fn size(&self) -> usize {
        self.answer.len()
            + self
                .tool_calls
                .iter()
                .map(|c| c.id.len() + c.name.len() + c.arguments.len())
                .sum::<usize>()
    }

    pub(crate) fn push(&mut self, add: &str, to: impl FnOnce(&mut Self) -> &mut String) {
        if self.size() + add.len() > Self::LIMIT {
            self.truncated = true;
        } else {
            to(self).push_str(add);
        }
    }

    pub(crate) fn tool_delta(&mut self, d: &crate::backend::ToolCallDelta<'_>) {
        let index = match self.indices.iter().position(|&i| i == d.index) {
            Some(at) => at,
            None if self.tool_calls.len() >= Self::MAX_CALLS => {
                self.truncated = true;
                return;
            }
            None => {
                self.indices.push(d.index);
                self.tool_calls.push(StreamedToolCall::default());
                self.tool_calls.len() - 1
            }
        };
        if let Some(id) = &d.id {
            self.push(id, |t| &mut t.tool_calls[index].id);
        }
        if let Some(name) = &d.name {
            self.push(name, |t| &mut t.tool_calls[index].name);
        }
        self.push(&d.arguments, |t| &mut t.tool_calls[index].arguments);
    }
}
