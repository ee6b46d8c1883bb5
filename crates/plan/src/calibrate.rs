//! Calibration: an estimate set against a measured run, and the efficiency
//! factors that would make the estimate match (the published points are in
//! [`crate::published`]).

use crate::arrivals::Arrivals;
use crate::efficiency::Efficiency;
use crate::roofline::{Estimate, Resource, Traffic};
use serde::{Deserialize, Serialize};
use tokenpace_core::metric::Metric;
use tokenpace_core::stats::Statistic;
use tokenpace_core::summary::RunSummary;

/// Measured values of the four graded metrics (means over requests); absent
/// when not measured.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct Measured {
    /// Prefill rate, tokens/s.
    pub prefill_tok_s: Option<f64>,
    /// Decode rate of one stream, tokens/s.
    pub decode_tok_s: Option<f64>,
    /// Time to first token, seconds.
    pub ttft_s: Option<f64>,
    /// Reading speed, characters/s.
    pub output_chars_s: Option<f64>,
}

impl Measured {
    /// The means of a run summary.
    pub fn from_summary(s: &RunSummary) -> Measured {
        let mean = |m| {
            s.get(m, Statistic::Mean)
                .filter(|v| v.is_finite() && *v > 0.0)
        };
        Measured {
            prefill_tok_s: mean(Metric::PrefillTokS),
            decode_tok_s: mean(Metric::DecodeTokS),
            ttft_s: mean(Metric::TtftS),
            output_chars_s: mean(Metric::OutputCharsS),
        }
    }

    fn get(&self, m: Metric) -> Option<f64> {
        match m {
            Metric::PrefillTokS => self.prefill_tok_s,
            Metric::DecodeTokS => self.decode_tok_s,
            Metric::TtftS => self.ttft_s,
            Metric::OutputCharsS => self.output_chars_s,
            _ => None,
        }
    }
}

/// The workload a run measured: mean prompt and output tokens, its
/// concurrency, measured characters per token and network overhead, and
/// how its prompts arrived (a closed loop's together; an open loop's, a
/// trace's or sessions' apart). Fields the run lacks fall back to its
/// settings, then to `fallback`.
pub fn workload_of(s: &RunSummary, fallback: &Traffic) -> Traffic {
    let mean = |m| {
        s.get(m, Statistic::Mean)
            .filter(|v| v.is_finite() && *v > 0.0)
    };
    let ratio = s
        .metrics
        .get(&Metric::CharsPerToken)
        .map(|st| (st.get(Statistic::Mean), st.n))
        .filter(|r| r.0.is_finite() && r.0 > 0.0);
    Traffic {
        prompt_tokens: mean(Metric::PromptTokens)
            .or(s.settings.prompt_tokens.map(f64::from))
            .unwrap_or(fallback.prompt_tokens),
        output_tokens: mean(Metric::OutputTokens)
            .or(s.settings.max_tokens.map(f64::from))
            .unwrap_or(fallback.output_tokens),
        concurrency: s
            .settings
            .concurrency
            .map(f64::from)
            .filter(|c| *c > 0.0)
            .unwrap_or(fallback.concurrency),
        chars_per_token: ratio.map_or(fallback.chars_per_token, |r| r.0),
        chars_per_token_source: ratio.map_or_else(
            || fallback.chars_per_token_source.clone(),
            |r| format!("measured in the run (mean over {} requests)", r.1),
        ),
        rtt_s: if s.settings.network_overhead_s.is_finite() && s.settings.network_overhead_s > 0.0 {
            s.settings.network_overhead_s
        } else {
            fallback.rtt_s
        },
        arrivals: if s.settings.rate.is_some()
            || s.settings.trace.is_some()
            || s.settings.sessions.is_some()
        {
            Arrivals::Apart
        } else if s.settings.concurrency.is_some() {
            Arrivals::Together
        } else {
            fallback.arrivals
        },
        prefill_batch_tokens: fallback.prefill_batch_tokens,
    }
}

