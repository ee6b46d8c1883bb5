use super::read::natural_key;
use super::*;
use tokenpace_core::setting::Setting;
use tokenpace_core::summary::{Environment, RunSettings};

fn records(n: u64) -> Vec<RequestRecord> {
    (0..n)
        .map(|i| RequestRecord::new(i, i * 10, i * 10))
        .collect()
}

/// Writes a level as `bench --out` does: run.json and requests.jsonl.
fn write_level(dir: &RunDir, n: u64) {
    dir.create().unwrap();
    let recs = records(n);
    let summary = RunSummary::from_records(&recs, RunSettings::default(), Environment::default());
    dir.write_summary(&summary).unwrap();
    dir.write_records(&recs).unwrap();
}

fn err(r: Result<impl std::fmt::Debug, RunDirError>) -> String {
    r.unwrap_err().to_string()
}

#[test]
fn paths_follow_the_layout() {
    let d = RunDir::new("/runs/sweep1");
    assert_eq!(d.summary_path(), Path::new("/runs/sweep1/run.json"));
    assert_eq!(d.requests_path(), Path::new("/runs/sweep1/requests.jsonl"));
    assert_eq!(d.warmup_path(), Path::new("/runs/sweep1/warmup.jsonl"));
    assert_eq!(d.sweep_path(), Path::new("/runs/sweep1/sweep.json"));
    assert_eq!(d.capacity_path(), Path::new("/runs/sweep1/capacity.json"));
    assert_eq!(d.report_path(), Path::new("/runs/sweep1/report.html"));
    assert_eq!(
        d.level("c4").summary_path(),
        Path::new("/runs/sweep1/c4/run.json")
    );
    assert_eq!(d.name(), "sweep1");
}

#[test]
fn a_plain_run_round_trips() {
    let tmp = tempfile::tempdir().unwrap();
    let d = RunDir::new(tmp.path().join("a/run1"));
    write_level(&d, 3);
    let levels = d.read_levels().unwrap();
    assert_eq!(levels.len(), 1);
    assert_eq!(levels[0].name, "run1");
    assert_eq!(levels[0].records.len(), 3);
    assert_eq!(levels[0].summary.counts.sent, 3);
    assert_eq!(d.levels().unwrap()[0].label, None);
    // The run.json path names the same run.
    let opened = RunDir::open(&d.summary_path()).unwrap();
    assert_eq!(opened, d);
    assert_eq!(read_summary(d.path()).unwrap().counts.sent, 3);
}

#[test]
fn a_sweep_reads_in_sweep_json_order() {
    let tmp = tempfile::tempdir().unwrap();
    let d = RunDir::new(tmp.path());
    for (label, n) in [("c16", 1), ("c4", 2), ("c1", 3)] {
        write_level(&d.level(label), n);
    }
    // Without sweep.json: by name, numbers as numbers.
    let names: Vec<String> = d
        .read_levels()
        .unwrap()
        .into_iter()
        .map(|l| l.name)
        .collect();
    assert_eq!(names, ["c1", "c4", "c16"]);
    // With it: its order, and only labels that exist.
    // (Only the labels order the levels: a sweep.json written by hand
    // with nothing else does too.)
    let order =
        r#"{"levels": [{"label": "c16"}, {"label": "gone"}, {"label": "c1"}, {"label": "c4"}]}"#;
    std::fs::write(d.sweep_path(), order).unwrap();
    let levels = d.levels().unwrap();
    let labels: Vec<Option<&str>> = levels.iter().map(|l| l.label.as_deref()).collect();
    assert_eq!(labels, [Some("c16"), Some("c1"), Some("c4")]);
    assert_eq!(levels[0].dir, d.level("c16"));
}

