//! `tokenpace import`'s result: the imported run, shown with the same
//! table as a `bench` run, and where it came from and what it lacks.

use crate::output::run::{csv_table, run_section};
use serde::Serialize;
use tokenpace_core::grade::Grade;
use tokenpace_core::profile::Profile;
use tokenpace_core::summary::RunSummary;
use tokenpace_present::{Document, Lang, Output, Table};

/// The imported run.
#[derive(Debug, Clone, Serialize, schemars::JsonSchema)]
pub struct ImportOutput {
    /// The run directory written.
    pub out: String,
    /// The run's statistics (`settings.imported` says where from and what
    /// the format lacks).
    pub summary: RunSummary,
    /// The grade on the profile.
    #[serde(skip)]
    pub grade: Grade,
    /// The profile graded against.
    #[serde(skip)]
    pub profile: Profile,
}

impl Output for ImportOutput {
    fn document(&self, lang: Lang) -> Document {
        let mut notes = self
            .summary
            .settings
            .imported
            .as_ref()
            .map(|i| tokenpace_present::imported::lines(i, lang))
            .unwrap_or_default();
        notes.push(format!(
            "{} {}",
            lang.pick("written to", "已写入"),
            self.out
        ));
        run_section(&self.summary, &self.grade, &self.profile, &notes, lang)
    }

    fn csv(&self) -> Option<Table> {
        Some(csv_table(&[(String::new(), &self.summary, &self.grade)]))
    }
}
