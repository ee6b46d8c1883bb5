//! `tokenpace history`'s result: the runs found under a directory, one row
//! per level, oldest first.

use serde::Serialize;
use std::path::PathBuf;
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::{number, Align, Document, Lang, Output, Table};

/// The runs under a directory.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct HistoryOutput {
    /// One entry per run (or level of a sweep), oldest first.
    pub entries: Vec<Entry>,
    /// The directory searched (named when nothing was found).
    #[serde(skip)]
    pub root: PathBuf,
}

/// One run (or one level of a sweep) found under the root.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct Entry {
    /// Path relative to the root, with `/` separators: what `compare` takes.
    pub name: String,
    /// When it started (RFC 3339 UTC), if recorded.
    pub started_at: Option<String>,
    /// What was measured.
    pub target: Option<String>,
    /// The model.
    pub model: Option<String>,
    /// Closed-loop concurrency.
    pub concurrency: Option<u32>,
    /// Open-loop rate, requests/s.
    pub rate: Option<f64>,
    /// Requests sent.
    pub sent: u64,
    /// Requests that succeeded.
    pub ok: u64,
    /// Mean TTFT, seconds.
    pub ttft_s: Option<f64>,
    /// Mean per-stream decode, tokens/s.
    pub decode_tok_s: Option<f64>,
    /// Mean output speed, characters/s.
    pub output_chars_s: Option<f64>,
    /// Overall tier under the profile.
    pub tier: Option<String>,
    /// Whether the run was interrupted.
    pub partial: bool,
}

impl Entry {
    /// The entry of the run `name`, graded on `profile`.
    pub fn of(name: String, s: &RunSummary, profile: &Profile) -> Entry {
        let tier = profile
            .grade_run(|m, st| s.get(m, st), None)
            .ok()
            .and_then(|g| g.overall)
            .map(|t| t.to_string());
        Entry {
            name,
            started_at: s.environment.started_at.clone(),
            target: s.settings.target.clone(),
            model: s.settings.model.clone(),
            concurrency: s.settings.concurrency,
            rate: s.settings.rate,
            sent: s.counts.sent,
            ok: s.counts.ok,
            ttft_s: s.get(Metric::TtftS, Statistic::Mean),
            decode_tok_s: s.get(Metric::DecodeTokS, Statistic::Mean),
            output_chars_s: s.get(Metric::OutputCharsS, Statistic::Mean),
            tier,
            partial: s.partial,
        }
    }
}

impl Output for HistoryOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut d = Document::new();
        if self.entries.is_empty() {
            d.line(format!(
                "{} '{}' ({})",
                lang.pick("no runs under", "未找到运行："),
                self.root.display(),
                lang.pick(
                    "`tokenpace bench URL --out DIR` writes one",
                    "用 `tokenpace bench URL --out DIR` 生成"
                )
            ));
            return d;
        }
        d.table(table(&self.entries, lang));
        d
    }

    /// The JSON field names as headers, numbers at full precision.
    fn csv(&self) -> Option<Table> {
        let mut t = Table::new(
            &[
                "name",
                "started_at",
                "target",
                "model",
                "concurrency",
                "rate",
                "sent",
                "ok",
                "ttft_s",
                "decode_tok_s",
                "output_chars_s",
                "tier",
                "partial",
            ]
            .map(|h| (h, Align::Left)),
        );
        let opt = |v: Option<String>| v.unwrap_or_default();
        for e in &self.entries {
            t.row(vec![
                e.name.clone(),
                opt(e.started_at.clone()),
                opt(e.target.clone()),
                opt(e.model.clone()),
                opt(e.concurrency.map(|v| v.to_string())),
                opt(e.rate.map(|v| v.to_string())),
                e.sent.to_string(),
                e.ok.to_string(),
                opt(e.ttft_s.map(|v| v.to_string())),
                opt(e.decode_tok_s.map(|v| v.to_string())),
                opt(e.output_chars_s.map(|v| v.to_string())),
                opt(e.tier.clone()),
                e.partial.to_string(),
            ]);
        }
        Some(t)
    }
}

fn table(entries: &[Entry], lang: Lang) -> Table {
    let mut t = Table::new(&[
        (lang.pick("name", "名称"), Align::Left),
        (lang.pick("started", "开始时间"), Align::Left),
        (lang.pick("target", "目标"), Align::Left),
        (lang.pick("model", "模型"), Align::Left),
        (lang.pick("load", "负载"), Align::Right),
        ("ok", Align::Right),
        ("TTFT (s)", Align::Right),
        (lang.pick("decode (tok/s)", "解码 (tok/s)"), Align::Right),
        (lang.pick("chars/s", "字/秒"), Align::Right),
        (lang.pick("tier", "等级"), Align::Left),
    ]);
    let num = |m: Metric, v: Option<f64>| v.map_or("-".into(), |v| number::value(m, v));
    let text = |v: &Option<String>| v.clone().unwrap_or_else(|| "-".into());
    for e in entries {
        let load = match (e.concurrency, e.rate) {
            (Some(c), _) => format!("c{c}"),
            (_, Some(r)) => format!("{r}/s"),
            _ => "-".into(),
        };
        t.row(vec![
            e.name.clone(),
            text(&e.started_at),
            text(&e.target),
            text(&e.model),
            load,
            format!("{}/{}{}", e.ok, e.sent, if e.partial { "*" } else { "" }),
            num(Metric::TtftS, e.ttft_s),
            num(Metric::DecodeTokS, e.decode_tok_s),
            num(Metric::OutputCharsS, e.output_chars_s),
            text(&e.tier),
        ]);
    }
    t
}
