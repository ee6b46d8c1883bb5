//! The HTTP surface: endpoints, request options, and bad input.

mod common;

use common::*;
use serde_json::Value;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn health_models_and_metrics() {
    let t = TestSim::start(|_| {}).await;
    let r = request(&t.sim, "GET", "/health", &[], b"").await;
    assert_eq!(r.status, 200);
    let r = request(&t.sim, "GET", "/v1/models", &[], b"").await;
    assert_eq!(r.json()["data"][0]["id"], "tokenpace-sim");
    post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","stream":true,"max_tokens":3"#),
    )
    .await;
    let r = request(&t.sim, "GET", "/metrics", &[], b"").await;
    let m = r.text();
    assert!(r.header("content-type").unwrap().starts_with("text/plain"));
    for needle in [
        // The model's TTFT is 5 ms, so nothing lands in the 1 ms bucket.
        "tokenpace_sim_time_to_first_token_seconds_bucket{le=\"0.001\"} 0",
        "tokenpace_sim_time_to_first_token_seconds_bucket{le=\"+Inf\"} 1",
        "tokenpace_sim_time_to_first_token_seconds_count 1",
        "tokenpace_sim_generation_tokens_total 3",
        "tokenpace_sim_requests_total{status=\"200\"}",
        "tokenpace_sim_num_requests_running 0",
    ] {
        assert!(m.contains(needle), "{needle} missing in\n{m}");
    }
    t.finish().await;
}

#[tokio::test]
async fn streaming_chat_is_valid_sse_with_usage_and_done() {
    let t = TestSim::start(|_| {}).await;
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","stream":true,"max_tokens":7,"stream_options":{"include_usage":true}"#),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(r.end, End::Complete);
    assert!(r
        .header("content-type")
        .unwrap()
        .starts_with("text/event-stream"));
    let events = r.events();
    assert_eq!(events.last().unwrap(), "[DONE]");
    let json: Vec<Value> = events[..events.len() - 1]
        .iter()
        .map(|e| serde_json::from_str(e).unwrap())
        .collect();
    assert_eq!(json.len(), 7 + 2, "7 content, finish, usage");
    assert_eq!(json[0]["choices"][0]["delta"]["role"], "assistant");
    assert_eq!(json[0]["object"], "chat.completion.chunk");
    assert_eq!(json[7]["choices"][0]["finish_reason"], "length");
    assert_eq!(json[8]["usage"]["completion_tokens"], 7);
    assert_eq!(json[8]["usage"]["prompt_tokens"], 3, "ceil(11 chars / 4)");
    assert!(json.iter().all(|j| j["id"] == json[0]["id"]));
    t.finish().await;
}

#[tokio::test]
async fn completions_stream_and_whole_bodies() {
    let t = TestSim::start(|c| c.timing.output_tokens = 4).await;
    let r = post(
        &t.sim,
        "/v1/completions",
        r#"{"model":"m","prompt":"你好","stream":true}"#,
    )
    .await;
    let events = r.events();
    let first: Value = serde_json::from_str(&events[0]).unwrap();
    assert_eq!(first["object"], "text_completion");
    assert_eq!(
        events.len(),
        4 + 2,
        "natural end after 4 tokens, finish, [DONE]"
    );
    let finish: Value = serde_json::from_str(&events[4]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");

    let r = post(
        &t.sim,
        "/v1/completions",
        r#"{"prompt":"x","max_tokens":3}"#,
    )
    .await;
    let body = r.json();
    assert_eq!(body["usage"]["completion_tokens"], 3);
    assert_eq!(body["choices"][0]["finish_reason"], "length");
    assert!(!body["choices"][0]["text"].as_str().unwrap().is_empty());
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","max_completion_tokens":2"#),
    )
    .await;
    assert_eq!(r.json()["object"], "chat.completion");
    assert_eq!(r.json()["usage"]["completion_tokens"], 2);
    t.finish().await;
}

#[tokio::test]
async fn ignore_eos_and_stop_sequences() {
    let t = TestSim::start(|c| {
        c.timing.output_tokens = 5;
        c.text.lang = tokenpace_corpus::TextLang::Zh;
        c.timing.decode = 5000.0;
    })
    .await;
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","stream":true,"max_tokens":40,"ignore_eos":true,"seed":1"#),
    )
    .await;
    assert_eq!(r.events().len(), 40 + 2);
    let full = r.content();
    assert!(full.contains('，'), "{full}");
    let r = post(
        &t.sim,
        "/v1/chat/completions",
        &chat(r#","stream":true,"max_tokens":40,"ignore_eos":true,"seed":1,"stop":["，"]"#),
    )
    .await;
    let cut = r.content();
    assert_eq!(cut, full[..full.find('，').unwrap()]);
    let finish: Value = serde_json::from_str(&r.events()[r.events().len() - 2]).unwrap();
    assert_eq!(finish["choices"][0]["finish_reason"], "stop");
    t.finish().await;
}

