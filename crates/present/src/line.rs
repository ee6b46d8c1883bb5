//! Text from data kept on one line: a newline a server or a file put into a
//! name would otherwise start a line of its own, in a terminal or in
//! Markdown, that reads as tokenpace's.

use std::borrow::Cow;

/// What a line break in data is shown as.
pub const BREAK: char = '⏎';

/// `text` with every line break (`\n`, `\r`, `\r\n`, and the Unicode line
/// and paragraph separators) shown as [`BREAK`].
pub fn one_line(text: &str) -> Cow<'_, str> {
    let breaks = |c: char| matches!(c, '\n' | '\r' | '\u{2028}' | '\u{2029}' | '\u{85}');
    if !text.contains(breaks) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 4);
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        if !breaks(c) {
            out.push(c);
            continue;
        }
        if c == '\r' && chars.peek() == Some(&'\n') {
            chars.next();
        }
        out.push(BREAK);
    }
    Cow::Owned(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_break_is_shown_once() {
        assert_eq!(one_line("a\nb\r\nc\rd\u{2028}e"), "a⏎b⏎c⏎d⏎e");
        assert!(matches!(one_line("a\tb"), Cow::Borrowed(_)));
    }
}
