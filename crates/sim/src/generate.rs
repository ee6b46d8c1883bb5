//! The text of a response: pseudo-tokens from the shipped corpus, cut at
//! `max_tokens`, the natural end or a stop sequence.

use std::borrow::Cow;

use tokenpace_corpus::{Lang, PseudoTokens};

use tokenpace_wire::CompletionRequest;

/// What the simulated model says.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The tokens, in order (the last may be cut short by a stop sequence).
    pub tokens: Vec<Cow<'static, str>>,
    /// `stop` (natural end or stop sequence) or `length` (hit `max_tokens`).
    pub finish_reason: &'static str,
}

/// Generates the answer to `req`. `natural` is how many tokens the model
/// says before its EOS; `seed` picks where in the corpus it starts.
pub fn generate(req: &CompletionRequest, natural: u64, lang: Lang, seed: u64) -> Generation {
    let (count, mut finish) = match (req.max_tokens, req.ignore_eos) {
        (Some(max), true) => (max, "length"),
        (Some(max), false) if max <= natural => (max, "length"),
        (None, true) => (natural, "length"),
        _ => (natural, "stop"),
    };
    let offset = (seed.wrapping_mul(0x9E37_79B9) % (1 << 20)) as usize;
    let mut tokens: Vec<Cow<'static, str>> = PseudoTokens::at(lang, seed, offset)
        .take(count as usize)
        .map(Cow::Borrowed)
        .collect();
    if let Some(cut) = earliest_stop(&tokens, &req.stop) {
        truncate_at(&mut tokens, cut);
        finish = "stop";
    }
    Generation {
        tokens,
        finish_reason: finish,
    }
}

/// Byte position in the joined text where the first stop sequence starts.
fn earliest_stop(tokens: &[Cow<'static, str>], stops: &[String]) -> Option<usize> {
    if stops.is_empty() {
        return None;
    }
    let text: String = tokens.concat();
    stops.iter().filter_map(|s| text.find(s.as_str())).min()
}

/// Keeps the text before byte `cut` of the joined tokens.
fn truncate_at(tokens: &mut Vec<Cow<'static, str>>, cut: usize) {
    let mut pos = 0;
    for i in 0..tokens.len() {
        let len = tokens[i].len();
        if pos + len > cut {
            let keep = cut - pos;
            if keep == 0 {
                tokens.truncate(i);
            } else {
                // `cut` is where a stop string starts: a char boundary.
                let head = tokens[i][..keep].to_owned();
                tokens.truncate(i);
                tokens.push(Cow::Owned(head));
            }
            return;
        }
        pos += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(max: Option<u64>, ignore_eos: bool, stop: &[&str]) -> CompletionRequest {
        let body = serde_json::json!({
            "prompt": "x", "max_tokens": max, "ignore_eos": ignore_eos, "stop": stop,
        });
        let body = serde_json::to_vec(&body).unwrap();
        tokenpace_wire::request::parse(tokenpace_wire::Endpoint::Completions, &body, 1000).unwrap()
    }

    #[test]
    fn lengths_and_finish_reasons() {
        let g = generate(&req(Some(5), false, &[]), 10, Lang::En, 1);
        assert_eq!((g.tokens.len(), g.finish_reason), (5, "length"));
        let g = generate(&req(Some(50), false, &[]), 10, Lang::En, 1);
        assert_eq!((g.tokens.len(), g.finish_reason), (10, "stop"));
        let g = generate(&req(Some(50), true, &[]), 10, Lang::En, 1);
        assert_eq!((g.tokens.len(), g.finish_reason), (50, "length"));
        assert_eq!(
            generate(&req(None, false, &[]), 7, Lang::Zh, 2)
                .tokens
                .len(),
            7
        );
    }

    #[test]
    fn stop_sequence_cuts_before_it() {
        let full = generate(&req(Some(200), true, &[]), 10, Lang::Zh, 4);
        let text: String = full.tokens.concat();
        let at = text.find('。').unwrap();
        let g = generate(&req(Some(200), true, &["。"]), 10, Lang::Zh, 4);
        assert_eq!(g.tokens.concat(), text[..at]);
        assert_eq!(g.finish_reason, "stop");
    }
}
