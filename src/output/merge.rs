//! `tokenpace merge`'s result: the merged run, level by level, shown with
//! the same table as a `bench` run.

use crate::output::run::{csv_table, run_section};
use serde::Serialize;
use tokenpace_core::grade::Grade;
use tokenpace_core::profile::Profile;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::{Document, Lang, Output, Table};

/// The merged run: one entry per level (one for a plain run).
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
#[serde(transparent)]
pub struct MergeOutput {
    /// The merged levels, in the order the shards ran them.
    pub levels: Vec<MergedLevel>,
    /// How many shard directories were merged.
    #[serde(skip)]
    pub shards: usize,
    /// The profile graded against.
    #[serde(skip)]
    pub profile: Profile,
}

/// One merged level.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct MergedLevel {
    /// The level's label in a sweep (`c4`); empty for a plain run.
    pub level: String,
    /// The statistics over the union of the shards' requests.
    pub summary: RunSummary,
    /// The grade on the profile.
    #[serde(skip)]
    pub grade: Grade,
    /// What qualifies it: shards missing or cut short, load windows that
    /// did not overlap.
    pub notes: Vec<String>,
}

impl Output for MergeOutput {
    fn document(&self, lang: Lang) -> Document {
        let note = match lang {
            Lang::En => format!(
                "merged from {} shard directories: statistics over the union of their requests; throughput summed over shards",
                self.shards
            ),
            Lang::Zh => format!(
                "由 {} 个分片目录合并：统计基于所有分片请求的并集；吞吐量为各分片之和",
                self.shards
            ),
        };
        let mut d = Document::new();
        for l in &self.levels {
            if !l.level.is_empty() {
                d.heading(format!("── {} ──", l.level));
            }
            let notes: Vec<String> = std::iter::once(note.clone())
                .chain(l.notes.iter().cloned())
                .collect();
            d.append(run_section(
                &l.summary,
                &l.grade,
                &self.profile,
                &notes,
                lang,
            ));
        }
        d
    }

    fn csv(&self) -> Option<Table> {
        Some(csv_table(
            &self
                .levels
                .iter()
                .map(|l| (l.level.clone(), &l.summary, &l.grade))
                .collect::<Vec<_>>(),
        ))
    }
}
