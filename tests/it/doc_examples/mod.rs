//! The docs test's pure parts: finding console blocks in Markdown, matching
//! a block's printed output against a real one (with `…` elisions), and
//! writing real output back into the document.

/// One `$ …` line of a console block (with its `\` continuation lines) and
/// the output printed under it.
#[derive(Debug, Clone)]
pub struct Step {
    /// The command, continuation lines joined, without the `$ `.
    pub command: String,
    /// 1-based line number of the `$` line in the document.
    pub line: usize,
    /// Index (0-based) of the first output line in the document.
    pub output_start: usize,
    /// The printed output, as in the document.
    pub output: Vec<String>,
}

/// A fenced ```` ```console ```` block.
#[derive(Debug, Clone)]
pub struct Block {
    /// Its commands, in order.
    pub steps: Vec<Step>,
}

/// Every console block of a Markdown document.
pub fn parse(text: &str) -> Vec<Block> {
    let lines: Vec<&str> = text.lines().collect();
    let mut blocks = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        if lines[i].trim_end() != "```console" {
            i += 1;
            continue;
        }
        let mut block = Block { steps: Vec::new() };
        i += 1;
        while i < lines.len() && !lines[i].starts_with("```") {
            if let Some(first) = lines[i].strip_prefix("$ ") {
                let line = i + 1;
                let mut command = first.to_string();
                while command.ends_with('\\') && i + 1 < lines.len() {
                    command.pop();
                    i += 1;
                    command.push(' ');
                    command.push_str(lines[i].trim());
                }
                block.steps.push(Step {
                    command: command.split_whitespace().collect::<Vec<_>>().join(" "),
                    line,
                    output_start: i + 1,
                    output: Vec::new(),
                });
            } else if let Some(step) = block.steps.last_mut() {
                step.output.push(lines[i].to_string());
            }
            i += 1;
        }
        blocks.push(block);
        i += 1;
    }
    blocks
}

/// The line that stands for any number of lines (an elision).
pub const ELISION: &str = "…";

/// Matches `expected` (which may hold [`ELISION`] lines) against `actual`;
/// returns, for each expected line, the actual line it matched (`None` for
/// an elision), or `None` when they do not match. Trailing blank lines are
/// ignored on both sides.
pub fn align(expected: &[String], actual: &[String]) -> Option<Vec<Option<usize>>> {
    let trim = |v: &[String]| v.len() - v.iter().rev().take_while(|l| l.trim().is_empty()).count();
    let (e, a) = (&expected[..trim(expected)], &actual[..trim(actual)]);
    let mut out = Vec::with_capacity(e.len());
    if go(e, a, 0, 0, &mut out) {
        Some(out)
    } else {
        None
    }
}

fn go(e: &[String], a: &[String], i: usize, j: usize, out: &mut Vec<Option<usize>>) -> bool {
    if i == e.len() {
        return j == a.len();
    }
    if e[i].trim() == ELISION {
        out.push(None);
        for k in j..=a.len() {
            if go(e, a, i + 1, k, out) {
                return true;
            }
        }
        out.pop();
        return false;
    }
    if j < a.len() && e[i] == a[j] {
        out.push(Some(j));
        if go(e, a, i + 1, j + 1, out) {
            return true;
        }
        out.pop();
    }
    false
}

/// The output to write back for a step: the real lines, keeping the
/// document's elisions where the (masked) outputs still match, else the
/// whole real output.
pub fn updated(alignment: Option<&[Option<usize>]>, real: &[String]) -> Vec<String> {
    let Some(alignment) = alignment else {
        return real.to_vec();
    };
    alignment
        .iter()
        .map(|m| match m {
            Some(j) => real[*j].clone(),
            None => ELISION.to_string(),
        })
        .collect()
}

/// `text` with each step's output replaced (`outputs[k]` for the k-th step
/// of the document, in order; `None` keeps the document's).
pub fn rewrite(text: &str, steps: &[Step], outputs: &[Option<Vec<String>>]) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let mut out: Vec<String> = Vec::with_capacity(lines.len());
    let mut next = 0;
    for (step, new) in steps.iter().zip(outputs) {
        let Some(new) = new else { continue };
        out.extend(lines[next..step.output_start].iter().map(|l| l.to_string()));
        out.extend(new.iter().cloned());
        next = step.output_start + step.output.len();
    }
    out.extend(lines[next..].iter().map(|l| l.to_string()));
    let mut text_out = out.join("\n");
    if text.ends_with('\n') {
        text_out.push('\n');
    }
    text_out
}

/// Splits a command line into words (the docs use no quotes) and the shell
/// decorations the test understands: a leading `time`, a trailing `&`, a
/// `> FILE` redirection.
pub fn words(command: &str) -> Command {
    let mut words: Vec<String> = command.split_whitespace().map(String::from).collect();
    let background = words.last().is_some_and(|w| w == "&");
    if background {
        words.pop();
    }
    let timed = words.first().is_some_and(|w| w == "time");
    if timed {
        words.remove(0);
    }
    let mut redirect = None;
    if let Some(k) = words.iter().position(|w| w == ">") {
        redirect = words.get(k + 1).cloned();
        words.truncate(k);
    }
    Command {
        words,
        background,
        timed,
        redirect,
    }
}

/// A command line taken apart.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Command {
    /// Program and arguments.
    pub words: Vec<String>,
    /// Ended with `&`: its output is not shown in the document.
    pub background: bool,
    /// Started with `time`: bash's `real` line follows the output.
    pub timed: bool,
    /// `> FILE`: stdout goes there.
    pub redirect: Option<String>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(lines: &[&str]) -> Vec<String> {
        lines.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn parses_blocks_steps_and_continuations() {
        let doc = "x\n```console\n$ tokenpace a \\\n    --b 1\nout1\n\n$ echo $?\n1\n```\n```sh\n$ no\n```\n";
        let blocks = parse(doc);
        assert_eq!(blocks.len(), 1);
        let s = &blocks[0].steps;
        assert_eq!(s[0].command, "tokenpace a --b 1");
        assert_eq!((s[0].line, s[0].output_start), (3, 4));
        assert_eq!(s[0].output, v(&["out1", ""]));
        assert_eq!(s[1].output, v(&["1"]));
        let steps: Vec<Step> = blocks.into_iter().flat_map(|b| b.steps).collect();
        let new = rewrite(doc, &steps, &[Some(v(&["new"])), None]);
        assert_eq!(
            new,
            "x\n```console\n$ tokenpace a \\\n    --b 1\nnew\n$ echo $?\n1\n```\n```sh\n$ no\n```\n"
        );
    }

    #[test]
    fn elisions_match_any_lines_and_survive_updates() {
        let e = v(&["…", "b", "…", "e"]);
        let a = v(&["a", "b", "c", "d", "e", ""]);
        let m = align(&e, &a).unwrap();
        assert_eq!(m, [None, Some(1), None, Some(4)]);
        assert_eq!(updated(Some(&m), &a), v(&["…", "b", "…", "e"]));
        assert!(align(&v(&["b"]), &a).is_none());
        assert!(align(&v(&["a", "b"]), &v(&["a", "b", "c"])).is_none());
        assert_eq!(
            words("time tokenpace x > /dev/null &"),
            Command {
                words: v(&["tokenpace", "x"]),
                background: true,
                timed: true,
                redirect: Some("/dev/null".into())
            }
        );
    }
}
