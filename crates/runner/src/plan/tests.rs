//! Plans are checked before any I/O.

use super::*;
use tokenpace_client::load::Arrival;

#[test]
fn a_trace_sets_the_load_and_brings_its_prompts() {
    let one = Shard::parse("0/1").unwrap();
    let trace = |speed| Load::Trace { speed };
    let url = "http://127.0.0.1:1";
    let mut plan = BenchPlan::new(target(url, Some("m".into()), None, &[], None).unwrap(), url);
    plan.levels = BenchPlan::levels_of(&[trace(1.0), trace(10.0)], &[256], one).unwrap();
    plan.requests = u64::MAX;
    plan.workload = WorkloadPlan {
        text: tokenpace_corpus::TextLang::En,
        max_tokens: 16,
        prefix_groups: 1,
        trace: Some(tokenpace_client::trace::TraceSpec {
            path: "t.jsonl".into(),
            format: None,
            log_type: None,
            start: Duration::ZERO,
            duration: None,
            block_tokens: 512,
        }),
        salt: 1,
        ..WorkloadPlan::default()
    };
    plan.timeouts = TimeoutPlan {
        connect: Duration::from_secs(1),
        first_token: Duration::from_secs(1),
        total: Duration::from_secs(1),
        idle: Duration::from_secs(1),
        max_event_bytes: 1 << 20,
        retry_throttled: None,
    };
    plan.check().unwrap();
    assert_eq!(plan.levels[1].label(false), "t10");
    let settings = plan.settings(plan.levels[1], "m", 1.0);
    assert_eq!((settings.prompt_tokens, settings.max_tokens), (None, None));
    let e = |p: &BenchPlan| p.check().unwrap_err().to_string();
    let mut closed = plan.clone();
    closed.levels = BenchPlan::levels_of(&[Load::Closed { concurrency: 2 }], &[256], one).unwrap();
    let drop_concurrency = format!("drop {}", Setting::Concurrency);
    assert!(e(&closed).contains(&drop_concurrency), "{}", e(&closed));
    let mut shared = plan.clone();
    shared.workload.shared_prefix = 100;
    assert!(e(&shared).contains(&format!("{} brings its own prompts", Setting::Trace)));
    let mut blocks = plan.clone();
    blocks.workload.trace.as_mut().unwrap().block_tokens = 0;
    assert!(e(&blocks).contains(&Setting::TraceBlockTokens.to_string()));
    plan.workload.trace = None;
    let give_trace = format!("give {} FILE", Setting::Trace);
    assert!(e(&plan).contains(&give_trace), "{}", e(&plan));
}

#[test]
fn credentials_never_leave_the_url() {
    assert_eq!(
        redact(&format!("https://{}@example.com/v1?key=abc", "user:secret")),
        "https://example.com/v1"
    );
    assert_eq!(redact("http://127.0.0.1:8000"), "http://127.0.0.1:8000");
    assert_eq!(
        redact("http://127.0.0.1:8000?api_key=S"),
        "http://127.0.0.1:8000"
    );
}

#[test]
fn a_query_stays_after_every_api_path() {
    let t = target("http://h:1/v1/?api_key=S&v=2", None, None, &[], None).unwrap();
    assert_eq!(t.base_url, "http://h:1?api_key=S&v=2");
    assert_eq!(t.url("/v1/models"), "http://h:1/v1/models?api_key=S&v=2");
    assert_eq!(t.shown_url(), "http://h:1?v=2");
}

#[test]
fn a_sweep_varies_one_thing() {
    let c = |n| Load::Closed { concurrency: n };
    let one = Shard::parse("0/1").unwrap();
    let l = BenchPlan::levels_of(&[c(1), c(4)], &[256], one).unwrap();
    assert_eq!(l.len(), 2);
    assert_eq!(l[1].label(false), "c4");
    let p = BenchPlan::levels_of(&[c(1)], &[64, 512], one).unwrap();
    assert_eq!(p[1].label(true), "p512");
    let e = BenchPlan::levels_of(&[c(1), c(2)], &[64, 512], one).unwrap_err();
    assert!(e.to_string().contains("not both"), "{e}");
    assert!(BenchPlan::levels_of(&[c(0)], &[64], one).is_err());
    assert!(BenchPlan::levels_of(&[c(1)], &[0], one).is_err());
    let half = Shard::parse("1/2").unwrap();
    let e = BenchPlan::levels_of(&[c(1)], &[64], half).unwrap_err();
    assert!(e.to_string().contains("no stream"), "{e}");
    let open = Load::Open {
        rate: 2.5,
        arrival: Arrival::Poisson,
    };
    assert_eq!(
        BenchPlan::levels_of(&[open], &[64], one).unwrap()[0].label(false),
        "r2.5"
    );
}