#[test]
fn errors_name_the_file_and_the_fix() {
    let tmp = tempfile::tempdir().unwrap();
    let missing = tmp.path().join("nope");
    let e = err(RunDir::open(&missing));
    assert!(
        e.contains("does not exist") && e.contains(&format!("bench {}", Setting::Out)),
        "{e}"
    );

    let empty = RunDir::new(tmp.path().join("empty"));
    empty.create().unwrap();
    let e = err(empty.levels());
    assert!(e.contains("holds no run.json"), "{e}");

    let run = RunDir::new(tmp.path().join("run"));
    write_level(&run, 3);
    std::fs::remove_file(run.requests_path()).unwrap();
    let e = err(run.read_levels());
    assert!(
        e.contains("requests.jsonl") && e.contains("is missing"),
        "{e}"
    );

    // A bad line before the last is damage, not a torn write.
    std::fs::write(run.requests_path(), "{\"id\": 1, \"sent\n{}\n").unwrap();
    let e = err(run.read_records());
    assert!(
        e.contains("line 1: not a request record") && e.contains("delete or repair"),
        "{e}"
    );
    assert_eq!(e.lines().count(), 1, "{e}");

    std::fs::write(run.summary_path(), "{}").unwrap();
    let e = err(run.read_summary());
    assert!(e.contains("is not a tokenpace run summary"), "{e}");
    let e = err(read_summary(&tmp.path().join("x/run.json")));
    assert!(e.contains("give the run.json"), "{e}");

    let sweep = RunDir::new(tmp.path().join("sweep"));
    write_level(&sweep.level("c1"), 1);
    std::fs::write(sweep.sweep_path(), "{").unwrap();
    let e = err(sweep.levels());
    assert!(
        e.contains("sweep.json") && e.contains("not a tokenpace sweep"),
        "{e}"
    );
}

#[test]
fn writes_create_nothing_unasked_and_say_where_they_failed() {
    let tmp = tempfile::tempdir().unwrap();
    let d = RunDir::new(tmp.path().join("not-created"));
    let e = err(d.write_capacity(&Capacity::default()));
    assert!(
        e.contains("could not write") && e.contains("capacity.json"),
        "{e}"
    );
    d.create().unwrap();
    let capacity = Capacity {
        tier_a_max_concurrency: Some(4),
        ..Capacity::default()
    };
    d.write_capacity(&capacity).unwrap();
    let text = std::fs::read_to_string(d.capacity_path()).unwrap();
    assert!(text.ends_with("}\n"), "{text}");
    let read = d.read_capacity().unwrap();
    assert_eq!(read.tier_a_max_concurrency, Some(4));
}

#[test]
fn levels_sort_numerically() {
    let mut v = vec!["c16", "c4", "c1", "p2048", "p128"];
    v.sort_by_key(|l| natural_key(l));
    assert_eq!(v, ["c1", "c4", "c16", "p128", "p2048"]);
}

#[test]
fn scan_finds_runs_and_levels_by_relative_name() {
    let tmp = tempfile::tempdir().unwrap();
    let root = tmp.path();
    write_level(&RunDir::new(root.join("b")), 1);
    write_level(&RunDir::new(root.join("sweep/c4")), 1);
    write_level(&RunDir::new(root.join(".hidden/x")), 1);
    std::fs::create_dir_all(root.join("broken")).unwrap();
    std::fs::write(root.join("broken/run.json"), "not json").unwrap();
    let found = scan(root).unwrap();
    let names: Vec<&str> = found.iter().map(|f| f.name.as_str()).collect();
    assert_eq!(names, ["b", "broken", "sweep/c4"]);
    assert!(found[1].summary.is_err());
    assert_eq!(
        resolve("sweep/c4", root).unwrap(),
        RunDir::new(root.join("sweep/c4"))
    );
    let e = err(resolve("ghost", root));
    assert!(
        e.contains("'ghost' is neither a run directory nor a run name"),
        "{e}"
    );
    let e = err(scan(&root.join("nope")));
    assert!(e.contains("is not a directory"), "{e}");
}

