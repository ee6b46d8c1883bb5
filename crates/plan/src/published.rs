//! Published measurements: the points shipped in `data/measurements.toml`,
//! each estimated with the default efficiency and out of sample
//! (leave-one-out), and the efficiency fitted to them.

use crate::catalog::Catalog;
use crate::efficiency::Efficiency;
use crate::error::PlanError;
use crate::model::Model;
use crate::quant::Quant;
use crate::roofline::{estimate, Deployment, Traffic};
use serde::{Deserialize, Serialize};
use tokenpace_core::metric::Metric;
use tokenpace_core::profile::Profile;

/// The published measurements file.
pub const MEASUREMENTS_TOML: &str = include_str!("../data/measurements.toml");

/// A published measurement.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct Point {
    /// Model id in the catalog.
    pub model: String,
    /// Hardware id in the catalog.
    pub hardware: String,
    /// Weight quantisation.
    pub quant: Quant,
    /// `prefill_tok_s` or `decode_tok_s`.
    pub metric: Metric,
    /// Prompt tokens of the measurement.
    pub prompt_tokens: f64,
    /// Output tokens of the measurement.
    pub output_tokens: f64,
    /// The measured value.
    pub value: f64,
    /// The engine and benchmark.
    pub engine: String,
    /// Where it was published.
    pub source: String,
    /// Bits per weight of the benchmarked file when they differ from the
    /// quantisation's nominal width (llama-bench's size column ÷ the
    /// parameters).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bits_per_weight: Option<f64>,
    /// Why the roofline does not describe this point, when it does not
    /// (software far below the hardware, a row at odds with its neighbours):
    /// the point is kept and shown, but not fitted and not held to ±25 %,
    /// and it must miss by more than that.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outside: Option<String>,
}

