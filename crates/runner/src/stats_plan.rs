//! How often each level of a run is measured (`bench --repeat`) and which
//! part of it the steady-state statistics cover (`--trim-start-s`,
//! `--trim-end-s`), checked before anything is sent.

use anyhow::bail;
use tokenpace_core::setting::Setting;

/// How often each level runs, and which part of it the steady-state
/// statistics cover.
#[derive(Debug, Clone, PartialEq)]
pub struct StatsPlan {
    /// Times each level is measured (fresh prompts each time); 1: once.
    pub repeat: u32,
    /// Seconds after the first send the steady-state window may start.
    pub trim_start_s: f64,
    /// Seconds before the last end the steady-state window must end.
    pub trim_end_s: f64,
    /// Send until the p99 TTFT's 95 % interval is within ± this percent
    /// of it (`--until-precise`); the plan's request count is then a cap.
    pub until_precise: Option<f64>,
    /// The SLO each level's goodput is counted against (`--slo`), kept
    /// in `run.json` with the goodput.
    pub slo: Option<tokenpace_core::slo::Slo>,
}

impl Default for StatsPlan {
    fn default() -> Self {
        StatsPlan {
            repeat: 1,
            trim_start_s: 0.0,
            trim_end_s: 0.0,
            until_precise: None,
            slo: None,
        }
    }
}

impl StatsPlan {
    /// Checks the repeats against the run: at least one, single requests
    /// only, and ids for every repeat of `requests` requests (unless a
    /// trace's window or a conversations file counts them).
    pub fn check(
        &self,
        requests: u64,
        sessions: bool,
        counted_by_file: bool,
    ) -> anyhow::Result<()> {
        if self.repeat == 0 {
            bail!("{} must be at least 1", Setting::Repeat);
        }
        if let Some(p) = self.until_precise {
            if !(p > 0.0 && p < 100.0) {
                bail!(
                    "{} takes a percent between 0 and 100 (e.g. 5): got {p}",
                    Setting::UntilPrecise
                );
            }
            if self.repeat > 1 || sessions || counted_by_file {
                bail!(
                    "{} sends single requests until one run's p99 TTFT is precise: drop {}, the session flags and {}",
                    Setting::UntilPrecise,
                    Setting::Repeat,
                    Setting::Trace
                );
            }
        }
        if self.repeat > 1 && sessions {
            bail!(
                "{} measures single requests: drop it, or the session flags ({}, {}, {})",
                Setting::Repeat,
                Setting::Turns,
                Setting::Conversations,
                Setting::AgentSteps
            );
        }
        let ids = u64::from(self.repeat) + 1;
        if !counted_by_file && requests.checked_mul(ids).is_none() {
            bail!(
                "{} {requests} times {} {} is more requests than one run can number: give fewer",
                Setting::Requests,
                Setting::Repeat,
                self.repeat
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeats_are_checked() {
        let two = StatsPlan {
            repeat: 2,
            ..StatsPlan::default()
        };
        assert!(two.check(100, false, false).is_ok());
        let e = two.check(100, true, false).unwrap_err().to_string();
        assert!(e.contains(&Setting::Turns.to_string()), "{e}");
        assert!(two.check(u64::MAX, false, false).is_err());
        assert!(two.check(u64::MAX, false, true).is_ok());
        let none = StatsPlan {
            repeat: 0,
            ..StatsPlan::default()
        };
        assert!(none.check(1, false, false).is_err());
    }
}
