//! Usage objects of the OpenAI APIs in each dialect's words: the one at the
//! end of a stream (or in a whole body) and the one some servers put on
//! every chunk (`stream_options.continuous_usage_stats`).

use super::{Events, Usage, UsageStyle};
use crate::request::Endpoint;

impl Events {
    /// The usage object that ends a stream.
    pub(super) fn usage_json(&self, u: &Usage) -> String {
        match self.shape().usage {
            UsageStyle::OpenAi => serde_json::to_string(u).unwrap_or_default(),
            UsageStyle::Vllm => {
                let mut out = format!(
                    "{{\"prompt_tokens\":{},\"total_tokens\":{},\"completion_tokens\":{}",
                    u.prompt_tokens, u.total_tokens, u.completion_tokens
                );
                if let Some(d) = u.prompt_tokens_details {
                    out.push_str(&format!(
                        ",\"prompt_tokens_details\":{{\"cached_tokens\":{}",
                        d.cached_tokens
                    ));
                    // vLLM's completions leave the created tokens out.
                    if self.endpoint == Endpoint::Chat {
                        let created = d.created_cache_tokens.unwrap_or(0);
                        out.push_str(&format!(",\"created_cache_tokens\":{created}"));
                    }
                    out.push('}');
                }
                out.push('}');
                out
            }
            UsageStyle::DeepSeek => {
                let cached = u.prompt_tokens_details.map_or(0, |d| d.cached_tokens);
                let mut out = format!(
                    "{{\"prompt_tokens\":{},\"completion_tokens\":{},\"total_tokens\":{},\
                     \"prompt_tokens_details\":{{\"cached_tokens\":{cached}}}",
                    u.prompt_tokens, u.completion_tokens, u.total_tokens
                );
                if let Some(r) = u.reasoning_tokens {
                    out.push_str(&format!(
                        ",\"completion_tokens_details\":{{\"reasoning_tokens\":{r}}}"
                    ));
                }
                out.push_str(&format!(
                    ",\"prompt_cache_hit_tokens\":{cached},\"prompt_cache_miss_tokens\":{}}}",
                    u.prompt_tokens.saturating_sub(cached)
                ));
                out
            }
        }
    }

    /// The usage object a chunk carries when usage is sent on every chunk:
    /// the counts so far.
    pub(super) fn running_usage_json(&self, u: &Usage) -> String {
        match self.shape().usage {
            UsageStyle::OpenAi | UsageStyle::DeepSeek => self.usage_json(u),
            UsageStyle::Vllm => format!(
                "{{\"prompt_tokens\":{},\"total_tokens\":{},\"completion_tokens\":{},\"completion_tokens_details\":null}}",
                u.prompt_tokens, u.total_tokens, u.completion_tokens
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::Dialect;
    use super::*;
    use serde_json::json;

    fn usage(e: &Events, u: &Usage) -> serde_json::Value {
        serde_json::from_str(&e.usage_json(u)).unwrap()
    }

    #[test]
    fn each_dialect_writes_its_usage() {
        let u = Usage::new(420, 8).with_cached(0).with_created(384);
        let e = Events::new(Endpoint::Chat, "c", "m", 1, false);
        assert_eq!(
            e.usage_json(&u),
            serde_json::to_string(&u).unwrap(),
            "tokenpace: serde's bytes, created left out"
        );
        assert_eq!(
            usage(&e, &u)["prompt_tokens_details"],
            json!({"cached_tokens": 0})
        );
        let v = e.clone().with_dialect(Dialect::Vllm);
        assert_eq!(
            v.usage_json(&u),
            r#"{"prompt_tokens":420,"total_tokens":428,"completion_tokens":8,"prompt_tokens_details":{"cached_tokens":0,"created_cache_tokens":384}}"#
        );
        assert_eq!(
            v.running_usage_json(&Usage::new(37, 1)),
            r#"{"prompt_tokens":37,"total_tokens":38,"completion_tokens":1,"completion_tokens_details":null}"#
        );
        let c = Events::new(Endpoint::Completions, "c", "m", 1, false).with_dialect(Dialect::Vllm);
        assert_eq!(
            usage(&c, &u)["prompt_tokens_details"],
            json!({"cached_tokens": 0})
        );
        let off = Usage::new(3, 1);
        assert!(usage(&v, &off).get("prompt_tokens_details").is_none());
        // DeepSeek's usage (api-docs.deepseek.com, chat completion object):
        // the reasoning's count and the cache's hits and misses.
        let d = e.clone().with_dialect(Dialect::Deepseek);
        let u = usage(&d, &Usage::new(20, 9).with_cached(16).with_reasoning(4));
        assert_eq!(u["completion_tokens_details"]["reasoning_tokens"], 4);
        assert_eq!(u["prompt_tokens_details"]["cached_tokens"], 16);
        assert_eq!(
            (
                u["prompt_cache_hit_tokens"].clone(),
                u["prompt_cache_miss_tokens"].clone()
            ),
            (json!(16), json!(4))
        );
        assert_eq!(u["total_tokens"], 29);
    }
}
