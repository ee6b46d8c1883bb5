//! Where a session's user messages come from: synthetic text from the
//! corpus, or real conversations from a file (multi-turn ShareGPT, or
//! OpenAI `messages` JSONL) replayed turn by turn. Only the users' messages
//! are taken from a file: the assistant's side of the history is what the
//! server under test answers.

use crate::workload::{PromptSource, Workload};
use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::Path;

/// Sessions never have more turns than this (an exponential draw is cut),
/// so `session × MAX_TURNS + turn` numbers every user message uniquely.
pub const MAX_TURNS: u32 = 256;

/// The user side of conversations.
pub trait ConversationSource: Send + Sync + std::fmt::Debug {
    /// User messages session `k` has (`None`: as many as asked for).
    fn turns(&self, k: u64) -> Option<u32>;
    /// Session `k`'s system prompt, if any.
    fn system(&self, k: u64) -> Option<String>;
    /// The user's message at `turn` of session `k`.
    fn user_message(&self, k: u64, turn: u32) -> String;
    /// `max_tokens` of each turn.
    fn max_tokens(&self) -> u32;
    /// Ask for exactly `max_tokens`.
    fn ignore_eos(&self) -> bool;
}

/// Synthetic sessions: every user message is `prompt_tokens` of fresh
/// corpus text; the workload's shared prefix (per prefix group, by
/// session) is the system prompt.
#[derive(Debug, Clone)]
pub struct Synthetic(pub Workload);

impl ConversationSource for Synthetic {
    fn turns(&self, _: u64) -> Option<u32> {
        None
    }

    fn system(&self, k: u64) -> Option<String> {
        self.0.prefix_text(k)
    }

    fn user_message(&self, k: u64, turn: u32) -> String {
        let own = Workload {
            shared_prefix: 0,
            ..self.0.clone()
        };
        own.prompt(k * u64::from(MAX_TURNS) + u64::from(turn)).text
    }

    fn max_tokens(&self) -> u32 {
        self.0.max_tokens
    }

    fn ignore_eos(&self) -> bool {
        self.0.ignore_eos
    }
}

/// One conversation of a file: its system prompt and user messages.
#[derive(Debug, Clone, PartialEq)]
struct Conversation {
    system: Option<String>,
    users: Vec<String>,
}

/// Conversations read from a file, used in order and repeated as needed.
#[derive(Debug, Clone)]
pub struct FileConversations {
    conversations: Vec<Conversation>,
    /// `max_tokens` of each turn.
    pub max_tokens: u32,
    /// Ask for exactly `max_tokens`.
    pub ignore_eos: bool,
}

#[derive(Deserialize)]
struct ShareGpt {
    #[serde(default)]
    conversations: Vec<ShareGptTurn>,
}

#[derive(Deserialize)]
struct ShareGptTurn {
    from: String,
    value: String,
}

#[derive(Deserialize)]
struct MessagesLine {
    messages: Vec<Message>,
}

#[derive(Deserialize)]
struct Message {
    role: String,
    #[serde(default)]
    content: Option<String>,
}

impl FileConversations {
    /// Reads a conversations file.
    pub fn load(path: &Path, max_tokens: u32, ignore_eos: bool) -> anyhow::Result<Self> {
        let text = std::fs::read_to_string(path).with_context(|| {
            format!("could not read the conversations file '{}'", path.display())
        })?;
        let conversations =
            parse(&text).with_context(|| format!("conversations file '{}'", path.display()))?;
        Ok(FileConversations {
            conversations,
            max_tokens,
            ignore_eos,
        })
    }

    /// How many conversations the file holds.
    pub fn len(&self) -> usize {
        self.conversations.len()
    }

    /// Whether it holds none (never true for a loaded file).
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty()
    }

    fn get(&self, k: u64) -> &Conversation {
        &self.conversations[(k % self.conversations.len() as u64) as usize]
    }
}

