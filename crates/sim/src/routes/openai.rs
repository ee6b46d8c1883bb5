//! The OpenAI endpoints: checks, fault choice, then the response.

use std::time::{Instant, SystemTime, UNIX_EPOCH};

use tokenpace_corpus::SplitMix64;
use tokenpace_wire::request::strict;
use tokenpace_wire::{models, ApiError, Conn, Endpoint, Events, HttpRequest, Next};

use crate::faults::{FaultKind, FaultSet};
use crate::generate::{generate, Generation};
use crate::request::{self, GenRequest};
use crate::server::Sim;
use crate::truth::RequestTruth;

use super::respond::Reply;
use super::tools::ToolPlan;

/// The `/v1/models` body, as the dialect's server writes it.
pub(super) fn models(sim: &Sim) -> Vec<u8> {
    let created = sim.start_unix_ns / 1_000_000_000;
    models::list(
        sim.config.dialect.shape().models,
        &sim.config.model,
        created,
        sim.config.limits.max_tokens,
    )
}

/// Checks the key when one is configured: a bearer token, or Anthropic's
/// `x-api-key` on its Messages route.
pub(super) fn authorize(sim: &Sim, req: &HttpRequest, endpoint: Endpoint) -> Result<(), ApiError> {
    let Some(key) = &sim.config.api_key else {
        return Ok(());
    };
    let given = if endpoint == Endpoint::Messages {
        req.header("x-api-key").map(str::trim)
    } else {
        req.header("authorization").and_then(|v| {
            let (scheme, token) = v.split_once(' ')?;
            scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
        })
    };
    if given == Some(key.as_str()) {
        return Ok(());
    }
    let message = match given {
        None if endpoint == Endpoint::Messages => "missing API key: send 'x-api-key: <key>'",
        None => "missing API key: send 'Authorization: Bearer <key>'",
        Some(_) => "incorrect API key provided",
    };
    Err(ApiError::new(
        401,
        "invalid_request_error",
        "invalid_api_key",
        message,
    ))
}

/// `POST /v1/chat/completions` and `POST /v1/completions`.
pub(super) async fn completion(
    sim: &Sim,
    conn: &mut Conn,
    req: &HttpRequest,
    endpoint: Endpoint,
) -> Next {
    let received = Instant::now();
    let seq = sim.next_seq();
    let id = match endpoint {
        Endpoint::Chat => format!("chatcmpl-tp{seq}"),
        Endpoint::Completions => format!("cmpl-tp{seq}"),
        Endpoint::Messages => format!("msg_tp{seq}"),
        Endpoint::Responses => format!("resp_tp{seq}"),
        _ => format!("native-tp{seq}"),
    };
    let mut truth = RequestTruth {
        kind: "request".into(),
        id: id.clone(),
        server_start_unix_ns: sim.start_unix_ns,
        route: endpoint.route().into(),
        received_ns: sim.ns(received),
        arrived_ns: req.arrived.map(|a| sim.ns(a.min(received))),
        prompt_token_method: tokenpace_corpus::ESTIMATE_METHOD.into(),
        request_id: req.header("x-request-id").map(str::to_owned),
        ..RequestTruth::default()
    };
    let mut rng = SplitMix64::new(sim.config.seed ^ seq.wrapping_mul(0x9E37_79B9_7F4A_7C15));
    let (parsed, faults) = match check(sim, req, endpoint, seq, &mut rng) {
        Ok(ok) => ok,
        Err(e) => return reject(sim, conn, req, truth, &e, None).await,
    };
    truth.stream = parsed.api.stream;
    truth.prompt_tokens = parsed.prompt_tokens;
    truth.min_tokens = Some(parsed.api.min_tokens).filter(|&n| n > 0);
    let session = sim.config.session_header.to_ascii_lowercase();
    truth.session = req.header(&session).map(str::to_owned);
    if let Some(kind) = faults.http_error() {
        let e = injected_error(kind);
        return reject(sim, conn, req, truth, &e, Some(kind)).await;
    }
    let created = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    let model = parsed
        .api
        .model
        .clone()
        .unwrap_or_else(|| sim.config.model.clone());
    let events = Events::new(endpoint, &id, &model, created, faults.has(FaultKind::Crlf))
        .with_dialect(sim.config.dialect);
    let (generation, tool) = answer(sim, &parsed, &faults, seq);
    let blocks = sim.prefix_cache.blocks(&parsed.api.prompt);
    let speed = sim.config.model_speeds.get(&model).copied().unwrap_or(1.0);
    let reply = Reply::new(sim, conn, truth, faults, rng, events, received, req)
        .with_speed(speed)
        .with_blocks(blocks)
        .with_tool(tool);
    if parsed.api.stream {
        reply.stream(&parsed, &generation).await
    } else {
        reply.whole(&parsed, &generation).await
    }
}

