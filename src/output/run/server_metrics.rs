//! The client's TTFT against the server's own histograms
//! (`--server-metrics`): network, queue, prefill and the rest.

use tokenpace_core::server_metrics::Decomposition;
use tokenpace_present::table::{Align, Table};
use tokenpace_present::{number, Document, Lang};

/// The client's TTFT split by the server's own histograms.
pub fn server_metrics_section(d: &Decomposition, level: Option<&str>, lang: Lang) -> Document {
    let mut doc = Document::new();
    doc.blank().heading(format!(
        "{}{}",
        lang.pick(
            "TTFT, client against server metrics",
            "首字延迟：客户端与服务器指标对照"
        ),
        level.map_or(String::new(), |l| format!(" ({l})"))
    ));
    let ms = |s: f64| number::milliseconds(s);
    let mut t = Table::new(&[
        (lang.pick("part", "组成"), Align::Left),
        (lang.pick("mean", "均值"), Align::Right),
        (lang.pick("source", "来源"), Align::Left),
    ]);
    t.row(vec![
        lang.pick("client TTFT", "客户端首字延迟").into(),
        ms(d.client_ttft_s),
        format!("{} {}", d.client_requests, lang.pick("requests", "个请求")),
    ]);
    if let Some(n) = d.network_s {
        t.row(vec![
            lang.pick("  network and front end", "  网络与前端").into(),
            ms(n),
            lang.pick("client − server TTFT", "客户端 − 服务器首字延迟")
                .into(),
        ]);
    }
    for (label, m) in [
        (
            lang.pick("  server TTFT", "  服务器首字延迟"),
            &d.server_ttft,
        ),
        (lang.pick("    queue", "    排队"), &d.queue),
        (lang.pick("    prefill", "    预填充"), &d.prefill),
    ] {
        if let Some(m) = m {
            t.row(vec![
                label.into(),
                ms(m.mean_s),
                format!("{} ({})", m.name, m.count),
            ]);
        }
    }
    if let Some(o) = d.other_s {
        t.row(vec![
            lang.pick(
                "    before the queue (waiting for the running step), scheduling, first decode step",
                "    入队前（等待正在运行的引擎步）、调度、首个解码步",
            )
            .into(),
            ms(o),
            lang.pick(
                "server TTFT − queue − prefill",
                "服务器首字延迟 − 排队 − 预填充",
            )
            .into(),
        ]);
    }
    doc.table(t);
    for n in &d.notes {
        doc.note(n.clone());
    }
    doc
}
