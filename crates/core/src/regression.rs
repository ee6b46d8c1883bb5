//! Least-squares line fits, and the prefill line TTFT ≈ overhead + n / rate.
//!
//! A single TTFT mixes fixed costs (network, queueing, scheduling, the first
//! decode step) with prompt processing. Measured over several prompt lengths,
//! the slope of TTFT against prompt tokens isolates prefill: its inverse is
//! the prefill rate, its intercept the fixed overhead.

use crate::record::RequestRecord;
use crate::request_metrics::{MetricOptions, RequestMetrics};
use crate::scenario::laws::ttft;
use serde::{Deserialize, Serialize};

/// An ordinary least-squares fit y = intercept + slope · x.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct LinearFit {
    /// Value of the line at x = 0.
    pub intercept: f64,
    /// Change of y per unit of x.
    pub slope: f64,
    /// Coefficient of determination, 1 − SS_res / SS_tot (1 when every point
    /// is on the line; defined as 1 when all y are equal and on the line).
    pub r2: f64,
    /// Points used.
    pub n: usize,
}

/// Why a line could not be fitted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum FitError {
    /// Fewer than two points, or all x equal.
    #[error("a line needs at least two different x values (got {distinct} distinct of {n} points); measure at two or more prompt lengths")]
    TooFewPoints {
        /// Points given.
        n: usize,
        /// Distinct x values among them.
        distinct: usize,
    },
    /// A point was NaN or infinite.
    #[error("point {index} is not a finite number")]
    NotFinite {
        /// Index of the point.
        index: usize,
    },
    /// TTFT did not grow with prompt length, so no prefill rate follows.
    #[error("TTFT does not grow with prompt length (slope {slope:.3e} s/token), so no prefill rate can be derived; use longer prompts or more requests per length")]
    NoPrefillSlope {
        /// The fitted slope.
        slope: f64,
    },
}

impl LinearFit {
    /// Fits a line through `(x, y)` points.
    pub fn fit(points: &[(f64, f64)]) -> Result<LinearFit, FitError> {
        if let Some(index) = points
            .iter()
            .position(|(x, y)| !x.is_finite() || !y.is_finite())
        {
            return Err(FitError::NotFinite { index });
        }
        let n = points.len();
        let mut xs: Vec<f64> = points.iter().map(|p| p.0).collect();
        xs.sort_by(f64::total_cmp);
        xs.dedup();
        if xs.len() < 2 {
            return Err(FitError::TooFewPoints {
                n,
                distinct: xs.len(),
            });
        }
        let nf = n as f64;
        let mx = points.iter().map(|p| p.0).sum::<f64>() / nf;
        let my = points.iter().map(|p| p.1).sum::<f64>() / nf;
        let sxx: f64 = points.iter().map(|p| (p.0 - mx).powi(2)).sum();
        let sxy: f64 = points.iter().map(|p| (p.0 - mx) * (p.1 - my)).sum();
        let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
        let slope = sxy / sxx;
        let intercept = my - slope * mx;
        let ss_res: f64 = points
            .iter()
            .map(|p| (p.1 - intercept - slope * p.0).powi(2))
            .sum();
        let r2 = if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 };
        Ok(LinearFit {
            intercept,
            slope,
            r2,
            n,
        })
    }
}

/// The prefill line: TTFT ≈ overhead + prompt tokens / rate.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PrefillFit {
    /// Fixed part of TTFT, seconds (never negative: see `through_origin`).
    pub overhead_s: f64,
    /// Prompt tokens processed per second (1 / slope).
    pub prefill_tok_s: f64,
    /// Goodness of fit.
    pub r2: f64,
    /// Requests used.
    pub n: usize,
    /// A free line would have crossed below zero at no prompt (TTFT grew
    /// faster than linearly with the prompt: attention's cost per token
    /// rises with the context), so the line was drawn through the origin:
    /// the fixed part is below what the sweep resolves, the rate the
    /// sweep's average.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub through_origin: bool,
}

