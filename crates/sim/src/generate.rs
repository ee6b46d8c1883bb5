//! The text of a response: pseudo-tokens from the shipped corpus, cut at
//! `max_tokens`, the natural end or a stop sequence, and how they are
//! grouped into streamed chunks.

use std::borrow::Cow;
use std::ops::Range;

use tokenpace_corpus::{PseudoTokens, TextLang};

use tokenpace_wire::CompletionRequest;

/// What the simulated model says.
#[derive(Debug, Clone, PartialEq)]
pub struct Generation {
    /// The tokens, in order (the last may be cut short by a stop sequence).
    /// An empty token is the first part of a character split across two
    /// tokens (`text.utf8_hold_back`): partial UTF-8, held back.
    pub tokens: Vec<Cow<'static, str>>,
    /// `stop` (natural end or stop sequence) or `length` (hit `max_tokens`).
    pub finish_reason: &'static str,
}

/// Generates the answer to `req`. `natural` is how many tokens the model
/// says before its EOS, at least `min_tokens` (like vLLM, no end and no
/// stop sequence before that many tokens); `seed` picks where in the
/// corpus it starts;
/// `hold_back` splits each piece that starts with a multi-byte character
/// into two tokens, the first empty (see [`Generation::tokens`]).
pub fn generate(
    req: &CompletionRequest,
    natural: u64,
    lang: TextLang,
    seed: u64,
    hold_back: bool,
) -> Generation {
    let natural = natural.max(req.min_tokens);
    let (count, mut finish) = match (req.max_tokens, req.ignore_eos) {
        (Some(max), true) => (max, "length"),
        (Some(max), false) if max <= natural => (max, "length"),
        (None, true) => (natural, "length"),
        _ => (natural, "stop"),
    };
    let offset = (seed.wrapping_mul(0x9E37_79B9) % (1 << 20)) as usize;
    let mut tokens: Vec<Cow<'static, str>> = PseudoTokens::at(lang, seed, offset)
        .flat_map(|piece| {
            let split = hold_back && piece.chars().next().is_some_and(|c| c.len_utf8() > 1);
            split
                .then_some("")
                .into_iter()
                .chain(std::iter::once(piece))
        })
        .take(count as usize)
        .map(Cow::Borrowed)
        .collect();
    if let Some(cut) = earliest_stop(&tokens, &req.stop, req.min_tokens) {
        truncate_at(&mut tokens, cut);
        finish = "stop";
    }
    Generation {
        tokens,
        finish_reason: finish,
    }
}

impl Generation {
    /// The streamed chunks of the first `shown` tokens: ranges of at least
    /// `per_chunk` tokens (the last may have fewer), a held-back token
    /// always sent with the next.
    pub fn chunks(&self, shown: usize, per_chunk: usize) -> Vec<Range<usize>> {
        let shown = shown.min(self.tokens.len());
        let mut out = Vec::new();
        let mut start = 0;
        for (i, token) in self.tokens[..shown].iter().enumerate() {
            if i + 1 - start >= per_chunk && !token.is_empty() {
                out.push(start..i + 1);
                start = i + 1;
            }
        }
        if start < shown {
            out.push(start..shown);
        }
        out
    }
}

