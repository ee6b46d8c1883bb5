//! `--server-metrics`: the server's Prometheus text, read within a deadline
//! and a cap (a hostile or broken endpoint's body may never end).

use std::time::Duration;
use tokenpace_client::request::HttpClient;
use tokenpace_core::server_metrics::Scrape;
use tokenpace_core::setting::Setting;

/// Bytes a `/metrics` answer may hold (32 MiB): a real one is far smaller.
pub(crate) const MAX_METRICS_BYTES: usize = 32 << 20;

/// How long one scrape may take, its whole body included.
pub(crate) const SCRAPE_TIMEOUT: Duration = Duration::from_secs(10);

/// The metrics at `url` now, or a warning in `warnings` saying why not.
pub(crate) fn scrape(
    runtime: &tokio::runtime::Runtime,
    client: &HttpClient,
    url: &str,
    warnings: &mut Vec<String>,
) -> Option<Scrape> {
    let fetch = tokenpace_client::fetch::text(client, url, MAX_METRICS_BYTES, SCRAPE_TIMEOUT);
    match runtime.block_on(fetch) {
        Ok(text) => Some(Scrape::parse(&text)),
        Err(why) => {
            warnings.push(format!(
                "{m}: could not scrape {} ({why}); give the metrics URL, e.g. {m} http://127.0.0.1:8000/metrics",
                tokenpace_client::url::shown(url),
                m = Setting::ServerMetrics
            ));
            None
        }
    }
}
