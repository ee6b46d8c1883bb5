use super::*;

#[test]
fn azure_times_are_parsed_to_the_nanosecond() {
    assert_eq!(datetime_ns("1970-01-01 00:00:00").unwrap(), 0);
    let a = datetime_ns("2023-11-16 18:15:46.6805900").unwrap();
    let b = datetime_ns("2023-11-16T18:15:47.0000001Z").unwrap();
    assert_eq!(b - a, 319_410_100);
    // 2023-11-16 is day 19677 after 1970-01-01; 18:15:46 is 65746 s.
    assert_eq!(a / 1_000_000_000, 19_677 * 86_400 + 65_746);
    for bad in [
        "",
        "2023-11-16",
        "16/11/2023 18:15:46",
        "2023-13-01 00:00:00",
        "2023-11-16 18:15:46.1234567890",
        "1969-12-31 23:59:59",
    ] {
        assert!(datetime_ns(bad).is_err(), "{bad}");
    }
}

#[test]
fn csv_fields_may_be_quoted() {
    let fields = split_csv("a, \"b,c\" ,\"d\"\"e\"\r\n");
    assert_eq!(fields, ["a", "b,c", "d\"e"]);
    assert_eq!(split_csv(""), [""]);
}

#[test]
fn formats_are_detected_from_the_first_line() {
    let det = |l: &str| Layout::detect(l, None).map(|(l, header)| (format!("{l:?}"), header));
    assert!(det("{\"timestamp\":0}").unwrap().0.starts_with("Mooncake"));
    assert!(det("TIMESTAMP,ContextTokens,GeneratedTokens")
        .unwrap()
        .0
        .contains("Azure"));
    let (b, header) =
        det("Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type").unwrap();
    assert!(b.contains("BurstGpt") && header);
    let (_, e) = det("time,prompt,answer").unwrap_err();
    assert!(
        e.contains("expected one of") && e.contains("ContextTokens"),
        "{e}"
    );
    let (_, e) = Layout::detect("a,b", Some(TraceFormat::Mooncake)).unwrap_err();
    assert!(e.contains("JSON object"), "{e}");
}

#[test]
fn unknown_and_missing_columns_are_named() {
    let (c, e) = Layout::detect("TIMESTAMP,ContextTokens,GeneratedTokens,Extra", None).unwrap_err();
    assert_eq!(c.as_deref(), Some("Extra"));
    assert!(e.contains("ContextTokens"), "{e}");
    let (c, e) = Layout::detect("TIMESTAMP,ContextTokens", Some(TraceFormat::Azure)).unwrap_err();
    assert_eq!(c.as_deref(), Some("GeneratedTokens"));
    assert!(e.contains("needs"), "{e}");
}

#[test]
fn bad_values_name_their_column() {
    let (azure, _) = Layout::detect("TIMESTAMP,ContextTokens,GeneratedTokens", None).unwrap();
    let row = azure.row("2023-11-16 18:15:46.5,10,20", None).unwrap();
    assert_eq!((row.input_tokens, row.output_tokens), (10, 20));
    for (line, col) in [
        ("2023-11-16 18:15:46.5,-1,20", "ContextTokens"),
        ("2023-11-16 18:15:46.5,10,2e9", "GeneratedTokens"),
        ("2023-11-16 18:15:46.5,10,99999999999", "GeneratedTokens"),
        ("yesterday,10,20", "TIMESTAMP"),
    ] {
        let (c, _) = azure.row(line, None).unwrap_err();
        assert_eq!(c.as_deref(), Some(col), "{line}");
    }
    let (c, e) = azure.row("2023-11-16 18:15:46.5,10", None).unwrap_err();
    assert!(c.is_none() && e.contains("2 fields"), "{e}");
    let (c, e) = mooncake("{\"timestamp\":-5,\"input_length\":1,\"output_length\":1}").unwrap_err();
    assert_eq!(c.as_deref(), Some("timestamp"), "{e}");
    let (_, e) =
        mooncake("{\"timestamp\":0,\"input_length\":1,\"output_length\":1,\"x\":2}").unwrap_err();
    assert!(e.contains("unknown field `x`"), "{e}");
    let (_, e) = mooncake("{\"timestamp\":0,\"input_length\":1}").unwrap_err();
    assert!(e.contains("missing field `output_length`"), "{e}");
    let (_, e) = mooncake("{\"timestamp\":0,\"input_length\":-3,\"output_length\":1}").unwrap_err();
    assert!(e.contains("-3"), "{e}");
}

#[test]
fn burstgpt_log_types_filter() {
    let header = "Timestamp,Model,Request tokens,Response tokens,Total tokens,Log Type";
    let (b, _) = Layout::detect(header, None).unwrap();
    let conv = "5.5,ChatGPT,472,18,490,Conversation log";
    let api = "6,GPT-4,1000,20,1020,API log";
    let row = b.row(conv, None).unwrap();
    assert_eq!(
        (row.at_ns, row.input_tokens, row.output_tokens),
        (5_500_000_000, 472, 18)
    );
    assert!(b.row(conv, Some(LogType::Conversation)).unwrap().keep);
    assert!(!b.row(api, Some(LogType::Conversation)).unwrap().keep);
    assert!(b.row(api, Some(LogType::Api)).unwrap().keep);
    let (c, _) = b
        .row("6,GPT-4,1000,20,1020,Other", Some(LogType::Api))
        .unwrap_err();
    assert_eq!(c.as_deref(), Some("Log Type"));
}
