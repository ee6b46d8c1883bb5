//! Numbers and text as a page shows them: values with the terminal's rules
//! ([`tokenpace_present::number`]), chart ticks, and every string escaped
//! before it goes into HTML or SVG.

pub use tokenpace_present::number::{signed, value, with_interval, with_unit};

/// A tick label: at most three significant decimals, no trailing zeros.
pub fn tick(v: f64) -> String {
    if v == 0.0 {
        return "0".into();
    }
    let a = v.abs();
    let s = if a >= 1000.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else if a >= 1.0 {
        format!("{v:.2}")
    } else {
        format!("{v:.3}")
    };
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// Escapes text for HTML element content and attribute values (also valid
/// inside inline SVG).
pub fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokenpace_core::metric::Metric;

    #[test]
    fn escapes_markup() {
        assert_eq!(
            escape("<script>alert('x')</script> & \"y\""),
            "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;y&quot;"
        );
    }

    #[test]
    fn formats_values_and_ticks() {
        assert_eq!(with_unit(Metric::TtftS, 1.8), "1.80 s");
        assert_eq!(with_unit(Metric::TtftS, 0.05), "0.050 s");
        assert_eq!(signed(Metric::DecodeTokS, -2.0), "-2.0 tok/s");
        assert_eq!(tick(0.25), "0.25");
        assert_eq!(tick(2.0), "2");
        assert_eq!(tick(1500.0), "1500");
        assert_eq!(tick(12.5), "12.5");
    }
}
