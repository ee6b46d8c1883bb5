//! Sessions and agent loops against a small local server that records every
//! request body and header it gets, so each test can check what the client
//! really sent: the history with the server's own answers, the session
//! header, tool results, and what happens when a turn fails.

use serde_json::{json, Value};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokenpace_client::backend::openai::OpenAiChat;
use tokenpace_client::clock::RunClock;
use tokenpace_client::conversations::{ConversationSource, Synthetic};
use tokenpace_client::load::{drive, Control, Driver, Load, LoadPlan};
use tokenpace_client::request::{http_client, Target, Timeouts};
use tokenpace_client::session::{AgentPlan, SessionPlan, Sessions};
use tokenpace_client::workload::Workload;
use tokenpace_core::dist::Dist;
use tokenpace_core::record::{ErrorKind, RequestRecord};
use tokenpace_core::shard::Shard;
use tokenpace_corpus::TextLang;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{mpsc, watch};

/// One request as the server saw it.
#[derive(Debug, Clone)]
struct Seen {
    head: String,
    body: Value,
}

/// How the server answers the n-th request (from 0).
type Answer = fn(usize, &Value) -> Vec<Value>;

/// Answers with text `answer-<n>`.
fn text(n: usize, _: &Value) -> Vec<Value> {
    vec![
        json!({"choices":[{"delta":{"content": format!("answer-{n}")}}]}),
        json!({"choices":[{"delta":{},"finish_reason":"stop"}]}),
    ]
}

/// Calls `search` while tools are offered and tool_choice is not `none`.
fn tool(n: usize, body: &Value) -> Vec<Value> {
    if body["tool_choice"] == "none" || body.get("tools").is_none() {
        return text(n, body);
    }
    vec![
        json!({"choices":[{"delta":{"tool_calls":[{"index":0,"id":format!("call_{n}"),"type":"function","function":{"name":"search","arguments":""}}]}}]}),
        json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":"{\"query\":"}}]}}]}),
        json!({"choices":[{"delta":{"tool_calls":[{"index":0,"function":{"arguments":format!("\"q{n}\"}}")}}]}}]}),
        json!({"choices":[{"delta":{},"finish_reason":"tool_calls"}]}),
    ]
}

/// A tool call whose arguments are cut JSON.
fn broken_tool(n: usize, _: &Value) -> Vec<Value> {
    vec![
        json!({"choices":[{"delta":{"tool_calls":[{"index":0,"id":format!("call_{n}"),"function":{"name":"search","arguments":"{\"query\":"}}]}}]}),
        json!({"choices":[{"delta":{},"finish_reason":"tool_calls"}]}),
    ]
}

async fn read_request(s: &mut tokio::net::TcpStream) -> Option<(String, Vec<u8>)> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 8192];
    loop {
        if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            let head = String::from_utf8_lossy(&buf[..end]).to_string();
            let len: usize = head
                .to_ascii_lowercase()
                .lines()
                .find_map(|l| l.strip_prefix("content-length:").map(str::to_string))
                .and_then(|v| v.trim().parse().ok())
                .unwrap_or(0);
            if buf.len() >= end + 4 + len {
                return Some((head, buf[end + 4..end + 4 + len].to_vec()));
            }
        }
        match s.read(&mut chunk).await {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
}

async fn server(answer: Answer) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    tokio::spawn(async move {
        while let Ok((mut s, _)) = listener.accept().await {
            let log = log.clone();
            tokio::spawn(async move {
                while let Some((head, body)) = read_request(&mut s).await {
                    let body: Value = serde_json::from_slice(&body).unwrap_or(Value::Null);
                    let n = {
                        let mut l = log.lock().unwrap();
                        l.push(Seen {
                            head,
                            body: body.clone(),
                        });
                        l.len() - 1
                    };
                    let mut events: String = answer(n, &body)
                        .into_iter()
                        .map(|e| format!("data: {e}\n\n"))
                        .collect();
                    events.push_str("data: [DONE]\n\n");
                    let reply = format!(
                        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: {}\r\n\r\n{events}",
                        events.len()
                    );
                    if s.write_all(reply.as_bytes()).await.is_err() {
                        return;
                    }
                }
            });
        }
    });
    (url, seen)
}

fn workload() -> Workload {
    Workload {
        lang: TextLang::Zh,
        prompt_tokens: 20,
        shared_prefix: 10,
        prefix_groups: 0,
        max_tokens: 8,
        ignore_eos: true,
        per_chunk_usage: false,
        seed: 5,
        salt: 0,
        tokenizer: None,
        cuts: None,
    }
}

async fn run(url: String, plan: SessionPlan, sessions: u64, users: u32) -> Vec<RequestRecord> {
    let w = workload();
    let source: Arc<dyn ConversationSource> = Arc::new(Synthetic(w.clone()));
    let driver = Arc::new(Driver {
        client: http_client(Duration::from_secs(5), 8).unwrap(),
        target: Target {
            base_url: url,
            model: "m".into(),
            api_key: None,
            headers: Vec::new(),
            request_id: None,
            h2c: false,
            tls: Default::default(),
        },
        backend: Arc::new(OpenAiChat),
        workload: Arc::new(w),
        timeouts: Timeouts {
            first_token: Duration::from_secs(10),
            total: Duration::from_secs(10),
            idle: Duration::from_secs(10),
            max_event_bytes: tokenpace_client::sse::DEFAULT_MAX_EVENT_BYTES,
            leaving: None,
            retry_throttled: None,
        },
        clock: RunClock::start(),
        trace: None,
        workers: None,
        run_end: Default::default(),
        sessions: Some(Arc::new(Sessions::new(plan, source, sessions, 1))),
    });
    let load = LoadPlan {
        load: Load::Closed { concurrency: users },
        requests: sessions,
        duration: None,
        seed: 1,
        ramp_up: Duration::ZERO,
        shard: Shard::default(),
    };
    let (_stop_tx, stop) = watch::channel(false);
    let (_abort_tx, abort) = watch::channel(false);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let task = tokio::spawn(drive(driver, load, Control { stop, abort }, tx));
    let mut out = Vec::new();
    while let Some(r) = rx.recv().await {
        out.push(r);
    }
    task.await.unwrap();
    out.sort_by_key(|r| r.id);
    out
}