/// One metric, estimated versus measured.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, schemars::JsonSchema)]
pub struct MetricError {
    /// The metric.
    pub metric: Metric,
    /// The measured value.
    pub measured: f64,
    /// The estimated value.
    pub estimated: f64,
    /// Relative error of the estimate: estimated ÷ measured − 1.
    pub error: f64,
}

/// The graded metrics measured, each with the estimate's error.
pub fn compare(e: &Estimate, m: &Measured) -> Vec<MetricError> {
    e.values()
        .into_iter()
        .filter_map(|(metric, estimated)| {
            let measured = m.get(metric)?;
            Some(MetricError {
                metric,
                measured,
                estimated,
                error: estimated / measured - 1.0,
            })
        })
        .collect()
}

/// The efficiency that makes `e` match `m`: the compute factor scaled by
/// measured ÷ estimated prefill when prefill is compute-bound, the bandwidth
/// factor by measured ÷ estimated decode when decode is bandwidth-bound;
/// each kept within (0, 1] (a measurement above the peak leaves the factor
/// at 1). The other factors are kept.
pub fn fit(e: &Estimate, m: &Measured) -> Efficiency {
    let mut out = e.efficiency.clone();
    let scale = |f: f64, measured: f64, estimated: f64| {
        let v = f * measured / estimated;
        if v.is_finite() && v > 0.0 {
            v.min(1.0)
        } else {
            f
        }
    };
    if let (Some(p), Resource::Compute) = (m.prefill_tok_s, e.prefill.binding) {
        out.compute = scale(out.compute, p, e.prefill_tok_s);
    }
    if let (Some(d), Resource::MemoryBandwidth) = (m.decode_tok_s, e.decode.binding) {
        out.bandwidth = scale(out.bandwidth, d, e.decode_tok_s);
    }
    out.source = Some(format!(
        "fitted to a run of {} on {} × {} at {}",
        e.model, e.devices, e.hardware, e.quant
    ));
    out
}