impl PrefillFit {
    /// Fits TTFT (seconds) against prompt tokens, one point per request. A
    /// fixed part cannot be negative: when the free line's is, the line is
    /// fitted through the origin instead (`through_origin`).
    pub fn fit(points: &[(f64, f64)]) -> Result<PrefillFit, FitError> {
        let line = LinearFit::fit(points)?;
        if line.slope <= 0.0 {
            return Err(FitError::NoPrefillSlope { slope: line.slope });
        }
        if line.intercept >= 0.0 {
            return Ok(PrefillFit {
                overhead_s: line.intercept,
                prefill_tok_s: 1.0 / line.slope,
                r2: line.r2,
                n: line.n,
                through_origin: false,
            });
        }
        let sxx: f64 = points.iter().map(|p| p.0 * p.0).sum();
        let sxy: f64 = points.iter().map(|p| p.0 * p.1).sum();
        let slope = sxy / sxx;
        let my = points.iter().map(|p| p.1).sum::<f64>() / points.len() as f64;
        let syy: f64 = points.iter().map(|p| (p.1 - my).powi(2)).sum();
        let ss_res: f64 = points.iter().map(|p| (p.1 - slope * p.0).powi(2)).sum();
        Ok(PrefillFit {
            overhead_s: 0.0,
            prefill_tok_s: 1.0 / slope,
            r2: if syy > 0.0 { 1.0 - ss_res / syy } else { 1.0 },
            n: line.n,
            through_origin: true,
        })
    }