#[test]
fn urls_are_checked_and_headers_parsed() {
    let t = target(
        "http://127.0.0.1:1/v1/",
        None,
        Some(String::new()),
        &["X-A: b".into()],
        Some("X-Request-ID"),
    )
    .unwrap();
    assert_eq!(t.base_url, "http://127.0.0.1:1");
    assert_eq!(t.api_key, None);
    assert_eq!(t.headers, vec![("X-A".into(), "b".into())]);
    let id = t.request_id.expect("a request-id header");
    assert_eq!(id.name, "X-Request-ID");
    assert!(id.value(17).starts_with("tp-") && id.value(17).ends_with("-17"));
    assert!(target("h:1", None, None, &[], None).is_err());
    assert!(target("http://127.0.0.1", None, None, &["nocolon".into()], None).is_err());
    let e = target("http://127.0.0.1", None, None, &[], Some("X Id")).unwrap_err();
    let named = format!("{} 'X Id'", Setting::RequestIdHeader);
    assert!(e.to_string().contains(&named), "{e}");
}

#[test]
fn bad_headers_and_keys_are_named_before_any_request() {
    let e = target(
        "http://127.0.0.1:1",
        None,
        None,
        &["bad name: x".into()],
        None,
    )
    .unwrap_err();
    assert!(e.to_string().contains("'bad name'"), "{e}");
    let e = target(
        "http://127.0.0.1:1",
        None,
        Some("Bearer sk-1".into()),
        &[],
        None,
    )
    .unwrap_err()
    .to_string();
    assert!(e.contains("API key") && !e.contains("sk-1"), "{e}");
}

#[test]
fn a_new_plan_has_the_shared_defaults_and_passes_its_check() {
    let t = target("http://u:p@127.0.0.1:1/v1", None, None, &[], None).unwrap();
    let plan = BenchPlan::new(t, " http://u:p@127.0.0.1:1/v1 ");
    plan.check().unwrap();
    assert_eq!(plan.target_label, redact("http://u:p@127.0.0.1:1/v1"));
    assert!(!plan.target_label.contains("u:p"), "{}", plan.target_label);
    assert_eq!(plan.protocol, "openai-chat");
    assert_eq!(
        plan.levels,
        vec![LevelPlan {
            load: Load::Closed { concurrency: 1 },
            prompt_tokens: DEFAULT_PROMPT_TOKENS,
        }]
    );
    assert_eq!(plan.requests, DEFAULT_REQUESTS);
    assert_eq!(plan.workload.max_tokens, DEFAULT_MAX_TOKENS);
    assert!(plan.workload.ignore_eos && plan.workload.salt != 0);
    assert_eq!(plan.timeouts.connect, Duration::from_secs(10));
    assert_eq!(plan.timeouts.total, Duration::from_secs(600));
    assert_eq!((plan.warmup, plan.shard), (0, Shard::WHOLE));
    assert_eq!(plan.self_check_streams(), None);
}

#[test]
fn a_self_check_runs_when_asked_or_above_100_streams() {
    let t = target("http://127.0.0.1:1", None, None, &[], None).unwrap();
    let mut plan = BenchPlan::new(t, "http://127.0.0.1:1");
    let closed = |c| Load::Closed { concurrency: c };
    plan.levels = BenchPlan::levels_of(&[closed(8), closed(200)], &[64], Shard::WHOLE).unwrap();
    plan.self_check = SelfCheck::Auto;
    assert_eq!(plan.self_check_streams(), Some(200));
    plan.levels.truncate(1);
    assert_eq!(plan.self_check_streams(), None);
    plan.self_check = SelfCheck::On;
    assert_eq!(plan.self_check_streams(), Some(8));
    plan.levels = BenchPlan::levels_of(
        &[Load::Open {
            rate: 2.0,
            arrival: Arrival::Poisson,
        }],
        &[64],
        Shard::WHOLE,
    )
    .unwrap();
    assert_eq!(plan.self_check_streams(), Some(100));
}
