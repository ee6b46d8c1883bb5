//! Token pieces are bytes, and a character can be split across tokens
//! (common for CJK text and emoji): hold back an incomplete tail until the
//! token that completes it arrives.

/// Bytes of generated text not yet handed out.
#[derive(Debug, Default)]
pub struct Utf8Buffer {
    pending: Vec<u8>,
}

impl Utf8Buffer {
    /// Appends a token's bytes and returns every complete character so far.
    /// Invalid sequences (not merely incomplete ones) come out as U+FFFD.
    pub fn push(&mut self, bytes: &[u8]) -> String {
        self.pending.extend_from_slice(bytes);
        let mut out = String::new();
        loop {
            match std::str::from_utf8(&self.pending) {
                Ok(s) => {
                    out.push_str(s);
                    self.pending.clear();
                    return out;
                }
                Err(e) => {
                    let valid = e.valid_up_to();
                    // SAFETY-free: from_utf8 said this prefix is valid.
                    out.push_str(std::str::from_utf8(&self.pending[..valid]).unwrap_or(""));
                    match e.error_len() {
                        // An incomplete character at the end: wait for more.
                        None => {
                            self.pending.drain(..valid);
                            return out;
                        }
                        Some(bad) => {
                            out.push(char::REPLACEMENT_CHARACTER);
                            self.pending.drain(..valid + bad);
                        }
                    }
                }
            }
        }
    }

    /// What is left at the end of a generation (an incomplete character).
    pub fn finish(&mut self) -> String {
        let rest = String::from_utf8_lossy(&self.pending).into_owned();
        self.pending.clear();
        rest
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cjk_character_split_over_tokens_comes_out_whole() {
        let text = "速度很快🙂";
        let bytes = text.as_bytes();
        for split in 0..=bytes.len() {
            for split2 in split..=bytes.len() {
                let mut b = Utf8Buffer::default();
                let mut out = b.push(&bytes[..split]);
                out += &b.push(&bytes[split..split2]);
                out += &b.push(&bytes[split2..]);
                out += &b.finish();
                assert_eq!(out, text, "splits {split} {split2}");
            }
        }
    }

    #[test]
    fn incomplete_tail_is_held_then_invalid_bytes_are_replaced() {
        let mut b = Utf8Buffer::default();
        assert_eq!(b.push(&[b'a', 0xE9, 0x80]), "a");
        assert_eq!(b.push(&[0x9F]), "速");
        assert_eq!(b.push(&[0xFF, b'b']), "\u{FFFD}b");
        assert_eq!(b.push(&[0xE9]), "");
        assert_eq!(b.finish(), "\u{FFFD}");
    }
}