    /// `(prompt tokens computed, TTFT seconds)` of every successful request
    /// that has both, as [`RequestMetrics`] derives them (tokens the server
    /// took from its prefix cache left out): the points
    /// [`PrefillFit::from_records`] fits.
    pub fn points<'a>(records: impl IntoIterator<Item = &'a RequestRecord>) -> Vec<(f64, f64)> {
        // TTFT and prompt tokens do not depend on the options.
        let opts = MetricOptions::default();
        records
            .into_iter()
            .filter(|r| r.is_ok())
            .filter_map(|r| {
                let m = RequestMetrics::of(r, &opts);
                // The tokens the server computed: a cache hit costs none.
                let computed = m
                    .prompt_tokens?
                    .saturating_sub(r.cached_tokens.unwrap_or(0));
                Some((f64::from(computed), m.ttft_s?))
            })
            .collect()
    }

    /// Fits TTFT against prompt tokens over the successful requests of
    /// `records` (one point per request; see [`PrefillFit::points`]).
    pub fn from_records<'a>(
        records: impl IntoIterator<Item = &'a RequestRecord>,
    ) -> Result<PrefillFit, FitError> {
        PrefillFit::fit(&PrefillFit::points(records))
    }

    /// The TTFT this line predicts for a prompt of `prompt_tokens`: the
    /// planners' one TTFT formula with the overhead as its fixed part.
    pub fn ttft_s(&self, prompt_tokens: f64) -> f64 {
        ttft(self.overhead_s, prompt_tokens, self.prefill_tok_s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn recovers_an_exact_line() {
        // 50 ms overhead, 1000 tok/s.
        let pts: Vec<_> = [128.0, 512.0, 2048.0, 8192.0]
            .iter()
            .map(|&n| (n, 0.05 + n / 1000.0))
            .collect();
        let f = PrefillFit::fit(&pts).unwrap();
        assert!((f.overhead_s - 0.05).abs() < 1e-12);
        assert!((f.prefill_tok_s - 1000.0).abs() < 1e-6);
        assert!((f.r2 - 1.0).abs() < 1e-12);
        assert!((f.ttft_s(4000.0) - 4.05).abs() < 1e-9);
    }

    #[test]
    fn r2_reflects_noise() {
        let f = LinearFit::fit(&[(0.0, 0.0), (1.0, 1.2), (2.0, 1.8), (3.0, 3.1)]).unwrap();
        assert!(f.r2 > 0.9 && f.r2 < 1.0, "{}", f.r2);
    }

    #[test]
    fn rejects_degenerate_input() {
        assert!(matches!(
            LinearFit::fit(&[(1.0, 2.0), (1.0, 3.0)]),
            Err(FitError::TooFewPoints { n: 2, distinct: 1 })
        ));
        assert!(matches!(
            LinearFit::fit(&[(1.0, f64::NAN), (2.0, 3.0)]),
            Err(FitError::NotFinite { index: 0 })
        ));
        assert!(matches!(
            PrefillFit::fit(&[(100.0, 1.0), (200.0, 0.5)]),
            Err(FitError::NoPrefillSlope { .. })
        ));
    }

    /// A request sent at `sent_ms` with `prompt` tokens whose first token
    /// came `ttft_ms` later; failed when `ok` is false.
    fn request(id: u64, prompt: u32, sent_ms: u64, ttft_ms: u64, ok: bool) -> RequestRecord {
        use crate::record::{Chunk, CountSource, ErrorKind, RequestError, TokenCount};
        let ms = 1_000_000;
        let mut r = RequestRecord::new(id, sent_ms * ms, sent_ms * ms);
        r.prompt_tokens = Some(TokenCount {
            count: prompt,
            source: CountSource::ServerUsage,
        });
        r.chunks.push(Chunk {
            at_ns: (sent_ms + ttft_ms) * ms,
            tokens: 1,
            chars: 1,
        });
        r.end_ns = Some((sent_ms + ttft_ms + 1) * ms);
        if !ok {
            r.error = Some(RequestError {
                kind: ErrorKind::StreamCut,
                status: None,
                message: "cut".into(),
            });
        }
        r
    }

    #[test]
    fn fits_successful_requests_by_their_ttft() {
        // 50 ms overhead, 1000 tok/s; sent at different times, so TTFT is
        // measured from each request's own send.
        let mut records: Vec<RequestRecord> = [100u32, 500, 1000, 2000]
            .iter()
            .enumerate()
            .map(|(i, &n)| request(i as u64, n, 1000 * i as u64, 50 + u64::from(n), true))
            .collect();
        // A failed request and one without a prompt count are left out.
        records.push(request(9, 4000, 0, 1, false));
        let mut no_prompt = request(10, 3000, 0, 1, true);
        no_prompt.prompt_tokens = None;
        records.push(no_prompt);
        assert_eq!(PrefillFit::points(&records).len(), 4);
        let f = PrefillFit::from_records(&records).unwrap();
        assert!((f.overhead_s - 0.05).abs() < 1e-9, "{f:?}");
        assert!((f.prefill_tok_s - 1000.0).abs() < 1e-6, "{f:?}");
        assert_eq!(f.n, 4);
        assert!(matches!(
            PrefillFit::from_records(&records[..1]),
            Err(FitError::TooFewPoints { n: 1, .. })
        ));
    }

    proptest! {
        #[test]
        fn never_panics_and_is_finite(pts in prop::collection::vec((0f64..1e6, 0f64..100.0), 0..50)) {
            if let Ok(f) = LinearFit::fit(&pts) {
                prop_assert!(f.slope.is_finite() && f.intercept.is_finite() && f.r2.is_finite());
            }
        }
    }
}

#[cfg(test)]
mod origin_tests {
    use super::*;

    /// TTFT growing faster than linearly (a CPU's attention) makes a free
    /// line cross below zero: the fit goes through the origin and says so;
    /// a straight line with a fixed part keeps it.
    #[test]
    fn a_fixed_part_is_never_negative() {
        let convex: Vec<(f64, f64)> = [64.0, 256.0, 512.0]
            .iter()
            .map(|&n: &f64| (n, n / 380.0 + (n / 512.0).powi(2) * 0.2))
            .collect();
        assert!(LinearFit::fit(&convex).unwrap().intercept < 0.0);
        let f = PrefillFit::fit(&convex).unwrap();
        assert!(f.through_origin && f.overhead_s == 0.0, "{f:?}");
        assert!((250.0..380.0).contains(&f.prefill_tok_s), "{f:?}");
        let straight: Vec<(f64, f64)> = [64.0, 256.0, 512.0]
            .iter()
            .map(|&n| (n, 0.05 + n / 400.0))
            .collect();
        let f = PrefillFit::fit(&straight).unwrap();
        assert!(
            !f.through_origin && (f.overhead_s - 0.05).abs() < 1e-9,
            "{f:?}"
        );
    }
}
