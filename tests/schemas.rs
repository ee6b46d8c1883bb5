//! Every command's JSON output has a JSON Schema in `schemas/`, generated
//! from the typed result it serialises (so the file cannot drift from the
//! code) and checked against real output of the command.
//!
//! After changing a result type: `TOKENPACE_UPDATE_SCHEMAS=1 cargo test
//! --test schemas`, then review the diff of `schemas/`.

mod common;

use common::{assert_valid, tokenpace};

#[test]
fn schema_files_match_the_result_types() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("schemas");
    let update = std::env::var_os("TOKENPACE_UPDATE_SCHEMAS").is_some();
    for (name, schema) in tokenpace::output::schemas() {
        let path = dir.join(format!("{name}.schema.json"));
        let text = serde_json::to_string_pretty(&schema).unwrap() + "\n";
        if update {
            std::fs::write(&path, &text).unwrap();
            continue;
        }
        let on_disk = std::fs::read_to_string(&path).unwrap_or_default();
        assert!(
            on_disk == text,
            "{} is out of date with its result type: run TOKENPACE_UPDATE_SCHEMAS=1 cargo test --test schemas and review the diff",
            path.display()
        );
    }
}

#[test]
fn grade_json_validates() {
    let (_, out) = tokenpace(&[
        "grade",
        "--ttft",
        "1.8",
        "--prefill",
        "1200",
        "--decode",
        "28",
        "--chars-per-s",
        "24",
        "--format",
        "json",
    ])
    .unwrap();
    assert_valid("grade", &out);
}

#[test]
fn the_validator_rejects_what_the_schema_forbids() {
    let bad = r#"{"metrics": "not a list", "overall": "Z"}"#;
    let result = std::panic::catch_unwind(|| assert_valid("grade", bad));
    assert!(
        result.is_err(),
        "an invalid document passed the grade schema"
    );
}
