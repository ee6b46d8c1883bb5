//! Function calling through the request parser, as a server sees it.

use tokenpace_wire::request::{parse, Endpoint, RequestPrompt};
use tokenpace_wire::ToolChoice;

#[test]
fn a_chat_with_tools_parses_and_other_routes_ignore_them() {
    let body = br#"{"messages":[
        {"role":"user","content":"find x"},
        {"role":"assistant","content":null,"tool_calls":[{"id":"call_1","type":"function","function":{"name":"search","arguments":"{}"}}]},
        {"role":"tool","tool_call_id":"call_1","content":"found"}],
        "tools":[{"type":"function","function":{"name":"search"}}],"tool_choice":"required"}"#;
    let r = parse(Endpoint::Chat, body, 10).unwrap();
    assert_eq!(r.tool_choice, ToolChoice::Required);
    let RequestPrompt::Chat(m) = &r.prompt else {
        panic!("{:?}", r.prompt)
    };
    assert_eq!(m[1].tool_calls[0].name, "search");
    assert!(m[1].parts.is_empty());
    assert_eq!(m[2].tool_call_id.as_deref(), Some("call_1"));
    let e = parse(
        Endpoint::Chat,
        br#"{"messages":[{"role":"user","content":"x"}],"tools":{}}"#,
        10,
    )
    .unwrap_err();
    assert_eq!(e.param, Some("tools"));
    let e = parse(
        Endpoint::Chat,
        br#"{"messages":[{"role":"user","content":"x","tool_calls":[]}],"tool_choice":"auto"}"#,
        10,
    )
    .unwrap();
    assert_eq!(e.tool_choice, ToolChoice::Auto);
    let e = parse(
        Endpoint::Chat,
        br#"{"messages":[{"role":"user","tool_calls":[{"id":"c","function":{"name":"s","arguments":""}}]}]}"#,
        10,
    )
    .unwrap_err();
    assert!(e.message.contains("assistant"), "{}", e.message);
    // Ollama's own shapes (arguments as an object, no tool_call_id).
    let r = parse(
        Endpoint::OllamaChat,
        br#"{"messages":[{"role":"assistant","tool_calls":[{"function":{"name":"s","arguments":{}}}]},{"role":"tool","content":"r"}]}"#,
        10,
    )
    .unwrap();
    assert_eq!(r.tool_choice, ToolChoice::None);
}
