//! `/api/v1/identity/conditionalAccess/policies` and `…/namedLocations`
//! (issue 13), Graph's `conditionalAccessPolicy`, `ipNamedLocation` and
//! `countryNamedLocation` as they are: an Entra export can be POSTed as-is.
//! Reading needs `Policy.Read.All` (or the write permission); writing
//! `Policy.ReadWrite.ConditionalAccess`. A field Portico cannot enforce is
//! refused (400) with its path named; each change is audited with its actor.

use super::{ApiError, Caller, Json};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::ActorKind;
use portico_oidc::conditional_access::{ActorRef, CaError};
use serde_json::{Value, json};

pub const READ: &str = "Policy.Read.All";
pub const WRITE: &str = "Policy.ReadWrite.ConditionalAccess";

pub(super) fn require_read(caller: &Caller) -> Result<(), ApiError> {
    caller.require(WRITE).or_else(|_| caller.require(READ))
}

fn actor(caller: &Caller) -> ActorRef {
    let kind = match caller.actor.kind {
        ActorKind::User => "User",
        _ => "Application",
    };
    (
        kind,
        caller.actor.id.clone(),
        caller.actor.display_name.clone(),
    )
}

impl From<CaError> for ApiError {
    fn from(e: CaError) -> Self {
        match e {
            CaError::Invalid(i) => ApiError::bad_request(format!("The request was refused: {i}.")),
            CaError::NotFound => ApiError::not_found(),
            CaError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
            CaError::Store(e) => ApiError::internal(e),
        }
    }
}

fn ok<T: serde::Serialize>(status: StatusCode, v: &T) -> Response {
    (
        status,
        axum::Json(serde_json::to_value(v).unwrap_or_default()),
    )
        .into_response()
}

pub async fn policies_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let all = app
        .provider
        .ca_policies()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(json!({ "value": all })).into_response())
}

pub async fn policy_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    Ok(ok(StatusCode::OK, &app.provider.ca_policy(&id).await?))
}

pub async fn policies_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let p = app.provider.create_ca_policy(&body, actor(&caller)).await?;
    Ok(ok(StatusCode::CREATED, &p))
}

pub async fn policy_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let p = app
        .provider
        .update_ca_policy(&id, &body, actor(&caller))
        .await?;
    Ok(ok(StatusCode::OK, &p))
}

pub async fn policy_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    app.provider.delete_ca_policy(&id, actor(&caller)).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub async fn locations_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let all = app
        .provider
        .named_locations()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(json!({ "value": all })).into_response())
}

pub async fn location_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    Ok(ok(StatusCode::OK, &app.provider.named_location(&id).await?))
}

pub async fn locations_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let l = app
        .provider
        .create_named_location(&body, actor(&caller))
        .await?;
    Ok(ok(StatusCode::CREATED, &l))
}

pub async fn location_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Value>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let l = app
        .provider
        .update_named_location(&id, &body, actor(&caller))
        .await?;
    Ok(ok(StatusCode::OK, &l))
}

pub async fn location_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    app.provider
        .delete_named_location(&id, actor(&caller))
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
