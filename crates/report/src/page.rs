//! The shell every page shares: a self-contained HTML document (inline
//! style, no outside resource, a content security policy that forbids
//! loading any), readable on a phone and printable.

use crate::format::escape;
use crate::lang::Lang;
use crate::style::CSS;

/// Blocks every outside resource: the page must work offline, and a
/// server-supplied string can never make it load or run anything.
const CSP: &str =
    "default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:";

/// Records script errors on the page itself (`data-error` on `<html>`), so a
/// headless browser test can see them in the DOM; and restarts the typing
/// replay when its button is pressed.
const SCRIPT: &str = r#"window.addEventListener('error',function(e){document.documentElement.setAttribute('data-error',String(e.message))});
document.addEventListener('click',function(e){var b=e.target.closest('[data-replay]');if(!b)return;var r=document.getElementById(b.getAttribute('data-replay'));if(r){var c=r.cloneNode(true);r.replaceWith(c);}});"#;

/// A complete document: `title` (plain text), the sections' HTML, and a
/// footer line (plain text).
pub fn document(lang: Lang, title: &str, subtitle: &[String], body: &str, footer: &str) -> String {
    let sub: String = subtitle
        .iter()
        .map(|s| format!("<p>{}</p>", escape(s)))
        .collect();
    format!(
        r#"<!DOCTYPE html>
<html lang="{code}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="{CSP}">
<meta name="generator" content="tokenpace">
<title>{t}</title>
<script>{SCRIPT}</script>
<style>{CSS}</style>
</head>
<body>
<main>
<header><h1>{t}</h1>{sub}</header>
{body}
<footer>{f}</footer>
</main>
</body>
</html>
"#,
        code = lang.html_code(),
        t = escape(title),
        f = escape(footer),
    )
}

/// A `<section>` with an id, a heading (plain text) and HTML content.
pub fn section(id: &str, heading: &str, content: &str) -> String {
    format!(
        "<section id=\"{id}\"><h2>{}</h2>{content}</section>\n",
        escape(heading)
    )
}

/// A table from a header and rows of plain-text cells (all escaped); cells
/// of the first column and of `text_cols` are left-aligned prose.
pub fn table(header: &[&str], rows: &[Vec<String>], text_cols: &[usize]) -> String {
    let mut s = String::from("<div class=\"scroll\"><table><thead><tr>");
    for (i, h) in header.iter().enumerate() {
        let class = if text_cols.contains(&i) {
            " class=\"text\""
        } else {
            ""
        };
        s.push_str(&format!("<th{class}>{}</th>", escape(h)));
    }
    s.push_str("</tr></thead><tbody>");
    for row in rows {
        s.push_str("<tr>");
        for (i, c) in row.iter().enumerate() {
            let class = if text_cols.contains(&i) {
                " class=\"text\""
            } else {
                ""
            };
            s.push_str(&format!("<td{class}>{}</td>", escape(c)));
        }
        s.push_str("</tr>");
    }
    s.push_str("</tbody></table></div>");
    s
}
