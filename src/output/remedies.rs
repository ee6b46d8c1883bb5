//! The remedies section the default mix appends (transitional: wraps
//! `plan remedies`' text until that command builds a Document itself).

use tokenpace_plan::remedies::{Remedy, Situation};
use tokenpace_present::{Document, Lang};

/// The remedies for `situation`, as `plan scenario` shows them.
pub fn scenario_section(
    situation: &Situation,
    remedies: &[Remedy],
    lang: Lang,
    weights_assumed: bool,
) -> Document {
    let text = crate::cmd::plan_remedies::scenario_section(
        situation,
        remedies,
        lang,
        &crate::table::Terminal,
        false,
        weights_assumed,
    );
    let mut d = Document::new();
    for line in text.lines() {
        d.line(line);
    }
    d
}
