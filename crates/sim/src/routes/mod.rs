//! Routing requests to handlers.

mod openai;
mod respond;
mod tokenize;
mod tools;

use tokenpace_wire::{models, prom, ApiError, Conn, Endpoint, Handler, HttpRequest, Next};

use crate::server::Sim;

impl Handler for Sim {
    fn count(&self, status: u16) {
        self.metrics.request(status);
    }

    /// Answers one request.
    async fn handle(&self, conn: &mut Conn, req: &HttpRequest) -> Next {
        let sim = self;
        match (req.method.as_str(), req.path.as_str()) {
            ("POST", "/v1/chat/completions") => {
                openai::completion(sim, conn, req, Endpoint::Chat).await
            }
            ("POST", "/v1/completions") => {
                openai::completion(sim, conn, req, Endpoint::Completions).await
            }
            ("POST", "/completion") => openai::completion(sim, conn, req, Endpoint::LlamaCpp).await,
            ("POST", "/api/generate") => {
                openai::completion(sim, conn, req, Endpoint::OllamaGenerate).await
            }
            ("POST", "/api/chat") => openai::completion(sim, conn, req, Endpoint::OllamaChat).await,
            ("POST", "/generate_stream") => openai::completion(sim, conn, req, Endpoint::Tgi).await,
            ("POST", "/v1/messages") => {
                openai::completion(sim, conn, req, Endpoint::Messages).await
            }
            ("POST", "/v1/responses") => {
                openai::completion(sim, conn, req, Endpoint::Responses).await
            }
            ("GET", "/v1/models") => match openai::authorize(sim, req, Endpoint::Chat)
                .or_else(|_| openai::authorize(sim, req, Endpoint::Messages))
            {
                Ok(()) => json(sim, conn, req, 200, &openai::models(sim)).await,
                Err(e) => error(sim, conn, req, &e).await,
            },
            ("POST", "/tokenize") if sim.config.dialect.shape().tokenize => {
                tokenize::tokenize(sim, conn, req).await
            }
            ("GET", "/version") if sim.config.dialect.shape().version.is_some() => {
                let version = sim.config.dialect.shape().version.unwrap_or_default();
                json(sim, conn, req, 200, &models::version(version)).await
            }
            ("GET", "/health") => json(sim, conn, req, 200, br#"{"status":"ok"}"#).await,
            ("GET", "/metrics") => {
                let text = sim
                    .metrics
                    .render(sim.batcher.active(), sim.batcher.waiting());
                sim.metrics.request(200);
                send(conn, req, 200, prom::CONTENT_TYPE, text.as_bytes()).await
            }
            (method, path) => {
                let e = ApiError::no_route(method, path);
                error(sim, conn, req, &e).await
            }
        }
    }
}

/// Sends a JSON body.
pub(crate) async fn json(
    sim: &Sim,
    conn: &mut Conn,
    req: &HttpRequest,
    status: u16,
    body: &[u8],
) -> Next {
    sim.metrics.request(status);
    send(conn, req, status, "application/json", body).await
}

/// Sends an OpenAI-style error response.
pub(crate) async fn error(sim: &Sim, conn: &mut Conn, req: &HttpRequest, e: &ApiError) -> Next {
    json(sim, conn, req, e.status, &e.body()).await
}

async fn send(
    conn: &mut Conn,
    req: &HttpRequest,
    status: u16,
    content_type: &str,
    body: &[u8],
) -> Next {
    match conn
        .respond(status, content_type, body, req.keep_alive, "")
        .await
    {
        Ok(_) => Next::KeepAlive,
        Err(_) => Next::Close,
    }
}
