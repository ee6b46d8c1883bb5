//! Text safe for a terminal: whatever a server sent (a model name, an error
//! message) is shown, never obeyed. Control characters (ESC starting a
//! colour or a cursor move, BEL, CR overwriting a line, the C1 range) are
//! written as visible escapes (`\x1b`, `\u{9b}`); newlines and tabs stay.
//!
//! tokenpace itself prints no control character but newline and tab, so
//! escaping its whole output changes nothing it meant to print. Text from
//! data also stays on its line ([`line()`]): a name cannot start a line that
//! reads as tokenpace's.

use crate::line::one_line;
use std::borrow::Cow;
use std::io::{self, Write};

/// Whether `c` is written as an escape rather than as itself.
fn hostile(c: char) -> bool {
    c.is_control() && c != '\n' && c != '\t'
}

/// `text` with every control character but newline and tab escaped.
pub fn safe(text: &str) -> Cow<'_, str> {
    if !text.chars().any(hostile) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if hostile(c) {
            push_escape(&mut out, c);
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// `text` for one line of a terminal: line breaks shown as
/// [`crate::line::BREAK`], every other control character escaped as
/// [`safe`] does. What a table cell, a title or a warning shows of data.
pub fn line(text: &str) -> Cow<'_, str> {
    match one_line(text) {
        Cow::Borrowed(t) => safe(t),
        Cow::Owned(t) => Cow::Owned(safe(&t).into_owned()),
    }
}

fn push_escape(out: &mut String, c: char) {
    use std::fmt::Write as _;
    let code = u32::from(c);
    if code < 0x80 {
        let _ = write!(out, "\\x{code:02x}");
    } else {
        let _ = write!(out, "\\u{{{code:x}}}");
    }
}

/// A writer that escapes control characters (as [`safe`] does) in what is
/// written through it, however the bytes are split across writes. Bytes
/// that are not UTF-8 pass unchanged, but never a C0 control or DEL.
#[derive(Debug)]
pub struct SafeWriter<W: Write> {
    inner: W,
    /// A 0xC2 byte whose next byte decides whether it starts a C1 control.
    pending: bool,
}

impl<W: Write> SafeWriter<W> {
    /// Wraps `inner`.
    pub fn new(inner: W) -> Self {
        SafeWriter {
            inner,
            pending: false,
        }
    }
}

impl<W: Write> Write for SafeWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let mut out = Vec::with_capacity(buf.len());
        let mut escape = String::new();
        for &b in buf {
            if std::mem::take(&mut self.pending) {
                if (0x80..=0x9f).contains(&b) {
                    escape.clear();
                    push_escape(&mut escape, char::from(b));
                    out.extend_from_slice(escape.as_bytes());
                    continue;
                }
                out.push(0xc2);
            }
            match b {
                0xc2 => self.pending = true,
                b'\n' | b'\t' => out.push(b),
                0..=0x1f | 0x7f => {
                    escape.clear();
                    push_escape(&mut escape, char::from(b));
                    out.extend_from_slice(escape.as_bytes());
                }
                _ => out.push(b),
            }
        }
        self.inner.write_all(&out)?;
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

impl<W: Write> Drop for SafeWriter<W> {
    fn drop(&mut self) {
        if self.pending {
            let _ = self.inner.write_all(&[0xc2]);
        }
        let _ = self.inner.flush();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn controls_are_shown_not_obeyed() {
        assert_eq!(safe("m\u{1b}[31mred\u{7}"), "m\\x1b[31mred\\x07");
        assert_eq!(safe("a\rb\u{9b}c\u{7f}"), "a\\x0db\\u{9b}c\\x7f");
        assert!(matches!(safe("你好\n\tok"), Cow::Borrowed(_)));
    }

    #[test]
    fn a_line_of_data_stays_one_line() {
        assert_eq!(line("m\n## A\r\n\u{1b}[2J\tx"), "m⏎## A⏎\\x1b[2J\tx");
        assert!(matches!(line("模型 a"), Cow::Borrowed(_)));
    }

    #[test]
    fn the_writer_escapes_across_any_split() {
        let text = "模型 \u{1b}]0;pwned\u{7} \u{9b}2J é\n".as_bytes();
        for cut in 0..=text.len() {
            let mut out = Vec::new();
            {
                let mut w = SafeWriter::new(&mut out);
                w.write_all(&text[..cut]).unwrap();
                w.write_all(&text[cut..]).unwrap();
            }
            let s = String::from_utf8(out).unwrap();
            assert_eq!(s, "模型 \\x1b]0;pwned\\x07 \\u{9b}2J é\n", "cut {cut}");
        }
    }
}
