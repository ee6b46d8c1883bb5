//! Answering a generation request on any of the four APIs: parse and
//! check it, submit it to the generator, then write the answer as the
//! generator's events arrive, streamed or whole.

use crate::answer::{Answer, ToolOutcome};
use crate::generate::{GenEvent, Generator, SubmitError};
use crate::metrics::ServeMetrics;
use crate::request::parse;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};
use tokenpace_wire::http::{chunk, head, LAST_CHUNK};
use tokenpace_wire::{ApiError, Conn, Endpoint, Events, Framing, HttpRequest};
use tokio::sync::mpsc::UnboundedReceiver;

const JSON: &str = "application/json";

/// What every request's handler shares.
pub(crate) struct State {
    /// The key every route but `/health` needs, if any.
    pub(crate) api_key: Option<String>,
    pub(crate) generator: Arc<dyn Generator>,
    pub(crate) metrics: ServeMetrics,
    /// Numbers the responses.
    pub(crate) seq: AtomicU64,
    /// Seeds sampling when a request gives no seed.
    pub(crate) seed_base: u64,
}

/// The response id, in each API's style.
fn response_id(endpoint: Endpoint, seq: u64) -> String {
    match endpoint {
        Endpoint::Chat => format!("chatcmpl-{seq}"),
        Endpoint::Messages => format!("msg_{seq:08}"),
        Endpoint::Responses => format!("resp_{seq:08}"),
        _ => format!("cmpl-{seq}"),
    }
}

/// Answers one generation request; false when the connection must close.
pub async fn generate(
    state: &State,
    conn: &mut Conn,
    req: &HttpRequest,
    endpoint: Endpoint,
) -> bool {
    let seq = state.seq.fetch_add(1, Ordering::Relaxed) + 1;
    let seed = (state.seed_base ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15)) as u32;
    let submitted = parse(endpoint, &req.body, seed).and_then(|api| {
        state
            .generator
            .submit(api.generation.clone())
            .map(|rx| (api, rx))
            .map_err(submit_error)
    });
    let (parsed, rx) = match submitted {
        Ok(p) => p,
        Err(e) => {
            state.metrics.request(e.status);
            return conn
                .respond(e.status, JSON, &e.body(), req.keep_alive, "")
                .await
                .is_ok();
        }
    };
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let model = parsed
        .api
        .model
        .clone()
        .unwrap_or_else(|| state.generator.model_name().to_owned());
    let events = Events::new(
        endpoint,
        &response_id(endpoint, seq),
        &model,
        created,
        false,
    );
    let answer = Answer::new(events, &parsed, seq);
    state.metrics.request(200);
    if parsed.api.stream {
        stream(state, conn, req, answer, rx).await
    } else {
        whole(state, conn, req, answer, rx).await
    }
}

/// Counts how a request that offered tools was answered, and says once
/// on stderr when a demanded call was not made.
fn tool_outcome(state: &State, outcome: ToolOutcome) {
    if state.metrics.tool_outcome(outcome) {
        eprintln!(
            "tokenpace serve: a request demanded a tool call (tool_choice required or a named \
             function) and the model answered in text; the answer says so with finish reason \
             stop (not tool_calls). Such answers are counted in /metrics as \
             tokenpace_tool_answers_total{{outcome=\"missing\"}}."
        );
    }
}

/// The answer to a request the generator refused.
pub(crate) fn submit_error(e: SubmitError) -> ApiError {
    match e {
        SubmitError::Invalid(m) => ApiError::invalid(m, Some("prompt")),
        SubmitError::Unavailable(m) => ApiError::new(503, "server_error", "unavailable", m),
        SubmitError::Unsupported(m) => ApiError::new(501, "server_error", "not_implemented", m),
    }
}

fn failed(message: String) -> ApiError {
    ApiError::new(500, "server_error", "generation_failed", message)
}

async fn whole(
    state: &State,
    conn: &mut Conn,
    req: &HttpRequest,
    mut answer: Answer,
    mut rx: UnboundedReceiver<GenEvent>,
) -> bool {
    let mut text = String::new();
    while let Some(ev) = rx.recv().await {
        match ev {
            GenEvent::Started { .. } => {}
            GenEvent::Token(t) => text.push_str(&t),
            GenEvent::Done(done) => {
                state.metrics.finished(&done);
                let (mut body, outcome) = answer.body(&text, &done);
                tool_outcome(state, outcome);
                body.push(b'\n');
                return conn
                    .respond(200, JSON, &body, req.keep_alive, "")
                    .await
                    .is_ok();
            }
            GenEvent::Failed(m) => {
                let e = failed(m);
                return conn.respond(500, JSON, &e.body(), false, "").await.is_ok();
            }
        }
    }
    false
}

async fn stream(
    state: &State,
    conn: &mut Conn,
    req: &HttpRequest,
    mut answer: Answer,
    mut rx: UnboundedReceiver<GenEvent>,
) -> bool {
    let framing = if req.http10 {
        Framing::UntilClose
    } else {
        Framing::Chunked
    };
    let chunked = framing == Framing::Chunked;
    let frame = |data: Vec<u8>, last: bool| {
        let mut out = if chunked { chunk(&data) } else { data };
        if chunked && last {
            out.extend_from_slice(LAST_CHUNK);
        }
        out
    };
    let head = head(
        200,
        "text/event-stream",
        framing,
        req.keep_alive,
        "Cache-Control: no-cache\r\n",
    );
    if conn.write(&head).await.is_err() {
        return false;
    }
    while let Some(ev) = rx.recv().await {
        let bytes = match ev {
            GenEvent::Started { prompt_tokens } => answer.start(prompt_tokens),
            GenEvent::Token(t) => answer.token(&t),
            GenEvent::Done(done) => {
                state.metrics.finished(&done);
                let (end, outcome) = answer.end(&done);
                tool_outcome(state, outcome);
                return conn.write(&frame(end, true)).await.is_ok() && chunked;
            }
            GenEvent::Failed(m) => {
                let _ = conn.write(&frame(answer.error(&failed(m)), true)).await;
                return false;
            }
        };
        // A write error means the client left: dropping `rx` cancels.
        if !bytes.is_empty() && conn.write(&frame(bytes, false)).await.is_err() {
            return false;
        }
    }
    false
}
