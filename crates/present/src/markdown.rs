//! Text in Markdown, shown and never obeyed: whatever a result holds (a
//! model name a server chose, a run's directory name, a label from a file)
//! is escaped so that it cannot open a heading, an image, a link, a tag, a
//! code span, emphasis or a table column, and it stays on its line
//! ([`one_line`]). A pull-request comment therefore shows the data, never a
//! forged verdict.

use crate::line::one_line;
use std::borrow::Cow;

/// Whether `c`, between `before` and `after`, could open or close
/// something in Markdown: links, images, code spans, emphasis and table
/// columns (and `\` itself, so data cannot undo an escape) anywhere; `_`
/// unless inside a word (where it emphasises nothing: `Q4_K_M`); `<` before
/// what starts a tag, a comment or an autolink (`<img`, `</`, `<!`, `<?`).
/// A `>` only quotes at the start of a block ([`line`]).
fn special(before: Option<char>, c: char, after: Option<char>) -> bool {
    match c {
        '\\' | '`' | '*' | '[' | ']' | '!' | '|' => true,
        '_' => {
            !(before.is_some_and(char::is_alphanumeric) && after.is_some_and(char::is_alphanumeric))
        }
        '<' => after.is_some_and(|a| a.is_ascii_alphabetic() || matches!(a, '/' | '!' | '?')),
        _ => false,
    }
}

/// `text` on one line with every Markdown metacharacter that could act
/// escaped (see `special`): a table cell or text within a line.
pub fn escape(text: &str) -> Cow<'_, str> {
    let text = one_line(text);
    let chars: Vec<char> = text.chars().collect();
    let at = |i: usize| {
        let before = i.checked_sub(1).map(|b| chars[b]);
        special(before, chars[i], chars.get(i + 1).copied())
    };
    if !(0..chars.len()).any(at) {
        return text;
    }
    let mut out = String::with_capacity(text.len() + 8);
    for (i, &c) in chars.iter().enumerate() {
        if at(i) {
            out.push('\\');
        }
        out.push(c);
    }
    Cow::Owned(out)
}

/// `text` as the start of a block (a line, a list item, a quote):
/// [`escape`]d, and a leading `#`, `>`, `-`, `+`, `=` or `~` escaped too,
/// so that it cannot make a heading, a quote, a list, a rule, a fence, or
/// the line above a heading.
pub fn line(text: &str) -> Cow<'_, str> {
    let escaped = escape(text);
    let body = escaped.trim_start();
    if !body.starts_with(['#', '>', '-', '+', '=', '~']) {
        return escaped;
    }
    let indent = escaped.len() - body.len();
    Cow::Owned(format!("{}\\{body}", &escaped[..indent]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn data_forges_no_heading_image_link_tag_or_column() {
        let forged =
            "m\n\n## overall tier: A\n![x](http://e/x.png) <img src=x> [a](b) `c` *b* _i_ | d \\*";
        assert_eq!(
            escape(forged),
            "m⏎⏎## overall tier: A⏎\\!\\[x\\](http://e/x.png) \\<img src=x> \\[a\\](b) \\`c\\` \\*b\\* \\_i\\_ \\| d \\\\\\*"
        );
        // What cannot act stays as it is.
        assert!(matches!(
            escape("Q4_K_M, p < 0.01, > 2 %, a_1"),
            Cow::Borrowed(_)
        ));
        assert_eq!(
            escape("<http://e> </b> <!-- x _a"),
            "\\<http://e> \\</b> \\<\\!-- x \\_a"
        );
        assert_eq!(escape("# x"), "# x");
        assert_eq!(line("## x # y"), "\\## x # y");
        assert_eq!(line("  # x"), "  \\# x");
        assert!(matches!(
            escape("decode 28.0 tok/s (mean)"),
            Cow::Borrowed(_)
        ));
    }

    #[test]
    fn a_line_cannot_start_a_list_a_rule_or_a_heading_underline() {
        assert_eq!(line("---"), "\\---");
        assert_eq!(line("  = x"), "  \\= x");
        assert_eq!(line("+ y"), "\\+ y");
        assert_eq!(line("a - b"), "a - b");
        assert_eq!(line("> quoted"), "\\> quoted");
    }
}
