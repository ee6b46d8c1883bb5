//! `POST /tokenize` (vLLM's shape, [`tokenpace_wire::tokenize`]): the
//! prompt's length counted by the very function that counts a completion
//! request's `usage.prompt_tokens` ([`crate::request::prompt_tokens`]), so
//! a client can cut prompts to an exact length. Not behind `--api-key`,
//! like vLLM's (its key guards `/v1` only); not served in the `openai`
//! dialect.

use tokenpace_wire::{tokenize, ApiError, Conn, HttpRequest, Next};

use crate::request::prompt_tokens;
use crate::server::Sim;

/// Answers one `/tokenize` request.
pub(super) async fn tokenize(sim: &Sim, conn: &mut Conn, req: &HttpRequest) -> Next {
    match count(sim, &req.body) {
        Ok(body) => super::json(sim, conn, req, 200, &body).await,
        Err(e) => super::error(sim, conn, req, &e).await,
    }
}

/// The body for a `/tokenize` request: the simulator's tokens are
/// numbered 0, 1, … (only their count means anything).
fn count(sim: &Sim, body: &[u8]) -> Result<Vec<u8>, ApiError> {
    let request = tokenize::parse(body)?;
    let n = prompt_tokens(&request.prompt);
    let ids: Vec<u64> = (0..n).collect();
    Ok(tokenize::body(&ids, sim.config.limits.max_tokens))
}
