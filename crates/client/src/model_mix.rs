//! Prompts of a mixed run (`bench --model-mix`): each request asks for the
//! model the mix assigns to its id, with that entry's own prompt and answer
//! lengths where it gives them.

use crate::backend::Prompt;
use crate::tokenizer::ModelTokenizer;
use crate::workload::{PromptSource, Workload};
use std::sync::Arc;
use tokenpace_core::model_mix::ModelMix;

/// A prompt source that sends each request to its model of the mix.
pub struct Mixed {
    mix: Arc<ModelMix>,
    seed: u64,
    base: Arc<dyn PromptSource>,
    /// Per entry, its own synthetic prompts when it gives its own length.
    own: Vec<Option<Workload>>,
}

impl Mixed {
    /// Requests of `base` spread over `mix` by `seed`; an entry with its
    /// own `prompt_tokens` gets synthetic prompts of that length from
    /// `workload` (cut on `workload`'s tokenizer, else estimated), unless
    /// the prompts come from a file (`synthetic` false).
    pub fn new(
        mix: Arc<ModelMix>,
        seed: u64,
        base: Arc<dyn PromptSource>,
        workload: &Workload,
        synthetic: bool,
    ) -> Mixed {
        let own = mix
            .entries()
            .iter()
            .map(|e| {
                e.prompt_tokens.filter(|_| synthetic).map(|n| Workload {
                    prompt_tokens: n,
                    cuts: None,
                    ..workload.clone()
                })
            })
            .collect();
        Mixed {
            mix,
            seed,
            base,
            own,
        }
    }
}

impl PromptSource for Mixed {
    fn prompt(&self, id: u64) -> Prompt {
        let i = self.mix.index(id, self.seed);
        let entry = &self.mix.entries()[i];
        let mut p = match &self.own[i] {
            Some(w) => w.prompt(id),
            None => self.base.prompt(id),
        };
        if let Some(m) = entry.max_tokens {
            p.max_tokens = m;
        }
        p.model = Some(entry.model.clone());
        p
    }

    fn tokenizer(&self) -> Option<&ModelTokenizer> {
        self.base.tokenizer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_corpus::TextLang;

    fn workload(prompt_tokens: u32) -> Workload {
        Workload {
            lang: TextLang::En,
            prompt_tokens,
            shared_prefix: 0,
            prefix_groups: 1,
            max_tokens: 100,
            ignore_eos: true,
            per_chunk_usage: false,
            seed: 3,
            salt: 9,
            tokenizer: None,
            cuts: None,
        }
    }

    #[test]
    fn each_request_carries_its_models_name_and_lengths() {
        let mix = Arc::new(ModelMix::parse("big=1,small=1:40:7").unwrap());
        let w = workload(400);
        let mixed = Mixed::new(mix.clone(), 0, Arc::new(w.clone()), &w, true);
        for id in 0..6 {
            let p = mixed.prompt(id);
            let entry = &mix.entries()[mix.index(id, 0)];
            assert_eq!(p.model.as_deref(), Some(entry.model.as_str()));
            let (tokens, max) = match entry.model.as_str() {
                "big" => (400, 100),
                _ => (40, 7),
            };
            assert_eq!(p.max_tokens, max, "request {id}");
            let counted = p.tokens.unwrap().count;
            assert!(
                counted.abs_diff(tokens) <= tokens / 10 + 2,
                "request {id}: {counted} for {tokens}"
            );
        }
    }

    #[test]
    fn prompts_from_a_file_keep_their_text() {
        let mix = Arc::new(ModelMix::parse("a=1:40,b=1").unwrap());
        let w = workload(400);
        let mixed = Mixed::new(mix, 0, Arc::new(w.clone()), &w, false);
        assert_eq!(mixed.prompt(0).text, w.prompt(0).text);
    }
}