#[tokio::test]
async fn keep_alive_serves_several_requests_on_one_connection() {
    let t = TestSim::start(|_| {}).await;
    let mut s = TcpStream::connect(t.sim.addr()).await.unwrap();
    for _ in 0..3 {
        let r = send(
            &mut s,
            "POST",
            "/v1/chat/completions",
            &[],
            chat(r#","stream":true,"max_tokens":2"#).as_bytes(),
        )
        .await;
        assert_eq!(r.events().last().unwrap(), "[DONE]");
        let r = send(&mut s, "GET", "/health", &[], b"").await;
        assert_eq!(r.status, 200);
    }
    t.finish().await;
}

#[tokio::test]
async fn api_key_is_checked() {
    let t = TestSim::start(|c| c.api_key = Some("sekret".into())).await;
    let body = chat("");
    let r = post(&t.sim, "/v1/chat/completions", &body).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.json()["error"]["code"], "invalid_api_key");
    let r = request(
        &t.sim,
        "POST",
        "/v1/chat/completions",
        &[("Authorization", "Bearer wrong")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 401);
    let r = request(&t.sim, "GET", "/v1/models", &[], b"").await;
    assert_eq!(r.status, 401);
    let r = request(
        &t.sim,
        "POST",
        "/v1/chat/completions",
        &[("Authorization", "Bearer sekret")],
        body.as_bytes(),
    )
    .await;
    assert_eq!(r.status, 200);
    assert_eq!(
        request(&t.sim, "GET", "/health", &[], b"").await.status,
        200
    );
    let lines = t.finish().await;
    assert_eq!(lines.iter().filter(|l| l["status"] == 401).count(), 2);
}

fn assert_error(r: &TimedResponse, status: u16, code: &str) {
    assert_eq!(r.status, status, "{}", String::from_utf8_lossy(&r.body));
    let e = &r.json()["error"];
    assert_eq!(e["code"], code);
    assert!(e["message"].as_str().is_some_and(|m| !m.is_empty()));
    assert!(e["type"].is_string());
}

#[tokio::test]
async fn bad_requests_get_openai_errors_and_the_server_survives() {
    let t = TestSim::start(|c| c.limits.max_body_bytes = 10_000).await;
    let s = &t.sim;
    assert_error(
        &post(s, "/v1/chat/completions", "{nope").await,
        400,
        "invalid_json",
    );
    assert_error(
        &post(s, "/v1/chat/completions", r#"{"model":"m"}"#).await,
        400,
        "missing_required_parameter",
    );
    assert_error(
        &post(s, "/v1/completions", r#"{"model":"m"}"#).await,
        400,
        "missing_required_parameter",
    );
    assert_error(
        &post(
            s,
            "/v1/chat/completions",
            &chat(r#","max_tokens":99999999999"#),
        )
        .await,
        400,
        "context_length_exceeded",
    );
    assert_error(
        &post(s, "/v1/chat/completions", &chat(r#","max_tokens":0"#)).await,
        400,
        "invalid_value",
    );
    assert_error(
        &post(s, "/v1/chat/completions", &chat(r#","max_tokens":"many""#)).await,
        400,
        "invalid_value",
    );
    assert_error(
        &post(s, "/v1/chat/completions", &chat(r#","stop":[1,2]"#)).await,
        400,
        "invalid_value",
    );
    assert_error(
        &post(s, "/v1/chat/completions", &chat(r#","n":3"#)).await,
        400,
        "invalid_value",
    );
    assert_error(
        &request(s, "GET", "/v1/nothing", &[], b"").await,
        404,
        "not_found",
    );
    assert_error(
        &request(s, "GET", "/v1/chat/completions", &[], b"").await,
        405,
        "method_not_allowed",
    );
    assert_error(
        &request(
            s,
            "POST",
            "/v1/chat/completions",
            &[("x-tokenpace-fault", "meteor")],
            chat("").as_bytes(),
        )
        .await,
        400,
        "invalid_fault",
    );
    let big = format!(r#"{{"prompt":"{}"}}"#, "a".repeat(20_000));
    assert_error(
        &post(s, "/v1/completions", &big).await,
        413,
        "request_too_large",
    );

    // A chunked request body, and bytes that are not HTTP at all.
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(
        b"POST /v1/completions HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n0\r\n\r\n",
    )
    .await
    .unwrap();
    let r = read_response(&mut c, std::time::Instant::now()).await;
    assert_error(&r, 411, "length_required");
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(b"\x16\x03\x01 garbage garbage\r\n\r\n")
        .await
        .unwrap();
    let r = read_response(&mut c, std::time::Instant::now()).await;
    assert_error(&r, 400, "bad_http");
    // Headers beyond the limit.
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    let huge = format!(
        "GET /health HTTP/1.1\r\nX-Big: {}\r\n\r\n",
        "b".repeat(40_000)
    );
    c.write_all(huge.as_bytes()).await.unwrap();
    let r = read_response(&mut c, std::time::Instant::now()).await;
    assert_error(&r, 431, "headers_too_large");
    // A client that hangs up mid-request.
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(b"POST /v1/completions HTTP/1.1\r\nContent-Length: 100\r\n\r\n{\"pro")
        .await
        .unwrap();
    drop(c);
    let mut c = TcpStream::connect(s.addr()).await.unwrap();
    c.write_all(b"GET /health HTTP/1.1\r\n").await.unwrap();
    c.shutdown().await.unwrap();
    let mut rest = Vec::new();
    let _ = c.read_to_end(&mut rest).await;

    assert_eq!(request(s, "GET", "/health", &[], b"").await.status, 200);
    let r = post(
        s,
        "/v1/chat/completions",
        &chat(r#","stream":true,"max_tokens":2"#),
    )
    .await;
    assert_eq!(r.events().last().unwrap(), "[DONE]");
    let lines = t.finish().await;
    let errors: Vec<&Value> = lines.iter().filter(|l| l["outcome"] == "error").collect();
    assert_eq!(
        errors.len(),
        9,
        "bad completion requests are in the truth file"
    );
}

#[tokio::test]
async fn expect_100_continue_gets_an_interim_response() {
    let t = TestSim::start(|_| {}).await;
    let body = chat(r#","max_tokens":2"#);
    let mut c = TcpStream::connect(t.sim.addr()).await.unwrap();
    let head = format!(
        "POST /v1/chat/completions HTTP/1.1\r\nContent-Length: {}\r\nExpect: 100-continue\r\n\r\n",
        body.len()
    );
    c.write_all(head.as_bytes()).await.unwrap();
    let mut interim = [0u8; 25];
    c.read_exact(&mut interim).await.unwrap();
    assert_eq!(&interim, b"HTTP/1.1 100 Continue\r\n\r\n");
    c.write_all(body.as_bytes()).await.unwrap();
    let r = read_response(&mut c, std::time::Instant::now()).await;
    assert_eq!(r.status, 200);
    assert_eq!(r.json()["usage"]["completion_tokens"], 2);
    t.finish().await;
}

#[tokio::test]
async fn http_1_0_clients_get_a_body_that_ends_at_close() {
    let t = TestSim::start(|_| {}).await;
    let body = chat(r#","stream":true,"max_tokens":3"#);
    let mut c = TcpStream::connect(t.sim.addr()).await.unwrap();
    let req = format!(
        "POST /v1/chat/completions HTTP/1.0\r\nContent-Length: {}\r\n\r\n{body}",
        body.len()
    );
    c.write_all(req.as_bytes()).await.unwrap();
    let mut raw = Vec::new();
    c.read_to_end(&mut raw).await.unwrap();
    let text = String::from_utf8(raw).unwrap();
    let (head, sse) = text.split_once("\r\n\r\n").unwrap();
    assert!(
        head.contains("Connection: close") && !head.contains("chunked"),
        "{head}"
    );
    let events = sse_events(sse);
    assert_eq!(events.len(), 3 + 2);
    assert_eq!(events.last().unwrap(), "[DONE]");
    // Nothing but events: no chunked framing inside the body.
    let blocks: Vec<&str> = sse.split("\n\n").filter(|b| !b.is_empty()).collect();
    assert_eq!(blocks.len(), events.len(), "{sse}");
    assert!(blocks.iter().all(|b| b.starts_with("data: ")), "{sse}");
    t.finish().await;
}

#[tokio::test]
async fn mangled_bodies_never_crash_the_server() {
    let t = TestSim::start(|c| {
        c.timing.ttft_ms = 0.0;
        c.timing.decode = 100_000.0;
        c.timing.output_tokens = 3;
        c.faults.allow_header = false;
    })
    .await;
    let valid = chat(
        r#","stream":true,"max_tokens":3,"stop":["x"],"stream_options":{"include_usage":true}"#,
    );
    let mut rng = tokenpace_corpus::SplitMix64::new(99);
    let mut statuses = std::collections::BTreeMap::new();
    for _ in 0..300 {
        let mut body = valid.clone().into_bytes();
        for _ in 0..rng.range(1, 4) {
            let i = rng.range(0, body.len() as u64 - 1) as usize;
            match rng.range(0, 3) {
                0 => body[i] = rng.range(0, 255) as u8,
                1 => body.truncate(i.max(1)),
                2 => {
                    body.remove(i);
                }
                _ => body.insert(i, b"{}[]\",:0-e\\"[rng.range(0, 10) as usize]),
            }
            if body.is_empty() {
                body.push(b'{');
            }
        }
        let path = if rng.range(0, 1) == 0 {
            "/v1/chat/completions"
        } else {
            "/v1/completions"
        };
        let r = tokio::time::timeout(
            std::time::Duration::from_secs(5),
            request(&t.sim, "POST", path, &[], &body),
        )
        .await
        .expect("answered in time");
        *statuses.entry(r.status).or_insert(0) += 1;
        match r.status {
            200 => {}
            400 => assert!(r.json()["error"]["message"].is_string()),
            other => panic!("status {other} for {:?}", String::from_utf8_lossy(&body)),
        }
    }
    assert!(
        statuses.get(&400).copied().unwrap_or(0) > 100,
        "{statuses:?}"
    );
    assert_eq!(
        request(&t.sim, "GET", "/health", &[], b"").await.status,
        200
    );
    t.finish().await;
}
