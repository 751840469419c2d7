//! `/api/v1/signingKeys`: list and rotate (`SigningKey.ReadWrite.All`).

use super::{ApiError, Caller};
use crate::app::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_oidc::model::SigningKey;
use serde_json::{Value, json};

const PERMISSION: &str = "SigningKey.ReadWrite.All";

fn to_json(k: &SigningKey) -> Value {
    json!({"kid": k.kid, "alg": k.alg, "createdDateTime": k.created_at, "activatesDateTime": k.activates_at, "expiresDateTime": k.expires_at})
}

pub async fn keys_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let keys = app
        .provider
        .store
        .list_keys()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(json!({"value": keys.iter().map(to_json).collect::<Vec<_>>()})).into_response())
}

pub async fn keys_rotate_post(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let rotated = app
        .provider
        .rotate_keys(&caller.actor)
        .await
        .map_err(ApiError::internal)?;
    // The RS256 key as before, and every algorithm's new key in `keys`.
    let mut body = rotated.first().map(to_json).unwrap_or_default();
    if let Some(o) = body.as_object_mut() {
        o.insert("keys".into(), rotated.iter().map(to_json).collect());
    }
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