#[test]
fn a_killed_run_reads_from_its_records() {
    let tmp = tempfile::tempdir().unwrap();
    let run = RunDir::new(tmp.path().join("killed"));
    write_level(&run, 3);
    std::fs::remove_file(run.summary_path()).unwrap();
    // The write of a fourth record was cut short, inside a character.
    let mut text = std::fs::read(run.requests_path()).unwrap();
    text.extend_from_slice("{\"id\":3,\"message\":\"\u{4f60}".as_bytes());
    text.pop();
    std::fs::write(run.requests_path(), text).unwrap();
    assert!(run.is_level());
    let (records, torn) = run.read_records().unwrap();
    assert_eq!(records.len(), 3);
    let torn = torn.unwrap();
    assert!(
        torn.contains("line 4") && torn.contains("partial last line"),
        "{torn}"
    );
    let levels = run.read_levels().unwrap();
    let level = &levels[0];
    assert_eq!((level.name.as_str(), level.records.len()), ("killed", 3));
    assert!(level.summary.partial);
    assert_eq!(level.summary.counts.sent, 3);
    assert_eq!(level.summary.settings.stall_threshold_s, 0.25);
    assert_eq!(level.warnings.len(), 2, "{:?}", level.warnings);
    assert!(
        level.warnings[1].contains("run.json' is missing"),
        "{:?}",
        level.warnings
    );
    // history lists it too, with the rebuilt summary.
    let found = scan(tmp.path()).unwrap();
    assert_eq!(found[0].name, "killed");
    assert!(found[0].summary.as_ref().unwrap().partial);
    // A sweep killed in its second level still lists both.
    let sweep = RunDir::new(tmp.path().join("sweep"));
    write_level(&sweep.level("c1"), 2);
    write_level(&sweep.level("c4"), 2);
    std::fs::remove_file(sweep.level("c4").summary_path()).unwrap();
    let levels = sweep.read_levels().unwrap();
    assert_eq!(levels.len(), 2);
    assert!(!levels[0].summary.partial && levels[1].summary.partial);
}

#[test]
fn stored_files_carry_their_version_and_newer_ones_are_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let d = RunDir::new(tmp.path().join("run"));
    write_level(&d, 2);
    let text = std::fs::read_to_string(d.summary_path()).unwrap();
    assert!(text.starts_with("{\n  \"version\": 1,\n"), "{text}");
    // Written before the version was recorded: version 1, read as before.
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v.as_object_mut().unwrap().remove("version");
    std::fs::write(d.summary_path(), v.to_string()).unwrap();
    assert_eq!(d.read_summary().unwrap().counts.sent, 2);
    // From a newer format: refused, naming the file, its version and what
    // to do.
    v["version"] = 2.into();
    std::fs::write(d.summary_path(), v.to_string()).unwrap();
    let e = err(d.read_summary());
    assert!(
        e.contains("run.json") && e.contains("format version 2") && e.contains("upgrade tokenpace"),
        "{e}"
    );
    assert!(err(d.read_levels()).contains("format version 2"));

    let sweep = RunDir::new(tmp.path().join("sweep"));
    write_level(&sweep.level("c1"), 1);
    sweep.write_sweep(&Sweep::default()).unwrap();
    let text = std::fs::read_to_string(sweep.sweep_path()).unwrap();
    assert!(text.starts_with("{\n  \"version\": 1,\n"), "{text}");
    assert!(sweep.read_sweep().unwrap().levels.is_empty());
    assert_eq!(sweep.levels().unwrap().len(), 1);
    let newer = r#"{"version": 3, "levels": [{"label": "c1"}]}"#;
    std::fs::write(sweep.sweep_path(), newer).unwrap();
    let e = err(sweep.levels());
    assert!(
        e.contains("sweep.json") && e.contains("format version 3"),
        "{e}"
    );
    assert!(err(sweep.read_sweep()).contains("format version 3"));
    let cap = sweep.capacity_path();
    std::fs::write(&cap, r#"{"version": 2, "levels": [], "failed_levels": {}}"#).unwrap();
    let e = err(sweep.read_capacity());
    assert!(
        e.contains("capacity.json") && e.contains("format version 2"),
        "{e}"
    );
    // Without a version: 1, as written before it was recorded.
    std::fs::write(
        &cap,
        r#"{"levels": [], "failed_levels": {}, "stopped": null}"#,
    )
    .unwrap();
    assert!(sweep.read_capacity().unwrap().levels.is_empty());
}
