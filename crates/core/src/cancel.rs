//! Users who leave: `bench --cancel-after` has a share of users stop reading
//! after some tokens or some seconds, as real readers do. What the plan
//! says is here; the client draws each request's point and closes its
//! stream (`tokenpace_client::leave`).

use crate::dist::{Dist, Unit};
use crate::setting::Setting;
use serde::{Deserialize, Serialize};

/// When a leaving user closes the stream.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum CancelAfter {
    /// After this many streamed tokens.
    Tokens(Dist),
    /// This many seconds after the request was sent.
    Seconds(Dist),
}

/// Who leaves, and when.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct CancelPlan {
    /// When a leaving user closes the stream.
    pub after: CancelAfter,
    /// The share of requests whose user leaves, in (0, 1].
    pub share: f64,
}

impl CancelPlan {
    /// Reads `--cancel-after` (`20`, `10..50`, `exp:30` tokens; `2s`,
    /// `500ms..3s`, `exp:1.5s` seconds) and `--cancel-share`.
    pub fn parse(after: &str, share: f64) -> Result<CancelPlan, String> {
        if !(share > 0.0 && share <= 1.0) {
            return Err(format!(
                "{} {share} is not a share of requests; give a number in (0, 1], e.g. 0.3",
                Setting::CancelShare
            ));
        }
        let t = after.trim();
        let what = Setting::CancelAfter.to_string();
        let after = if t.ends_with('s') {
            CancelAfter::Seconds(Dist::parse(t, Unit::Seconds, &what)?)
        } else {
            CancelAfter::Tokens(Dist::parse(t, Unit::Count, &what)?)
        };
        Ok(CancelPlan { after, share })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_seconds_are_told_apart_by_their_unit() {
        let p = CancelPlan::parse("10..50", 0.5).unwrap();
        assert_eq!(
            p.after,
            CancelAfter::Tokens(Dist::Uniform {
                low: 10.0,
                high: 50.0
            })
        );
        let p = CancelPlan::parse("exp:1.5s", 1.0).unwrap();
        assert_eq!(
            p.after,
            CancelAfter::Seconds(Dist::Exponential { mean: 1.5 })
        );
        let p = CancelPlan::parse("500ms", 1.0).unwrap();
        assert_eq!(p.after, CancelAfter::Seconds(Dist::fixed(0.5)));
        assert!(CancelPlan::parse("2.5", 1.0).unwrap_err().contains("whole"));
        assert!(CancelPlan::parse("20", 0.0)
            .unwrap_err()
            .contains(&Setting::CancelShare.to_string()));
        assert!(CancelPlan::parse("20", 1.5).is_err());
        assert!(CancelPlan::parse("soon", 1.0).is_err());
    }
}
