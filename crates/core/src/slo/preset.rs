//! The built-in SLOs: the default profile's tier A as per-request limits,
//! and MLPerf Inference's LLM latency constraints.
//!
//! MLPerf's figures are the per-model TTFT and TPOT constraints of the
//! datacenter LLM benchmarks, Server and Interactive scenarios, in the
//! MLPerf Inference rules (mlcommons/inference_policies,
//! `inference_rules.adoc`) of the v6.0 round (2026): each pair checked
//! against that document's benchmark table at its commit ac93e89 of
//! 2026-07-23 (DeepSeek-R1's interactive pair and gpt-oss-120b came with
//! v6.0; the v5.1 document has neither). MLPerf applies them to the 99th
//! percentile; here they are per-request limits, attained by a share of
//! requests (`--attainment`).

use super::{Slo, SloError};
use crate::metric::Metric;
use crate::profile::Profile;

/// The MLPerf rules version the constraints below come from.
pub const MLPERF_RULES: &str = "MLPerf Inference rules v6.0";

/// One model's constraints: (id, server TTFT ms, server TPOT ms,
/// interactive TTFT ms, interactive TPOT ms).
type Constraints = (&'static str, f64, f64, f64, f64);

/// MLPerf Inference's LLM latency constraints per model ([`MLPERF_RULES`]).
pub(super) const MLPERF: [Constraints; 5] = [
    ("llama-3.1-8b", 2000.0, 100.0, 500.0, 30.0),
    ("llama-2-70b", 2000.0, 200.0, 450.0, 40.0),
    ("llama-3.1-405b", 6000.0, 175.0, 4500.0, 80.0),
    ("deepseek-r1", 2000.0, 80.0, 1500.0, 15.0),
    ("gpt-oss-120b", 3000.0, 80.0, 2000.0, 20.0),
];

/// The presets' forms, for help and errors.
pub const PRESETS: &str = "tiers, mlperf-server:<model>, mlperf-interactive:<model>";

/// The built-in SLO `spec` names: `tiers` (tier A of the default profile,
/// per request), `mlperf-server:<model>` or `mlperf-interactive:<model>`.
/// `None` when `spec` is no preset's form (it may be a file); an error when
/// it is, with an unknown model (the error lists the known ones).
pub fn preset(spec: &str) -> Option<Result<Slo, SloError>> {
    if spec == "tiers" {
        return Some(Ok(tiers()));
    }
    let (scenario, model) = spec.split_once(':')?;
    let interactive = match scenario {
        "mlperf-server" => false,
        "mlperf-interactive" => true,
        _ => return None,
    };
    let wanted = model.trim().to_ascii_lowercase();
    let Some(&(id, st, sp, it, ip)) = MLPERF.iter().find(|c| c.0 == wanted) else {
        let known: Vec<&str> = MLPERF.iter().map(|c| c.0).collect();
        return Some(Err(SloError(format!(
            "unknown MLPerf model '{model}': use one of {} (e.g. {scenario}:{})",
            known.join(", "),
            known[0]
        ))));
    };
    let (ttft, tpot) = if interactive { (it, ip) } else { (st, sp) };
    Some(Ok(Slo {
        name: format!("{scenario}:{id}"),
        ttft_ms: Some(ttft),
        tpot_ms: Some(tpot),
        output_chars_per_s: None,
        e2e_ms: None,
    }))
}

/// Tier A of the default profile as per-request limits: its TTFT, its
/// decode rate as a time per token, its output speed.
fn tiers() -> Slo {
    let p = Profile::builtin();
    let a = |m: Metric| p.metrics.get(&m).map(|r| r.a);
    Slo {
        name: "tiers".into(),
        ttft_ms: a(Metric::TtftS).map(|s| s * 1000.0),
        tpot_ms: a(Metric::DecodeTokS).map(|tok_s| 1000.0 / tok_s),
        output_chars_per_s: a(Metric::OutputCharsS),
        e2e_ms: None,
    }
}