/// The efficiency that matches several runs of one deployment (each run's
/// estimate with the efficiency used, and its measurements).
///
/// Prefill: the compute factor scaled as in [`fit`] by each run's prefill
/// rate and by its TTFT, geometric mean over the runs. Decode: each run
/// implies a bandwidth fraction (bytes of a step ÷ its measured time ÷
/// peak bandwidth) and a compute fraction
/// (FLOPs ÷ time ÷ peak compute). When runs at two or more concurrencies
/// show the step time growing with the batch (by at least half the batch's
/// growth: compute, not the shared weight read, binds) both factors are
/// fitted, each the largest any run implies (the roofline takes the larger
/// of the two times, so no run can reach more than the true fraction);
/// otherwise decode is bandwidth-bound and the bandwidth factor is the
/// geometric mean of the implied ones. `None` without runs.
pub fn fit_runs(runs: &[(Estimate, Measured)]) -> Option<Efficiency> {
    let (first, _) = runs.first()?;
    let mut out = first.efficiency.clone();
    let geo = |v: &[f64]| {
        (!v.is_empty()).then(|| (v.iter().map(|x| x.ln()).sum::<f64>() / v.len() as f64).exp())
    };
    // Each run's prefill rate and its TTFT (less the round trip) each imply
    // a compute fraction; under concurrency the two differ (the rate is a
    // mean over requests of prompt ÷ TTFT, dominated by the fastest), so
    // both count.
    let prefill: Vec<f64> = runs
        .iter()
        .filter(|(e, _)| e.prefill.binding == Resource::Compute)
        .flat_map(|(e, m)| {
            let rtt = e.workload.rtt_s;
            let by_rate = m.prefill_tok_s.map(|p| p / e.prefill_tok_s);
            let by_ttft = m.ttft_s.map(|t| (e.ttft_s - rtt) / (t - rtt));
            [by_rate, by_ttft]
                .into_iter()
                .flatten()
                .map(|r| e.efficiency.compute * r)
        })
        .filter(|v| v.is_finite() && *v > 0.0)
        .collect();
    if let Some(c) = geo(&prefill) {
        out.compute = c.min(1.0);
    }
    // (batch, measured step time, implied bandwidth, implied compute)
    let decode: Vec<(f64, f64, f64, f64)> = runs
        .iter()
        .filter_map(|(e, m)| {
            let t = 1.0 / m.decode_tok_s?;
            let b = e.decode.memory_s * e.efficiency.bandwidth / t;
            let c = e.decode.compute_s * e.efficiency.decode_compute() / t;
            [t, b, c]
                .iter()
                .all(|v| v.is_finite() && *v > 0.0)
                .then_some((e.concurrency, t, b, c))
        })
        .collect();
    let lo = decode.iter().min_by(|a, b| a.0.total_cmp(&b.0));
    let hi = decode.iter().max_by(|a, b| a.0.total_cmp(&b.0));
    let compute_bound = match (lo, hi) {
        (Some(lo), Some(hi)) if hi.0 > lo.0 => hi.1 / lo.1 >= 1.0 + 0.5 * (hi.0 / lo.0 - 1.0),
        _ => false,
    };
    let max = |f: fn(&(f64, f64, f64, f64)) -> f64| decode.iter().map(f).fold(0.0, f64::max);
    if compute_bound {
        out.bandwidth = max(|d| d.2).min(1.0);
        out.decode_compute = Some(max(|d| d.3).min(1.0));
    } else if let Some(b) = geo(&decode.iter().map(|d| d.2).collect::<Vec<_>>()) {
        out.bandwidth = b.min(1.0);
    }
    out.source = Some(format!(
        "fitted to {} runs of {} on {} × {} at {}{}",
        runs.len(),
        first.model,
        first.devices,
        first.hardware,
        first.quant,
        if compute_bound {
            " (decode compute-bound: step time grows with the batch)"
        } else {
            ""
        }
    ));
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Catalog;
    use crate::quant::Quant;
    use crate::roofline::{estimate, Deployment};
    use tokenpace_core::profile::Profile;

    fn estimate_for(w: Traffic) -> Estimate {
        let c = Catalog::builtin();
        let d = Deployment {
            model: c.model("qwen2.5-7b").unwrap(),
            hardware: c.hardware("rtx-4090").unwrap(),
            quant: Quant::Int4,
            kv_cache: crate::kv_cache::KvCache::Fp16,
            devices: 1,
        };
        estimate(&d, &w, &Efficiency::DEFAULT, &Profile::builtin()).unwrap()
    }

    #[test]
    fn a_closed_loop_run_arrives_together_and_an_open_loop_apart() {
        let mut s: RunSummary = serde_json::from_str(include_str!(
            "../../../tests/data/engine-runs/xeon/p128-c4/run.json"
        ))
        .unwrap();
        let fallback = Traffic {
            arrivals: Arrivals::Apart,
            ..Traffic::default()
        };
        let w = workload_of(&s, &fallback);
        assert_eq!((w.concurrency, w.arrivals), (4.0, Arrivals::Together));
        s.settings.rate = Some(2.0);
        assert_eq!(
            workload_of(&s, &Traffic::default()).arrivals,
            Arrivals::Apart
        );
    }

    #[test]
    fn errors_and_fit_reproduce_the_measurement() {
        let e = estimate_for(Traffic::default());
        let m = Measured {
            prefill_tok_s: Some(e.prefill_tok_s * 0.8),
            decode_tok_s: Some(e.decode_tok_s * 1.1),
            ttft_s: None,
            output_chars_s: None,
        };
        let errors = compare(&e, &m);
        assert_eq!(errors.len(), 2);
        assert!((errors[0].error - (1.0 / 0.8 - 1.0)).abs() < 1e-9);
        assert!((errors[1].error - (1.0 / 1.1 - 1.0)).abs() < 1e-9);
        let fitted = fit(&e, &m);
        assert!((fitted.compute - 0.65 * 0.8).abs() < 1e-9);
        assert!((fitted.bandwidth - 0.7 * 1.1).abs() < 1e-9);
        // Re-estimating with the fitted factors reproduces the measurement.
        let c = Catalog::builtin();
        let d = Deployment {
            model: c.model("qwen2.5-7b").unwrap(),
            hardware: c.hardware("rtx-4090").unwrap(),
            quant: Quant::Int4,
            kv_cache: crate::kv_cache::KvCache::Fp16,
            devices: 1,
        };
        let again = estimate(&d, &Traffic::default(), &fitted, &Profile::builtin()).unwrap();
        assert!((again.prefill_tok_s / m.prefill_tok_s.unwrap() - 1.0).abs() < 1e-9);
        assert!((again.decode_tok_s / m.decode_tok_s.unwrap() - 1.0).abs() < 1e-9);
        // A measurement above the peak keeps the factor at 1.
        let fast = Measured {
            decode_tok_s: Some(e.decode_tok_s * 10.0),
            ..Measured::default()
        };
        assert_eq!(fit(&e, &fast).bandwidth, 1.0);
    }

    /// Runs measured on a device whose decode is bound by arithmetic at a
    /// known fraction: the fit finds it and reproduces every run; runs
    /// whose step time stays flat (a GPU) leave decode bandwidth-bound.
    #[test]
    fn several_runs_fit_the_decode_compute_fraction_when_the_batch_slows_decode() {
        let c = Catalog::builtin();
        let d = Deployment {
            model: c.model("smollm2-135m").unwrap(),
            hardware: c.hardware("ryzen-9-7950x").unwrap(),
            quant: Quant::Int4,
            kv_cache: crate::kv_cache::KvCache::Fp16,
            devices: 1,
        };
        let truth = Efficiency {
            compute: 0.5,
            bandwidth: 0.4,
            decode_compute: Some(0.03),
            ..Efficiency::DEFAULT
        };
        let at = |b: f64, eff: &Efficiency| {
            let w = Traffic {
                concurrency: b,
                prompt_tokens: 200.0,
                output_tokens: 100.0,
                ..Traffic::default()
            };
            estimate(&d, &w, eff, &Profile::builtin()).unwrap()
        };
        let measured = |e: &Estimate| Measured {
            prefill_tok_s: Some(e.prefill_tok_s),
            decode_tok_s: Some(e.decode_tok_s),
            ..Measured::default()
        };
        let runs: Vec<(Estimate, Measured)> = [1.0, 2.0, 4.0]
            .iter()
            .map(|&b| (at(b, &Efficiency::DEFAULT), measured(&at(b, &truth))))
            .collect();
        let fitted = fit_runs(&runs).unwrap();
        assert!(
            (fitted.decode_compute.unwrap() - 0.03).abs() < 1e-9,
            "{fitted:?}"
        );
        for b in [1.0, 2.0, 4.0, 8.0] {
            let (want, got) = (at(b, &truth).decode_tok_s, at(b, &fitted).decode_tok_s);
            assert!(
                (got / want - 1.0).abs() < 1e-6,
                "batch {b}: {got} vs {want}"
            );
        }
        // Flat step times: bandwidth-bound, no decode compute fraction.
        let gpu = Efficiency {
            decode_compute: Some(1.0),
            ..truth.clone()
        };
        let runs: Vec<(Estimate, Measured)> = [1.0, 2.0]
            .iter()
            .map(|&b| (at(b, &Efficiency::DEFAULT), measured(&at(b, &gpu))))
            .collect();
        let fitted = fit_runs(&runs).unwrap();
        assert_eq!(fitted.decode_compute, None);
        assert!((fitted.bandwidth - 0.4).abs() < 0.02, "{fitted:?}");
        assert!(fit_runs(&[]).is_none());
    }
}
