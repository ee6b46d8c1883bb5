//! `GET /v1/models` as each dialect's server writes it ([`ModelCard`]),
//! and vLLM's `GET /version`.

use serde_json::{json, Value};

use crate::sse::ModelCard;

/// The `/v1/models` body listing one model, `id`, created at unix second
/// `created`, whose context holds `max_model_len` tokens.
pub fn list(card: ModelCard, id: &str, created: u64, max_model_len: u64) -> Vec<u8> {
    let mut model = json!({
        "id": id,
        "object": "model",
        "created": created,
        "owned_by": card.owned_by(),
    });
    let extra = match card {
        ModelCard::Tokenpace => json!({ "max_model_len": max_model_len }),
        ModelCard::Vllm => json!({
            "root": id,
            "parent": null,
            "max_model_len": max_model_len,
            "permission": [{
                "id": format!("modelperm-{created:016x}"),
                "object": "model_permission",
                "created": created,
                "allow_create_engine": false,
                "allow_sampling": true,
                "allow_logprobs": true,
                "allow_search_indices": false,
                "allow_view": true,
                "allow_fine_tuning": false,
                "organization": "*",
                "group": null,
                "is_blocking": false,
            }],
        }),
        ModelCard::OpenAi => json!({}),
    };
    if let (Value::Object(m), Value::Object(extra)) = (&mut model, extra) {
        m.extend(extra);
    }
    json!({ "object": "list", "data": [model] })
        .to_string()
        .into_bytes()
}

/// The `/version` body: `{"version":"…"}`.
pub fn version(version: &str) -> Vec<u8> {
    json!({ "version": version }).to_string().into_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn card(card: ModelCard) -> Value {
        let v: Value = serde_json::from_slice(&list(card, "m", 7, 2048)).unwrap();
        assert_eq!(v["object"], "list");
        v["data"][0].clone()
    }

    #[test]
    fn each_dialect_says_whose_server_it_is() {
        let t = card(ModelCard::Tokenpace);
        assert_eq!(
            (t["owned_by"].as_str(), t["max_model_len"].as_u64()),
            (Some("tokenpace"), Some(2048))
        );
        let v = card(ModelCard::Vllm);
        assert_eq!(
            (v["owned_by"].as_str(), v["root"].as_str()),
            (Some("vllm"), Some("m"))
        );
        assert_eq!(v["permission"][0]["object"], "model_permission");
        let o = card(ModelCard::OpenAi);
        assert_eq!(
            o,
            json!({"id": "m", "object": "model", "created": 7, "owned_by": "system"})
        );
        assert_eq!(version("0.32.0"), br#"{"version":"0.32.0"}"#);
    }
}