impl Point {
    /// Whether the roofline is held to this point (it is not marked
    /// [`Point::outside`]).
    pub fn in_model(&self) -> bool {
        self.outside.is_none()
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PointsFile {
    point: Vec<Point>,
}

/// The published points shipped with tokenpace.
pub fn published_points() -> Vec<Point> {
    // Checked by the tests below; a broken file is a build defect.
    toml::from_str::<PointsFile>(MEASUREMENTS_TOML)
        .expect("built-in measurements file is valid")
        .point
}

/// A published point with the estimate for it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct PointCheck {
    /// The point.
    pub point: Point,
    /// The estimated value.
    pub estimated: f64,
    /// estimated ÷ measured − 1.
    pub error: f64,
    /// Out of sample: the estimate with the efficiency fitted to every
    /// other point (leave-one-out, [`leave_one_out`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_estimated: Option<f64>,
    /// held_out_estimated ÷ measured − 1.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub held_out_error: Option<f64>,
}

/// Estimates one published point.
pub fn check_point(c: &Catalog, p: &Point, eff: &Efficiency) -> Result<PointCheck, PlanError> {
    let model = Model {
        weight_bits: p.bits_per_weight,
        ..c.model(&p.model)?.clone()
    };
    let d = Deployment {
        model: &model,
        hardware: c.hardware(&p.hardware)?,
        quant: p.quant,
        kv_cache: crate::kv_cache::KvCache::Fp16,
        devices: 1,
    };
    let w = Traffic {
        prompt_tokens: p.prompt_tokens,
        output_tokens: p.output_tokens,
        ..Traffic::default()
    };
    let e = estimate(&d, &w, eff, &Profile::builtin())?;
    let estimated = match p.metric {
        Metric::PrefillTokS => e.prefill_tok_s,
        _ => e.decode_tok_s,
    };
    Ok(PointCheck {
        point: p.clone(),
        estimated,
        error: estimated / p.value - 1.0,
        held_out_estimated: None,
        held_out_error: None,
    })
}

/// The fraction of its roofline bound a published point reached (its
/// implied efficiency): measured prefill ÷ the compute-bound rate, or
/// measured decode ÷ the bandwidth-bound rate.
pub fn implied_efficiency(c: &Catalog, p: &Point) -> Result<f64, PlanError> {
    let bound = check_point(c, p, &Efficiency::PEAK)?.estimated;
    Ok(p.value / bound)
}

/// The efficiency fitted to published points the way the defaults were:
/// the compute factor is the geometric mean of the prefill points' implied
/// efficiencies, the bandwidth factor that of the decode points (the
/// geometric mean minimises the squared log error); `base` gives a factor
/// no point speaks to, and the usable memory.
pub fn fit_points(
    c: &Catalog,
    points: &[&Point],
    base: &Efficiency,
) -> Result<Efficiency, PlanError> {
    let geo = |metric: Metric| -> Result<Option<f64>, PlanError> {
        let logs: Vec<f64> = points
            .iter()
            .filter(|p| p.metric == metric)
            .map(|p| implied_efficiency(c, p).map(f64::ln))
            .collect::<Result<_, _>>()?;
        Ok((!logs.is_empty()).then(|| {
            (logs.iter().sum::<f64>() / logs.len() as f64)
                .exp()
                .min(1.0)
        }))
    };
    Ok(Efficiency {
        compute: geo(Metric::PrefillTokS)?.unwrap_or(base.compute),
        bandwidth: geo(Metric::DecodeTokS)?.unwrap_or(base.bandwidth),
        source: Some(format!("fitted to {} published points", points.len())),
        ..base.clone()
    })
}

/// Each point checked with `eff`, and out of sample ([`leave_one_out`]).
pub fn check_points(
    c: &Catalog,
    points: &[Point],
    eff: &Efficiency,
) -> Result<Vec<PointCheck>, PlanError> {
    let held_out = leave_one_out(c, points)?;
    points
        .iter()
        .zip(held_out)
        .map(|(p, h)| {
            Ok(PointCheck {
                held_out_estimated: Some(h.estimated),
                held_out_error: Some(h.error),
                ..check_point(c, p, eff)?
            })
        })
        .collect()
}

/// Each published point estimated out of sample: with the efficiency
/// fitted ([`fit_points`]) to every other point the model is held to
/// (leave-one-out).
pub fn leave_one_out(c: &Catalog, points: &[Point]) -> Result<Vec<PointCheck>, PlanError> {
    (0..points.len())
        .map(|i| {
            let others: Vec<&Point> = points
                .iter()
                .enumerate()
                .filter(|(j, p)| *j != i && p.in_model())
                .map(|(_, p)| p)
                .collect();
            let eff = fit_points(c, &others, &Efficiency::DEFAULT)?;
            check_point(c, &points[i], &eff)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Out of sample: each point is estimated with the efficiency fitted
    /// to the other points (leave-one-out), so no point checks the factors
    /// it helped fit.
    #[test]
    fn published_points_hold_within_25_percent_left_out() {
        let c = Catalog::builtin();
        let points = published_points();
        assert!(points.len() >= 12);
        let checks = leave_one_out(&c, &points).unwrap();
        for check in checks.iter().filter(|c| c.point.in_model()) {
            let p = &check.point;
            eprintln!(
                "{:<12} {:<13} {:<5} {:<14} measured {:>7.2} held out {:>7.2} error {:+.1} %",
                p.model,
                p.hardware,
                p.quant,
                p.metric,
                p.value,
                check.estimated,
                check.error * 100.0
            );
            assert!(
                check.error.abs() <= 0.25,
                "{} {} {} {}: estimated {:.1} without this point, published {:.1} ({:+.1} %)",
                p.model,
                p.hardware,
                p.quant,
                p.metric,
                check.estimated,
                p.value,
                check.error * 100.0
            );
        }
        // Leaving a point out changes the estimate of it: the check is not
        // the in-sample one in disguise.
        let all: Vec<&Point> = points.iter().filter(|p| p.in_model()).collect();
        let full = fit_points(&c, &all, &Efficiency::DEFAULT).unwrap();
        let in_sample = check_point(&c, &points[0], &full).unwrap();
        let moved = (in_sample.estimated - checks[0].estimated).abs() / checks[0].estimated;
        assert!(
            moved > 1e-3,
            "held out, the estimate moved by {:.4} %: the point is not left out",
            moved * 100.0
        );
    }

    /// A point marked outside the model must be missed by more than 25 %
    /// (in sample or held out): the mark cannot hide a point the model
    /// meets.
    #[test]
    fn points_outside_the_model_are_missed() {
        let c = Catalog::builtin();
        let points = published_points();
        let checks = check_points(&c, &points, &Efficiency::DEFAULT).unwrap();
        for check in checks.iter().filter(|c| !c.point.in_model()) {
            let p = &check.point;
            let worst = check
                .error
                .abs()
                .max(check.held_out_error.unwrap_or(0.0).abs());
            assert!(
                worst > 0.25,
                "{} {} {} {} is marked outside the model but is estimated within ±25 % ({:+.1} %): move it in",
                p.model,
                p.hardware,
                p.quant,
                p.metric,
                check.error * 100.0
            );
        }
    }
}
