//! Answering with a tool call: whether to, and the JSON arguments, which
//! are the text the request would otherwise have got, one piece per chunk
//! of tokens: `{"query":"<generated text>"}`. With `tools.argument_tokens`
//! the arguments carry only the first tokens and the model goes on
//! generating the rest without a delta.

use std::borrow::Cow;

use tokenpace_corpus::SplitMix64;
use tokenpace_wire::sse::ChunkExtras;
use tokenpace_wire::{CompletionRequest, Events, ToolChoice};

use crate::truth::ToolCallTruth;

/// How the arguments open and close; `bad_tool_args` leaves the object open.
const OPEN: &str = "{\"query\":\"";
const CLOSE: &str = "\"}";
const BAD_CLOSE: &str = "\"";

/// A tool call the response will be.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct ToolPlan {
    pub id: String,
    pub name: String,
    /// The arguments end without their closing brace (the fault).
    pub bad_args: bool,
    /// Tokens the arguments carry (0: every token generated).
    pub argument_tokens: u64,
}

/// Whether `req` gets a tool call: always under `required` or a named
/// function, under `auto` with probability `share` drawn from `seed` (the
/// request's, so repeatable), never under `none` or without tools. The
/// function is the named one, else the first offered.
pub(super) fn plan(
    req: &CompletionRequest,
    share: f64,
    seed: u64,
    bad_args: bool,
    argument_tokens: u64,
) -> Option<ToolPlan> {
    let first = req.tools.first()?;
    let mut rng = SplitMix64::new(seed ^ 0x7001_ca11_7001_ca11);
    let name = match &req.tool_choice {
        ToolChoice::None => return None,
        ToolChoice::Auto if rng.next_f64() >= share => return None,
        ToolChoice::Function(name) => name.clone(),
        ToolChoice::Auto | ToolChoice::Required => first.name.clone(),
    };
    Some(ToolPlan {
        id: format!("call_{:016x}", rng.next_u64()),
        name,
        bad_args,
        argument_tokens,
    })
}

/// `text` escaped for the inside of a JSON string. Escaping is per
/// character, so escaped pieces join into the escaped whole.
fn escape(text: &str) -> String {
    let quoted = serde_json::to_string(text).unwrap_or_default();
    quoted
        .strip_prefix('"')
        .and_then(|q| q.strip_suffix('"'))
        .unwrap_or_default()
        .to_owned()
}

impl ToolPlan {
    /// The arguments text carried by a chunk of tokens `text`; the first
    /// chunk opens the JSON object and the last closes it.
    pub fn piece(&self, text: &str, first: bool, last: bool) -> String {
        let mut out = String::new();
        if first {
            out.push_str(OPEN);
        }
        out.push_str(&escape(text));
        if last {
            out.push_str(if self.bad_args { BAD_CLOSE } else { CLOSE });
        }
        out
    }

    /// How many of `generated` tokens the arguments carry.
    pub fn shown(&self, generated: usize) -> usize {
        match usize::try_from(self.argument_tokens) {
            Ok(0) | Err(_) => generated,
            Ok(n) => n.min(generated),
        }
    }

    /// Whether the model generates tokens after the arguments' last delta.
    pub fn trails(&self, generated: usize) -> bool {
        self.shown(generated) < generated
    }

    /// The whole arguments for the generated `tokens`.
    pub fn arguments(&self, tokens: &[Cow<'static, str>]) -> String {
        self.piece(&tokens[..self.shown(tokens.len())].concat(), true, true)
    }

    /// The events of one chunk (the first also names the call) and the
    /// arguments text they carry.
    pub fn chunk(
        &self,
        events: &Events,
        text: &str,
        last: bool,
        c: &ChunkExtras<'_>,
    ) -> (Vec<u8>, String) {
        let piece = self.piece(text, c.first, last);
        let start = c.first.then_some((self.id.as_str(), self.name.as_str()));
        (events.tool_chunk(start, &piece, c), piece)
    }

    /// Its line in the truth file, before anything is sent.
    pub fn truth(&self) -> ToolCallTruth {
        ToolCallTruth {
            id: self.id.clone(),
            name: self.name.clone(),
            first_chunk_ns: None,
            argument_chars: 0,
            delta_tokens: 0,
            valid_json: !self.bad_args,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_wire::{request, Endpoint};

    fn req(tools: &str, choice: &str) -> CompletionRequest {
        let body =
            format!(r#"{{"messages":[{{"role":"user","content":"x"}}],"tools":{tools}{choice}}}"#);
        request::parse(Endpoint::Chat, body.as_bytes(), 10).unwrap()
    }

    const TWO: &str = r#"[{"type":"function","function":{"name":"search"}},{"type":"function","function":{"name":"fetch"}}]"#;

    #[test]
    fn the_choice_decides() {
        let named = r#","tool_choice":{"type":"function","function":{"name":"fetch"}}"#;
        assert_eq!(
            plan(&req(TWO, named), 0.0, 1, false, 0).unwrap().name,
            "fetch"
        );
        let required = r#","tool_choice":"required""#;
        assert_eq!(
            plan(&req(TWO, required), 0.0, 1, false, 0).unwrap().name,
            "search"
        );
        assert!(plan(&req(TWO, r#","tool_choice":"none""#), 1.0, 1, false, 0).is_none());
        assert!(plan(&req("null", ""), 1.0, 1, false, 0).is_none());
        // auto: every request at share 1, none at 0, about half at 0.5,
        // and the same request always decides the same way.
        assert!((0..100).all(|s| plan(&req(TWO, ""), 1.0, s, false, 0).is_some()));
        assert!((0..100).all(|s| plan(&req(TWO, ""), 0.0, s, false, 0).is_none()));
        let half = (0..1000)
            .filter(|&s| plan(&req(TWO, ""), 0.5, s, false, 0).is_some())
            .count();
        assert!((400..600).contains(&half), "{half}");
        assert_eq!(
            plan(&req(TWO, ""), 0.5, 7, false, 0),
            plan(&req(TWO, ""), 0.5, 7, false, 0)
        );
    }

    #[test]
    fn pieces_join_into_valid_json_unless_the_fault_is_on() {
        let tokens: Vec<Cow<'static, str>> = ["He said", " \"你好\"", "\n\\ end"]
            .into_iter()
            .map(Cow::Borrowed)
            .collect();
        for bad in [false, true] {
            let call = ToolPlan {
                id: "call_1".into(),
                name: "search".into(),
                bad_args: bad,
                argument_tokens: 0,
            };
            let n = tokens.len();
            let joined: String = tokens
                .iter()
                .enumerate()
                .map(|(i, t)| call.piece(t, i == 0, i + 1 == n))
                .collect();
            assert_eq!(joined, call.arguments(&tokens));
            let parsed = serde_json::from_str::<serde_json::Value>(&joined);
            assert_eq!(parsed.is_ok(), !bad, "{joined}");
            if let Ok(v) = parsed {
                assert_eq!(v["query"], tokens.concat());
            }
        }
        let call = ToolPlan {
            id: "c".into(),
            name: "s".into(),
            bad_args: false,
            argument_tokens: 2,
        };
        assert_eq!(call.arguments(&[]), r#"{"query":""}"#);
        // Two tokens shown of three: the third is generated after.
        assert_eq!(call.arguments(&tokens), r#"{"query":"He said \"你好\""}"#);
        assert!(call.trails(3) && !call.trails(2));
        assert_eq!((call.shown(3), call.shown(1)), (2, 1));
    }
}