/// Byte position in the joined text where the first stop sequence starts,
/// at or after the end of the first `min_tokens` tokens.
fn earliest_stop(tokens: &[Cow<'static, str>], stops: &[String], min_tokens: u64) -> Option<usize> {
    if stops.is_empty() {
        return None;
    }
    let text: String = tokens.concat();
    let floor: usize = tokens
        .iter()
        .take(min_tokens as usize)
        .map(|t| t.len())
        .sum();
    stops
        .iter()
        .filter_map(|s| text[floor..].find(s.as_str()).map(|at| floor + at))
        .min()
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
        req_min(max, ignore_eos, stop, 0)
    }

    fn req_min(max: Option<u64>, ignore_eos: bool, stop: &[&str], min: u64) -> CompletionRequest {
        let body = serde_json::json!({
            "prompt": "x", "max_tokens": max, "ignore_eos": ignore_eos, "stop": stop,
            "min_tokens": min,
        });
        let body = serde_json::to_vec(&body).unwrap();
        tokenpace_wire::request::parse(tokenpace_wire::Endpoint::Completions, &body, 1000).unwrap()
    }

    #[test]
    fn lengths_and_finish_reasons() {
        let g = generate(&req(Some(5), false, &[]), 10, TextLang::En, 1, false);
        assert_eq!((g.tokens.len(), g.finish_reason), (5, "length"));
        let g = generate(&req(Some(50), false, &[]), 10, TextLang::En, 1, false);
        assert_eq!((g.tokens.len(), g.finish_reason), (10, "stop"));
        let g = generate(&req(Some(50), true, &[]), 10, TextLang::En, 1, false);
        assert_eq!((g.tokens.len(), g.finish_reason), (50, "length"));
        assert_eq!(
            generate(&req(None, false, &[]), 7, TextLang::Zh, 2, false)
                .tokens
                .len(),
            7
        );
    }

    #[test]
    fn held_back_tokens_double_chinese_and_share_a_chunk() {
        let plain = generate(&req(Some(64), true, &[]), 10, TextLang::Zh, 3, false);
        let held = generate(&req(Some(32), true, &[]), 10, TextLang::Zh, 3, true);
        assert_eq!(held.tokens.len(), 32);
        let pieces = held.tokens.iter().filter(|t| !t.is_empty()).count();
        assert_eq!(held.tokens.concat(), plain.tokens[..pieces].concat());
        let chunks = held.chunks(32, 1);
        assert!(chunks.iter().all(|r| match r.len() {
            1 => true,
            2 => held.tokens[r.start].is_empty(),
            _ => false,
        }));
        // Nearly every Chinese piece is two tokens in one chunk (vLLM sent
        // 32 tokens in 16 chunks).
        let doubled = chunks.iter().filter(|r| r.len() == 2).count();
        assert!(doubled >= 12 && chunks.len() <= 20, "{chunks:?}");
        // English text has no multi-byte piece: one token per chunk.
        let en = generate(&req(Some(20), true, &[]), 10, TextLang::En, 3, true);
        assert_eq!(en.chunks(20, 1).len(), 20);
        assert_eq!(en.chunks(20, 3).len(), 7);
        assert_eq!(
            en.chunks(5, 1),
            (0..5).map(|i| i..i + 1).collect::<Vec<_>>()
        );
        let mixed = generate(&req(Some(200), true, &[]), 10, TextLang::Mixed, 3, true);
        let chunks = mixed.chunks(200, 1);
        assert_eq!(chunks.iter().map(|r| r.len()).sum::<usize>(), 200);
        assert!(chunks.len() < 200 && chunks.iter().any(|r| r.len() == 1));
    }

    #[test]
    fn stop_sequence_cuts_before_it() {
        let full = generate(&req(Some(200), true, &[]), 10, TextLang::Zh, 4, false);
        let text: String = full.tokens.concat();
        let at = text.find('。').unwrap();
        let g = generate(&req(Some(200), true, &["。"]), 10, TextLang::Zh, 4, false);
        assert_eq!(g.tokens.concat(), text[..at]);
        assert_eq!(g.finish_reason, "stop");
    }

    #[test]
    fn min_tokens_holds_off_the_end_and_stop_sequences() {
        // The model would end after 10 tokens: not before 25.
        let g = generate(
            &req_min(Some(50), false, &[], 25),
            10,
            TextLang::En,
            1,
            false,
        );
        assert_eq!((g.tokens.len(), g.finish_reason), (25, "stop"));
        let g = generate(
            &req_min(Some(20), false, &[], 20),
            10,
            TextLang::En,
            1,
            false,
        );
        assert_eq!((g.tokens.len(), g.finish_reason), (20, "length"));
        let g = generate(&req_min(None, false, &[], 30), 10, TextLang::En, 1, false);
        assert_eq!(g.tokens.len(), 30);
        // A longer natural answer is not cut.
        let g = generate(
            &req_min(Some(50), false, &[], 5),
            10,
            TextLang::En,
            1,
            false,
        );
        assert_eq!(g.tokens.len(), 10);
        // A stop sequence inside the first min_tokens tokens is passed over.
        let full = generate(&req(Some(200), true, &[]), 10, TextLang::Zh, 4, false);
        let text: String = full.tokens.concat();
        let first = text.find('。').unwrap();
        let min = full
            .tokens
            .iter()
            .scan(0, |end, t| {
                *end += t.len();
                Some(*end)
            })
            .position(|end| end > first)
            .unwrap() as u64
            + 1;
        let g = generate(
            &req_min(Some(200), true, &["。"], min),
            10,
            TextLang::Zh,
            4,
            false,
        );
        assert!(g.tokens.len() as u64 >= min, "{} < {min}", g.tokens.len());
        let at = g.tokens.concat().len();
        assert!(at > first && text[at..].starts_with('。'), "cut at {at}");
    }
}
