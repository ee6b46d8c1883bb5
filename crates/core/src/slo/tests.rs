use super::*;
use crate::metric::Metric;
use crate::profile::Profile;
use crate::record::{Chunk, CountSource, ErrorKind, RequestError, TokenCount};
use preset::MLPERF;

/// A request whose first token comes at `ttft_ms`, then `n − 1` more
/// `gap_ms` apart, 3 characters each; it ends with the last token.
fn req(ttft_ms: u64, gap_ms: u64, n: u64) -> RequestRecord {
    let mut r = RequestRecord::new(0, 0, 0);
    for k in 0..n {
        r.chunks.push(Chunk {
            at_ns: (ttft_ms + gap_ms * k) * 1_000_000,
            tokens: 1,
            chars: 3,
        });
    }
    r.output_tokens = Some(TokenCount {
        count: n as u32,
        source: CountSource::ServerUsage,
    });
    r.output_chars = 3 * n as u32;
    r.end_ns = Some((ttft_ms + gap_ms * (n - 1)) * 1_000_000);
    r
}

fn failed() -> RequestRecord {
    let mut r = RequestRecord::new(0, 0, 0);
    r.error = Some(RequestError {
        kind: ErrorKind::StreamCut,
        status: None,
        message: "reset".into(),
    });
    r
}

fn interactive_8b() -> Slo {
    preset("mlperf-interactive:llama-3.1-8b").unwrap().unwrap()
}

#[test]
fn tpot_is_mlperfs_end_to_end_less_ttft_over_the_later_tokens() {
    let m = RequestMetrics::of(&req(200, 25, 11), &MetricOptions::default());
    assert!((tpot_s(&m).unwrap() - 0.025).abs() < 1e-9);
    let one = RequestMetrics::of(&req(200, 25, 1), &MetricOptions::default());
    assert_eq!(tpot_s(&one), None);
}

#[test]
fn met_by_names_the_first_limit_missed() {
    let slo = interactive_8b();
    let o = MetricOptions::default();
    assert_eq!(slo.met_by(&req(400, 25, 11), &o), Ok(()));
    assert_eq!(slo.met_by(&req(600, 25, 11), &o), Err(SloLimit::Ttft));
    assert_eq!(slo.met_by(&req(400, 35, 11), &o), Err(SloLimit::Tpot));
    assert_eq!(
        slo.missed(&req(600, 35, 11), &o),
        [SloLimit::Ttft, SloLimit::Tpot]
    );
    assert_eq!(slo.met_by(&failed(), &o), Err(SloLimit::Failed));
    // A one-token answer has no TPOT to hold against it.
    assert_eq!(slo.met_by(&req(400, 0, 1), &o), Ok(()));
}

#[test]
fn attainment_counts_failures_and_goodput_is_per_second() {
    let slo = interactive_8b();
    let mut records = vec![req(400, 25, 11); 6];
    records.extend(vec![req(400, 40, 11); 3]);
    records.push(failed());
    let a = Attainment::of(&records, 2.0, &slo, &MetricOptions::default());
    assert_eq!((a.requests, a.good), (10, 6));
    assert!((a.met_pct() - 60.0).abs() < 1e-9);
    assert!((a.good_per_s - 3.0).abs() < 1e-9);
    assert_eq!(a.most_missed(), Some(SloLimit::Tpot));
    assert!(a.attains(60.0) && !a.attains(60.1));
    let none = Attainment::of(&[], 1.0, &slo, &MetricOptions::default());
    assert!(!none.attains(0.0));
    assert_eq!(none.most_missed(), None);
}

#[test]
fn presets_hold_the_tables_figures() {
    let s = preset("mlperf-server:Llama-2-70B").unwrap().unwrap();
    assert_eq!((s.ttft_ms, s.tpot_ms), (Some(2000.0), Some(200.0)));
    assert_eq!(s.name, "mlperf-server:llama-2-70b");
    let i = preset("mlperf-interactive:deepseek-r1").unwrap().unwrap();
    assert_eq!((i.ttft_ms, i.tpot_ms), (Some(1500.0), Some(15.0)));
    // Tier A of the default profile, per request.
    let p = Profile::builtin();
    let t = preset("tiers").unwrap().unwrap();
    assert_eq!(t.ttft_ms, Some(p.metrics[&Metric::TtftS].a * 1000.0));
    assert_eq!(t.tpot_ms, Some(1000.0 / p.metrics[&Metric::DecodeTokS].a));
    assert_eq!(
        t.output_chars_per_s,
        Some(p.metrics[&Metric::OutputCharsS].a)
    );
}

#[test]
fn an_unknown_model_lists_the_known_ones() {
    let e = preset("mlperf-interactive:llama-9").unwrap().unwrap_err();
    for (id, ..) in MLPERF {
        assert!(e.0.contains(id), "{e}");
    }
    // Not a preset's form: perhaps a file.
    assert!(preset("my-slo.toml").is_none());
    assert!(preset("other:llama-3.1-8b").is_none());
}

#[test]
fn a_user_file_reads_and_its_errors_name_the_field() {
    let s = Slo::from_toml("ttft_ms = 800\ntpot_ms = 50\n", "mine.toml").unwrap();
    assert_eq!(
        (s.name.as_str(), s.ttft_ms, s.tpot_ms),
        ("mine.toml", Some(800.0), Some(50.0))
    );
    let named = Slo::from_toml("name = \"chat\"\ne2e_ms = 9000", "x").unwrap();
    assert_eq!(named.name, "chat");
    let typo = Slo::from_toml("ttft = 800\n", "x").unwrap_err().0;
    assert!(
        typo.contains("line 1") && typo.contains("ttft") && typo.contains("ttft_ms"),
        "{typo}"
    );
    let negative = Slo::from_toml("tpot_ms = -3\n", "x").unwrap_err().0;
    assert!(negative.contains("tpot_ms = -3"), "{negative}");
    let empty = Slo::from_toml("name = \"x\"\n", "x").unwrap_err().0;
    assert!(empty.contains("at least one"), "{empty}");
    let wrong_type = Slo::from_toml("ttft_ms = \"fast\"\n", "x").unwrap_err().0;
    assert!(wrong_type.contains("line 1"), "{wrong_type}");
}
