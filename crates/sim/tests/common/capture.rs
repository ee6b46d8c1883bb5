//! Streams captured from a real vLLM 0.32.0
//! (`tests/data/captures/vllm-0.32-cpu/` at the workspace root), and their
//! shape: the event types in order and every JSON field's name and nesting,
//! values aside.

use serde_json::{Map, Value};

/// The captured file `name`.
pub fn capture(name: &str) -> String {
    let path = format!(
        "{}/../../tests/data/captures/vllm-0.32-cpu/{name}",
        env!("CARGO_MANIFEST_DIR")
    );
    std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The events of an SSE body: each one's `event:` name ("" without one)
/// and its data as JSON (`[DONE]` as a string). Comment lines (a
/// dialect's `: OPENROUTER PROCESSING`) are no event, as for any client.
pub fn events(body: &str) -> Vec<(String, Value)> {
    body.replace("\r\n", "\n")
        .split("\n\n")
        .filter(|block| block.lines().any(|l| !l.starts_with(':')))
        .map(|block| {
            let mut name = String::new();
            let mut data = Vec::new();
            for line in block.lines() {
                if let Some(n) = line.strip_prefix("event: ") {
                    name = n.to_owned();
                } else if let Some(d) = line.strip_prefix("data: ") {
                    data.push(d);
                }
            }
            let data = data.join("\n");
            let value = match data.as_str() {
                "[DONE]" => Value::String(data),
                _ => serde_json::from_str(&data).unwrap_or_else(|e| panic!("{e}: {data}")),
            };
            (name, value)
        })
        .collect()
}

/// A JSON value's shape: objects keep their keys (each with its value's
/// shape), arrays their first element's shape, and every scalar (null
/// included) becomes null.
pub fn shape(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .map(|(k, v)| (k.clone(), shape(v)))
                .collect::<Map<_, _>>(),
        ),
        Value::Array(items) => Value::Array(items.first().map(shape).into_iter().collect()),
        Value::String(s) if s == "[DONE]" => v.clone(),
        _ => Value::Null,
    }
}

/// Checks the simulator's body has the captured one's events, in order,
/// each with the same fields.
pub fn assert_same_shape(sim: &str, captured: &str) {
    let (ours, theirs) = (events(sim), events(captured));
    let names = |e: &[(String, Value)]| e.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    assert_eq!(names(&ours), names(&theirs), "event types\n{sim}");
    assert_eq!(
        ours.len(),
        theirs.len(),
        "events\nsim:\n{sim}\ncaptured:\n{captured}"
    );
    for (i, ((_, a), (_, b))) in ours.iter().zip(&theirs).enumerate() {
        assert_eq!(
            shape(a),
            shape(b),
            "event {i}:\nsim:      {a}\ncaptured: {b}"
        );
    }
}