fn chat(turns: u32, think: f64) -> SessionPlan {
    SessionPlan {
        turns: Dist::fixed(f64::from(turns)),
        think_time: Dist::fixed(think),
        header: Some("X-Session-ID".into()),
        tag: 9,
        agent: None,
    }
}

#[tokio::test]
async fn each_turn_sends_the_history_with_the_servers_own_answers() {
    let (url, seen) = server(text).await;
    let records = run(url, chat(3, 0.05), 2, 2).await;
    assert_eq!(records.len(), 6, "2 sessions × 3 turns");
    assert!(records.iter().all(|r| r.is_ok()));
    let seen = seen.lock().unwrap().clone();
    // Answers are numbered in the order the server wrote them.
    let answer_of = |body: &Value| -> Vec<String> {
        body["messages"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["role"] == "assistant")
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect()
    };
    let session_of = |s: &Seen| -> String {
        s.head
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("x-session-id:")
                    .map(|v| v.trim().to_string())
            })
            .expect("every turn carries the session header")
    };
    for (n, s) in seen.iter().enumerate() {
        let messages = s.body["messages"].as_array().unwrap();
        assert_eq!(messages[0]["role"], "system", "the shared prefix");
        let users = messages.iter().filter(|m| m["role"] == "user").count();
        let answers = answer_of(&s.body);
        assert_eq!(answers.len() + 1, users, "request {n}");
        // Every earlier answer in this history was really sent to this
        // session, by an earlier request.
        for a in &answers {
            let k: usize = a.strip_prefix("answer-").unwrap().parse().unwrap();
            assert!(k < n);
            assert_eq!(session_of(&seen[k]), session_of(s));
        }
    }
    let mut sessions: Vec<String> = seen.iter().map(session_of).collect();
    sessions.sort();
    sessions.dedup();
    assert_eq!(sessions.len(), 2);
    // Turns follow their predecessor by at least the think time.
    for r in &records[1..3] {
        let prev = &records[(r.id - 1) as usize];
        assert!(r.scheduled_ns >= prev.end_ns.unwrap() + 50_000_000);
        assert_eq!(r.turn.unwrap().turn, prev.turn.unwrap().turn + 1);
    }
}

#[tokio::test]
async fn an_agent_task_answers_each_tool_call_and_ends_in_text() {
    let (url, seen) = server(tool).await;
    let plan = SessionPlan {
        agent: Some(AgentPlan {
            steps: 3,
            tool_result_tokens: 30,
            tool_choice: "auto",
            lang: TextLang::En,
        }),
        ..chat(1, 0.0)
    };
    let records = run(url, plan, 3, 3).await;
    assert_eq!(records.len(), 9, "3 tasks × 3 steps");
    for r in &records {
        assert!(r.is_ok(), "{:?}", r.error);
        let step = r.turn.unwrap().turn;
        if step < 2 {
            assert_eq!(r.tool_calls, 1);
            // "search" + {"query": + "qN"}
            assert!(r.tool_chars() > 10);
            assert!(r.first_tool_ns().is_some());
        } else {
            assert_eq!(r.tool_calls, 0);
            assert!(r.output_chars > 0);
        }
    }
    let seen = seen.lock().unwrap().clone();
    for s in &seen {
        assert_eq!(s.body["tools"][0]["function"]["name"], "search");
        let messages = s.body["messages"].as_array().unwrap();
        let results: Vec<&Value> = messages.iter().filter(|m| m["role"] == "tool").collect();
        let calls: Vec<&Value> = messages
            .iter()
            .filter(|m| m.get("tool_calls").is_some())
            .collect();
        assert_eq!(results.len(), calls.len());
        for (c, r) in calls.iter().zip(&results) {
            assert_eq!(r["tool_call_id"], c["tool_calls"][0]["id"]);
            assert!(!r["content"].as_str().unwrap().is_empty());
        }
        let step = results.len();
        let want = if step == 2 { "none" } else { "auto" };
        assert_eq!(s.body["tool_choice"], want, "step {step}");
    }
}

#[tokio::test]
async fn a_broken_tool_call_fails_its_step_and_ends_the_task() {
    let (url, seen) = server(broken_tool).await;
    let plan = SessionPlan {
        agent: Some(AgentPlan {
            steps: 3,
            tool_result_tokens: 10,
            tool_choice: "required",
            lang: TextLang::En,
        }),
        ..chat(1, 0.0)
    };
    let records = run(url, plan, 2, 1).await;
    assert_eq!(
        records.len(),
        2,
        "one failed step per task, nothing after it"
    );
    for r in &records {
        assert_eq!(r.error.as_ref().unwrap().kind, ErrorKind::BadToolCall);
        assert_eq!(r.turn.unwrap().turn, 0);
    }
    assert_eq!(
        seen.lock().unwrap().len(),
        2,
        "every request sent has its record"
    );
}
