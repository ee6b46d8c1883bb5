//! The remedies section the default mix appends: `plan scenario`'s
//! ([`crate::output::plan::remedies::scenario_section`]).

use tokenpace_plan::remedies::{Remedy, Situation};
use tokenpace_present::{Document, Lang};

/// The remedies for `situation`, as `plan scenario` shows them.
pub fn scenario_section(
    situation: &Situation,
    remedies: &[Remedy],
    lang: Lang,
    weights_assumed: bool,
) -> Document {
    crate::output::plan::remedies::scenario_section(situation, remedies, weights_assumed, lang)
}
