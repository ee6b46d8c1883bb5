//! Answering with a tool call: whether to, and the JSON arguments, which
//! are the text the request would otherwise have got, one piece per chunk
//! of tokens: `{"query":"<generated text>"}`.

use std::borrow::Cow;

use tokenpace_corpus::SplitMix64;
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

    /// The whole arguments for `tokens`.
    pub fn arguments(&self, tokens: &[Cow<'static, str>]) -> String {
        self.piece(&tokens.concat(), true, true)
    }

    /// The events of one chunk (the first also names the call) and the
    /// arguments text they carry.
    pub fn chunk(&self, events: &Events, text: &str, first: bool, last: bool) -> (Vec<u8>, String) {
        let piece = self.piece(text, first, last);
        let mut out = Vec::new();
        if first {
            out = events.tool_call_start(&self.id, &self.name);
        }
        out.extend(events.tool_call_arguments(&piece));
        (out, piece)
    }

    /// Its line in the truth file, before anything is sent.
    pub fn truth(&self) -> ToolCallTruth {
        ToolCallTruth {
            id: self.id.clone(),
            name: self.name.clone(),
            first_chunk_ns: None,
            argument_chars: 0,
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
        assert_eq!(plan(&req(TWO, named), 0.0, 1, false).unwrap().name, "fetch");
        let required = r#","tool_choice":"required""#;
        assert_eq!(
            plan(&req(TWO, required), 0.0, 1, false).unwrap().name,
            "search"
        );
        assert!(plan(&req(TWO, r#","tool_choice":"none""#), 1.0, 1, false).is_none());
        assert!(plan(&req("null", ""), 1.0, 1, false).is_none());
        // auto: every request at share 1, none at 0, about half at 0.5,
        // and the same request always decides the same way.
        assert!((0..100).all(|s| plan(&req(TWO, ""), 1.0, s, false).is_some()));
        assert!((0..100).all(|s| plan(&req(TWO, ""), 0.0, s, false).is_none()));
        let half = (0..1000)
            .filter(|&s| plan(&req(TWO, ""), 0.5, s, false).is_some())
            .count();
        assert!((400..600).contains(&half), "{half}");
        assert_eq!(
            plan(&req(TWO, ""), 0.5, 7, false),
            plan(&req(TWO, ""), 0.5, 7, false)
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
        };
        assert_eq!(call.arguments(&[]), r#"{"query":""}"#);
    }
}
