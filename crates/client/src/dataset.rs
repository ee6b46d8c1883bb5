//! Prompts from a file: JSONL with one `{"prompt": "…"}` or
//! `{"messages": [...]}` per line, or a ShareGPT JSON array (the first human
//! turn of each conversation is the prompt, as peers use it).

use crate::backend::Prompt;
use crate::workload::{estimated_prompt, PromptSource};
use anyhow::{bail, Context};
use serde::Deserialize;
use std::path::Path;

/// One dataset entry.
#[derive(Debug, Clone, PartialEq)]
enum Entry {
    /// A plain prompt.
    Text(String),
    /// A chat conversation, and its text for completions and estimates.
    Messages(serde_json::Value, String),
}

/// Prompts read from a file, used in order and repeated as needed.
#[derive(Debug, Clone)]
pub struct Dataset {
    entries: Vec<Entry>,
    /// `max_tokens` per request.
    pub max_tokens: u32,
    /// Ask for exactly `max_tokens`.
    pub ignore_eos: bool,
}

#[derive(Deserialize)]
struct Line {
    #[serde(default)]
    prompt: Option<String>,
    #[serde(default)]
    messages: Option<Vec<Message>>,
}

#[derive(Deserialize, serde::Serialize)]
struct Message {
    role: String,
    content: String,
}

#[derive(Deserialize)]
struct ShareGpt {
    #[serde(default)]
    conversations: Vec<Turn>,
}

#[derive(Deserialize)]
struct Turn {
    from: String,
    value: String,
}

impl Dataset {
    /// Reads a dataset file.
    pub fn load(path: &Path, max_tokens: u32, ignore_eos: bool) -> anyhow::Result<Dataset> {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("could not read the dataset '{}'", path.display()))?;
        let entries =
            Self::parse(&text).with_context(|| format!("dataset '{}'", path.display()))?;
        Ok(Dataset {
            entries,
            max_tokens,
            ignore_eos,
        })
    }

    /// How many prompts the dataset holds.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether the dataset holds no prompt (never true for a loaded one).
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    fn parse(text: &str) -> anyhow::Result<Vec<Entry>> {
        let entries = if text.trim_start().starts_with('[') {
            let convs: Vec<ShareGpt> = serde_json::from_str(text).context(
                "not a ShareGPT file (a JSON array of {\"conversations\": [{\"from\", \"value\"}]})",
            )?;
            convs
                .into_iter()
                .filter_map(|c| {
                    c.conversations
                        .into_iter()
                        .find(|t| t.from == "human" || t.from == "user")
                })
                .map(|t| Entry::Text(t.value))
                .collect()
        } else {
            let mut entries = Vec::new();
            for (i, line) in text
                .lines()
                .enumerate()
                .filter(|(_, l)| !l.trim().is_empty())
            {
                let l: Line = serde_json::from_str(line)
                    .with_context(|| format!("line {}: not JSON", i + 1))?;
                entries.push(match (l.prompt, l.messages) {
                    (Some(p), _) => Entry::Text(p),
                    (None, Some(m)) if !m.is_empty() => {
                        let text = m
                            .iter()
                            .map(|m| m.content.as_str())
                            .collect::<Vec<_>>()
                            .join("\n");
                        Entry::Messages(serde_json::to_value(&m)?, text)
                    }
                    _ => bail!(
                        "line {}: needs a \"prompt\" string or a non-empty \"messages\" array",
                        i + 1
                    ),
                });
            }
            entries
        };
        if entries.is_empty() {
            bail!("it holds no prompts");
        }
        Ok(entries)
    }
}

impl PromptSource for Dataset {
    fn prompt(&self, id: u64) -> Prompt {
        let entry = &self.entries[(id % self.entries.len() as u64) as usize];
        let (text, messages) = match entry {
            Entry::Text(t) => (t.clone(), None),
            Entry::Messages(m, t) => (t.clone(), Some(m.clone())),
        };
        estimated_prompt(text, messages, self.max_tokens, self.ignore_eos)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_jsonl_prompts_and_messages() {
        let e = Dataset::parse("{\"prompt\":\"你好\"}\n\n{\"messages\":[{\"role\":\"system\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"b\"}]}\n").unwrap();
        assert_eq!(e.len(), 2);
        assert_eq!(e[0], Entry::Text("你好".into()));
        match &e[1] {
            Entry::Messages(m, t) => {
                assert_eq!(m[1]["content"], "b");
                assert_eq!(t, "a\nb");
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn reads_sharegpt() {
        let e = Dataset::parse(
            r#"[{"conversations":[{"from":"human","value":"q1"},{"from":"gpt","value":"a1"}]},{"conversations":[]}]"#,
        )
        .unwrap();
        assert_eq!(e, vec![Entry::Text("q1".into())]);
    }

    #[test]
    fn bad_files_say_where() {
        let err = format!(
            "{:#}",
            Dataset::parse("{\"prompt\":\"a\"}\n{oops\n").unwrap_err()
        );
        assert!(err.contains("line 2"), "{err}");
        let err = format!("{:#}", Dataset::parse("{\"x\":1}\n").unwrap_err());
        assert!(err.contains("needs a \"prompt\""), "{err}");
        assert!(Dataset::parse("").is_err());
        assert!(Dataset::parse("[1,2]").is_err());
    }

    #[test]
    fn prompts_cycle() {
        let d = Dataset {
            entries: Dataset::parse("{\"prompt\":\"a\"}\n{\"prompt\":\"b\"}").unwrap(),
            max_tokens: 5,
            ignore_eos: false,
        };
        assert_eq!(
            (d.prompt(0).text, d.prompt(3).text),
            ("a".to_string(), "b".to_string())
        );
    }
}
