use super::*;

fn names() -> Vec<String> {
    vec!["search".into(), "get-weather".into()]
}

/// Feeds `tokens` one by one; every piece, and the call.
fn scan(tokens: &[&str]) -> (Vec<Piece>, Option<ParsedToolCall>) {
    let mut s = Scanner::new(names());
    let mut pieces: Vec<Piece> = tokens.iter().flat_map(|t| s.push(t)).collect();
    let (last, call) = s.finish();
    pieces.extend(last);
    (pieces, call)
}

/// The text pieces joined, the call's name and its argument pieces joined.
fn joined(pieces: &[Piece]) -> (String, Vec<String>, String) {
    let (mut text, mut starts, mut args) = (String::new(), Vec::new(), String::new());
    for p in pieces {
        match p {
            Piece::Text(t) => text.push_str(t),
            Piece::CallStart(n) => starts.push(n.clone()),
            Piece::Arguments(a) => args.push_str(a),
        }
    }
    (text, starts, args)
}

/// Every way of cutting `text` into two to four tokens.
fn splits(text: &str) -> Vec<Vec<String>> {
    let cuts: Vec<usize> = (1..text.len())
        .filter(|&i| text.is_char_boundary(i))
        .collect();
    let mut out = vec![vec![text.to_owned()]];
    for &a in &cuts {
        out.push(vec![text[..a].into(), text[a..].into()]);
        for &b in cuts.iter().filter(|&&b| b > a).step_by(3) {
            out.push(vec![text[..a].into(), text[a..b].into(), text[b..].into()]);
        }
    }
    out
}

#[test]
fn text_streams_as_it_comes() {
    let (pieces, call) = scan(&["Hello", " wor", "ld"]);
    assert_eq!(call, None);
    assert_eq!(
        pieces,
        vec![
            Piece::Text("Hello".into()),
            Piece::Text(" wor".into()),
            Piece::Text("ld".into())
        ]
    );
    // A beginning that might be the tag is held, then sent as text.
    let (pieces, _) = scan(&["  <tool", "box> is a tag"]);
    assert_eq!(pieces, vec![Piece::Text("  <toolbox> is a tag".into())]);
    // The tag after text stays text.
    let (pieces, call) = scan(&["Sure. <tool_call>{\"name\":\"search\"}"]);
    assert_eq!(
        (joined(&pieces).0.as_str(), call),
        ("Sure. <tool_call>{\"name\":\"search\"}", None)
    );
    assert_eq!(scan(&[]), (Vec::new(), None));
    assert_eq!(scan(&["<tool"]).0, vec![Piece::Text("<tool".into())]);
}

#[test]
fn a_call_streams_its_name_then_its_arguments_at_any_split() {
    let answer = "\n<tool_call>\n{\"name\": \"search\", \"arguments\": {\"query\": \"a \\\"}\\\" b\", \"n\": [1, {\"x\": 2}]}}\n</tool_call>";
    let want = "{\"query\": \"a \\\"}\\\" b\", \"n\": [1, {\"x\": 2}]}";
    for tokens in splits(answer) {
        let tokens: Vec<&str> = tokens.iter().map(String::as_str).collect();
        let (pieces, call) = scan(&tokens);
        let (text, starts, args) = joined(&pieces);
        assert_eq!(text, "", "{tokens:?}");
        assert_eq!(starts, vec!["search"], "{tokens:?}");
        assert_eq!(args, want, "{tokens:?}");
        let call = call.unwrap();
        assert!(call.valid);
        assert_eq!(
            (call.name.as_str(), call.arguments.as_str()),
            ("search", want)
        );
        // The start comes before any argument.
        assert_eq!(pieces[0], Piece::CallStart("search".into()));
    }
}

#[test]
fn the_start_is_sent_as_soon_as_the_arguments_open() {
    let mut s = Scanner::new(names());
    assert!(s.push("<tool_call>{\"name\": \"get-weather\"").is_empty());
    assert_eq!(
        s.push(", \"arguments\": {\"city"),
        vec![
            Piece::CallStart("get-weather".into()),
            Piece::Arguments("{\"city".into())
        ]
    );
    assert_eq!(
        s.push("\": \"Paris\"}"),
        vec![Piece::Arguments("\": \"Paris\"}".into())]
    );
    // What follows the arguments is not sent.
    assert!(s.push("}</tool_call> and more").is_empty());
    let (last, call) = s.finish();
    assert!(last.is_empty());
    assert_eq!(call.unwrap().arguments, "{\"city\": \"Paris\"}");
}

#[test]
fn a_list_of_one_call_and_other_shapes_are_read_whole() {
    // SmolLM2's own format: a list inside the tags.
    let (pieces, call) = scan(&[
        "<tool_call>[{\"name\": \"search\", \"arguments\": {\"query\": \"x\"}}]</tool_call>",
    ]);
    assert_eq!(joined(&pieces).2, "{\"query\": \"x\"}");
    assert!(call.unwrap().valid);
    // Arguments first, or as a string of JSON: read when generation ends.
    for answer in [
        "<tool_call>{\"arguments\": {\"query\": \"x\"}, \"name\": \"search\"}</tool_call>",
        "<tool_call>{\"name\": \"search\", \"arguments\": \"{\\\"query\\\": \\\"x\\\"}\"}</tool_call>",
        "<tool_call>{\"name\": \"search\", \"parameters\": {\"query\": \"x\"}}",
    ] {
        let (pieces, call) = scan(&[answer]);
        let (text, starts, args) = joined(&pieces);
        assert_eq!((text.as_str(), starts), ("", vec!["search".to_string()]), "{answer}");
        assert_eq!(serde_json::from_str::<Value>(&args).unwrap()["query"], "x");
        assert!(call.unwrap().valid, "{answer}");
    }
}

#[test]
fn unknown_functions_and_broken_calls_are_text() {
    for answer in [
        "<tool_call>{\"name\": \"delete_all\", \"arguments\": {}}</tool_call>",
        "<tool_call>{\"name\": \"search\", \"arguments\": 3}</tool_call>",
        "<tool_call>not json at all",
        "<tool_call>",
    ] {
        let (pieces, call) = scan(&[answer]);
        assert_eq!(call, None, "{answer}");
        assert_eq!(joined(&pieces).0, answer);
    }
}

#[test]
fn a_call_cut_short_or_broken_is_still_the_call_but_not_valid() {
    let (pieces, call) =
        scan(&["<tool_call>{\"name\": \"search\", \"arguments\": {\"query\": \"unfini"]);
    assert_eq!(joined(&pieces).2, "{\"query\": \"unfini");
    let call = call.unwrap();
    assert!(!call.valid);
    assert_eq!(call.arguments, "{\"query\": \"unfini");
    let (_, call) = scan(&["<tool_call>{\"name\": \"search\", \"arguments\": {\"query\": cats}}"]);
    assert!(!call.unwrap().valid);
}

#[test]
fn parse_call_reads_the_hermes_shapes() {
    let names = names();
    let call = parse_call(
        " {\"name\":\"search\",\"arguments\":{\"q\":1}} </tool_call>\n",
        &names,
    )
    .unwrap();
    assert_eq!(call.arguments, "{\"q\":1}");
    assert_eq!(
        parse_call("{\"name\":\"search\"}", &names)
            .unwrap()
            .arguments,
        "{}"
    );
    assert!(parse_call("[]", &names).is_none());
    assert!(parse_call("{\"name\":\"search\",\"arguments\":\"[1]\"}", &names).is_none());
}