/// The key, the body and the faults asked for.
fn check(
    sim: &Sim,
    req: &HttpRequest,
    endpoint: Endpoint,
    seq: u64,
    rng: &mut SplitMix64,
) -> Result<(GenRequest, FaultSet), ApiError> {
    authorize(sim, req, endpoint)?;
    if sim.config.dialect.shape().strict_arguments {
        strict::check(endpoint, &req.body)?;
    }
    let parsed = request::parse(endpoint, &req.body, sim.config.limits.max_tokens)?;
    let header = req
        .header("x-tokenpace-fault")
        .filter(|_| sim.config.faults.allow_header);
    let faults =
        FaultSet::choose(&sim.config.faults.inject, seq, rng, header).map_err(|m| ApiError {
            code: "invalid_fault",
            ..ApiError::invalid(format!("x-tokenpace-fault: {m}"), None)
        })?;
    Ok((parsed, faults))
}

/// What the model says: its text, and whether that is a tool call's
/// arguments.
fn answer(
    sim: &Sim,
    parsed: &GenRequest,
    faults: &FaultSet,
    seq: u64,
) -> (Generation, Option<ToolPlan>) {
    let text_seed = parsed.api.seed.unwrap_or(sim.config.seed.wrapping_add(seq));
    let generation = generate(
        &parsed.api,
        sim.config.timing.output_tokens,
        sim.config.text.lang,
        text_seed,
        sim.config.text.utf8_hold_back,
    );
    let tools = &sim.config.tools;
    let tool = super::tools::plan(
        &parsed.api,
        tools.call_share,
        text_seed,
        faults.has(FaultKind::BadToolArgs),
        tools.argument_tokens,
    );
    (generation, tool)
}

fn injected_error(kind: FaultKind) -> ApiError {
    match kind {
        FaultKind::Http429 => ApiError::new(
            429,
            "rate_limit_error",
            "rate_limit_exceeded",
            "injected: too many requests, retry later",
        ),
        FaultKind::Http503 => ApiError::new(
            503,
            "server_error",
            "service_unavailable",
            "injected: the server is overloaded",
        ),
        _ => ApiError::new(
            500,
            "server_error",
            "internal_error",
            "injected: internal server error",
        ),
    }
}

/// Answers with an error and records the request.
async fn reject(
    sim: &Sim,
    conn: &mut Conn,
    req: &HttpRequest,
    mut truth: RequestTruth,
    e: &ApiError,
    fault: Option<FaultKind>,
) -> Next {
    let mut retry = String::new();
    if let Some(kind) = fault {
        let retry_after_s = sim.config.faults.retry_after_s;
        let anthropic = truth.route == Endpoint::Messages.route();
        retry = crate::faults::throttle_headers(kind, retry_after_s, anthropic);
        truth.faults.push(crate::faults::FaultRecord {
            kind,
            at_ns: sim.ns(Instant::now()),
            detail: (!retry.is_empty()).then(|| format!("retry-after {retry_after_s} s")),
        });
        sim.metrics.fault(kind);
    }
    sim.metrics.request(e.status);
    let sent = conn
        .respond(
            e.status,
            "application/json",
            &e.body(),
            req.keep_alive,
            &retry,
        )
        .await;
    let now = Instant::now();
    truth.status = e.status;
    truth.outcome = "error".into();
    truth.error = Some(e.message.clone());
    truth.end_ns = sim.ns(now);
    if let Some(log) = &sim.truth {
        log.record(truth);
    }
    match sent {
        Ok(_) => Next::KeepAlive,
        Err(_) => Next::Close,
    }
}
