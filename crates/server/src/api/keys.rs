//! `/api/v1/signingKeys`: list and rotate (`SigningKey.ReadWrite.All`).

use super::applications::SigningAlgName;
use super::{ApiError, Caller, ErrorBody, Page};
use crate::app::App;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_oidc::model::SigningKey;
use serde::Serialize;
use utoipa::ToSchema;

const PERMISSION: &str = "SigningKey.ReadWrite.All";

/// A signing key (never its private part).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = SigningKey)]
pub struct KeyView {
    kid: String,
    #[schema(value_type = SigningAlgName)]
    alg: String,
    /// Published in the JWKS from then on.
    created_date_time: DateTime<Utc>,
    /// Signs from then on.
    activates_date_time: DateTime<Utc>,
    /// Removed from the JWKS then (`null`: current).
    expires_date_time: Option<DateTime<Utc>>,
}

/// A rotation's answer: the new RS256 key, and each algorithm's new key.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct RotatedKeys {
    kid: String,
    #[schema(value_type = SigningAlgName)]
    alg: String,
    created_date_time: DateTime<Utc>,
    activates_date_time: DateTime<Utc>,
    expires_date_time: Option<DateTime<Utc>>,
    keys: Vec<KeyView>,
}

fn view(k: &SigningKey) -> KeyView {
    KeyView {
        kid: k.kid.clone(),
        alg: k.alg.clone(),
        created_date_time: k.created_at,
        activates_date_time: k.activates_at,
        expires_date_time: k.expires_at,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/signingKeys",
    tag = "signingKeys",
    description = "The signing keys, published and retired. Needs SigningKey.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    responses(
        (status = 200, description = "The keys", body = Page<KeyView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks SigningKey.ReadWrite.All", body = ErrorBody),
    ),
)]
pub async fn keys_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let keys = app
        .provider
        .store
        .list_keys()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(Page::all(keys.iter().map(view).collect())).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/signingKeys/rotate",
    tag = "signingKeys",
    description = "New keys for every algorithm; they sign once published long enough for caches. Needs SigningKey.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    responses(
        (status = 201, description = "The new keys", body = RotatedKeys),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks SigningKey.ReadWrite.All", body = ErrorBody),
    ),
)]
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
    let first = rotated
        .first()
        .ok_or_else(|| ApiError::internal("a rotation made no key"))?;
    let body = RotatedKeys {
        kid: first.kid.clone(),
        alg: first.alg.clone(),
        created_date_time: first.created_at,
        activates_date_time: first.activates_at,
        expires_date_time: first.expires_at,
        keys: rotated.iter().map(view).collect(),
    };
    Ok((StatusCode::CREATED, axum::Json(body)).into_response())
}
