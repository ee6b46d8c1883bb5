//! What the server's rate limits did to a run, said plainly beside its
//! errors: requests throttled (failed), those retried with
//! `--retry-throttled` and the time they waited, the median `Retry-After`,
//! and the least the rate-limit headers said was left.

use tokenpace_core::summary::RunSummary;
use tokenpace_core::throttling::Throttling;
use tokenpace_present::{Document, Lang};

/// Lines on the rate limiting of `summary` (prefixed with the level's
/// label in a sweep); empty when the server said nothing of rate limits.
pub fn section(summary: &RunSummary, level: Option<&str>, lang: Lang) -> Document {
    let mut d = Document::new();
    let Some(t) = &summary.throttling else {
        return d;
    };
    let prefix = level.map_or(String::new(), |l| format!("{l}: "));
    if t.throttled > 0 {
        d.line(format!(
            "{prefix}{}",
            throttled_line(t, summary.counts.sent, lang)
        ));
    }
    if t.retried > 0 {
        d.line(format!("{prefix}{}", retried_line(t, lang)));
    }
    if let Some(line) = remaining_line(t, lang) {
        d.line(format!("{prefix}{line}"));
    }
    d
}

/// "THROTTLED: 4 of 8 requests were turned away by the server's rate
/// limit (429, or 503 with Retry-After) and count as failed; median
/// Retry-After 1.0 s".
fn throttled_line(t: &Throttling, sent: u64, lang: Lang) -> String {
    let wait = t
        .retry_after_median_s
        .map_or(String::new(), |s| match lang {
            Lang::En => format!("; median Retry-After {s:.1} s"),
            Lang::Zh => format!("；Retry-After 中位数 {s:.1} s"),
        });
    match lang {
        Lang::En => format!(
            "THROTTLED: {} of {sent} requests were turned away by the server's rate limit (429, or 503/529 with Retry-After) and count as failed{wait}",
            t.throttled
        ),
        Lang::Zh => format!(
            "限流：{sent} 个请求中有 {} 个被服务器限流拒绝（429，或带 Retry-After 的 503/529），计为失败{wait}",
            t.throttled
        ),
    }
}

/// "retried after throttling (--retry-throttled): 3 requests, 5 retries,
/// 5.0 s waiting; their figures are their last attempt's".
fn retried_line(t: &Throttling, lang: Lang) -> String {
    match lang {
        Lang::En => format!(
            "retried after throttling (--retry-throttled): {} requests, {} retries, {:.1} s waiting; each record is its last attempt's",
            t.retried, t.retries, t.retry_wait_s
        ),
        Lang::Zh => format!(
            "限流后重试（--retry-throttled）：{} 个请求，重试 {} 次，共等待 {:.1} s；每条记录为其最后一次尝试",
            t.retried, t.retries, t.retry_wait_s
        ),
    }
}

/// "rate limits: lowest remaining 0 requests, 150000 tokens".
fn remaining_line(t: &Throttling, lang: Lang) -> Option<String> {
    let parts: Vec<String> = [
        (t.lowest_remaining_requests, lang.pick("requests", "请求")),
        (t.lowest_remaining_tokens, lang.pick("tokens", "tokens")),
    ]
    .into_iter()
    .filter_map(|(n, what)| Some(format!("{} {what}", n?)))
    .collect();
    (!parts.is_empty()).then(|| {
        format!(
            "{}: {}",
            lang.pick("rate limits, lowest remaining", "限额最低剩余"),
            parts.join(", ")
        )
    })
}