fn parse(text: &str) -> anyhow::Result<Vec<Conversation>> {
    let conversations: Vec<Conversation> = if text.trim_start().starts_with('[') {
        let all: Vec<ShareGpt> = serde_json::from_str(text).context(
            "not a ShareGPT file (a JSON array of {\"conversations\": [{\"from\", \"value\"}]})",
        )?;
        all.into_iter()
            .map(|c| Conversation {
                system: c
                    .conversations
                    .iter()
                    .find(|t| t.from == "system")
                    .map(|t| t.value.clone()),
                users: c
                    .conversations
                    .into_iter()
                    .filter(|t| t.from == "human" || t.from == "user")
                    .map(|t| t.value)
                    .collect(),
            })
            .collect()
    } else {
        let mut out = Vec::new();
        for (i, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let l: MessagesLine = serde_json::from_str(line).with_context(|| {
                format!(
                    "line {}: not a {{\"messages\": [{{\"role\", \"content\"}}]}} object",
                    i + 1
                )
            })?;
            let take = |role: &'static str| -> Vec<String> {
                l.messages
                    .iter()
                    .filter(|m| m.role == role)
                    .filter_map(|m| m.content.clone())
                    .collect()
            };
            let system = take("system").into_iter().next();
            let users = take("user");
            if users.is_empty() {
                bail!("line {}: the conversation has no user message", i + 1);
            }
            out.push(Conversation { system, users });
        }
        out
    };
    let conversations: Vec<Conversation> = conversations
        .into_iter()
        .filter(|c| !c.users.is_empty())
        .collect();
    if conversations.is_empty() {
        bail!("it holds no conversation with a user message");
    }
    Ok(conversations)
}

impl ConversationSource for FileConversations {
    fn turns(&self, k: u64) -> Option<u32> {
        Some(self.get(k).users.len().min(u32::MAX as usize) as u32)
    }

    fn system(&self, k: u64) -> Option<String> {
        self.get(k).system.clone()
    }

    fn user_message(&self, k: u64, turn: u32) -> String {
        let users = &self.get(k).users;
        users[(turn as usize).min(users.len() - 1)].clone()
    }

    fn max_tokens(&self) -> u32 {
        self.max_tokens
    }

    fn ignore_eos(&self) -> bool {
        self.ignore_eos
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_multi_turn_sharegpt() {
        let c = parse(
            r#"[{"conversations":[{"from":"system","value":"s"},{"from":"human","value":"q1"},{"from":"gpt","value":"a1"},{"from":"human","value":"q2"}]},{"conversations":[{"from":"gpt","value":"x"}]}]"#,
        )
        .unwrap();
        assert_eq!(
            c,
            vec![Conversation {
                system: Some("s".into()),
                users: vec!["q1".into(), "q2".into()]
            }]
        );
    }

    #[test]
    fn reads_messages_jsonl() {
        let c = parse(
            "{\"messages\":[{\"role\":\"user\",\"content\":\"你好\"},{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"再说\"}]}\n\n",
        )
        .unwrap();
        assert_eq!(c[0].users, vec!["你好".to_string(), "再说".to_string()]);
        assert_eq!(c[0].system, None);
    }

    #[test]
    fn bad_files_say_where_and_what() {
        let e = format!("{:#}", parse("{\"messages\":[]}\n").unwrap_err());
        assert!(e.contains("line 1") && e.contains("no user message"), "{e}");
        let e = format!(
            "{:#}",
            parse("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}\n{oops").unwrap_err()
        );
        assert!(e.contains("line 2"), "{e}");
        assert!(parse("[]").is_err());
        assert!(parse("").is_err());
    }

    #[test]
    fn files_repeat_and_cap_turns() {
        let f = FileConversations {
            conversations: parse("{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}]}\n{\"messages\":[{\"role\":\"user\",\"content\":\"b\"},{\"role\":\"user\",\"content\":\"c\"}]}").unwrap(),
            max_tokens: 4,
            ignore_eos: false,
        };
        assert_eq!(
            (f.turns(0), f.turns(1), f.turns(2)),
            (Some(1), Some(2), Some(1))
        );
        assert_eq!(f.user_message(3, 1), "c");
    }
}
