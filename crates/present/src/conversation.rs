//! Sentences about conversations shared by the terminal and the HTML
//! report, so both say the same thing in the same words.

use crate::labels::{self, Figure};
use crate::{number, Lang};
use tokenpace_core::conversation::{ConversationKind, SessionStats};
use tokenpace_core::metric::Metric;

/// "tasks: 3, 2 complete, 1 failed; 2.3 steps per task (at most 3); task
/// time p50 2.93 s, p90 3.39 s", or the same of chat sessions.
pub fn session_line(kind: ConversationKind, s: &SessionStats, lang: Lang) -> String {
    let (what, per) = match kind {
        ConversationKind::Chat => (
            lang.pick("sessions", "会话"),
            lang.pick("turns per session", "轮/会话"),
        ),
        ConversationKind::Agent => (
            lang.pick("tasks", "任务"),
            lang.pick("steps per task", "步/任务"),
        ),
    };
    let mut line = format!(
        "{what}: {}, {} {}, {} {}; {:.1} {per} ({} {})",
        s.sessions,
        s.complete,
        lang.pick("complete", "完成"),
        s.failed,
        lang.pick("failed", "失败"),
        s.turns_mean,
        lang.pick("at most", "最多"),
        s.turns_max,
    );
    if let Some(t) = &s.time_s {
        line.push_str(&format!(
            "; {} p50 {}, p90 {}",
            labels::figure(lang, Figure::TaskTime),
            number::with_unit(Metric::E2eS, t.p50),
            number::with_unit(Metric::E2eS, t.p90),
        ));
    }
    line
}
