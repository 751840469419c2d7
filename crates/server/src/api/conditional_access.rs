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
use portico_oidc::conditional_access::{ActorRef, CaError, WhatIf};
use portico_policy::conditional_access::{Applicability, Platform, PolicyState};
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

/// What-If's request, in Graph's shape (`POST /identity/conditionalAccess/evaluate`):
/// `signInIdentity.userId`, `signInContext.includeApplications[0]`,
/// `signInConditions.{ipAddress, devicePlatform, country}`. Each may be left out.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct EvaluateBody {
    #[serde(default)]
    sign_in_identity: Option<Value>,
    #[serde(default)]
    sign_in_context: Option<Value>,
    #[serde(default)]
    sign_in_conditions: Option<Value>,
}

fn string_at<'a>(v: &'a Option<Value>, pointer: &str) -> Option<&'a str> {
    v.as_ref()?
        .pointer(pointer)?
        .as_str()
        .filter(|s| !s.is_empty())
}

fn what_if_question(body: &EvaluateBody) -> Result<WhatIf, ApiError> {
    let user_id = match string_at(&body.sign_in_identity, "/userId") {
        None => None,
        Some(u) => Some(
            uuid::Uuid::parse_str(u)
                .map_err(|_| ApiError::bad_request("signInIdentity.userId must be a user id."))?,
        ),
    };
    let ip = match string_at(&body.sign_in_conditions, "/ipAddress") {
        None => None,
        Some(ip) => Some(ip.parse().map_err(|_| {
            ApiError::bad_request(format!(
                "signInConditions.ipAddress: `{ip}` is not an IP address."
            ))
        })?),
    };
    let platform = match string_at(&body.sign_in_conditions, "/devicePlatform") {
        None => None,
        Some(p) => Some(
            Platform::parse(p)
                .filter(|p| *p != Platform::All)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "signInConditions.devicePlatform: `{p}` is not one of android, iOS, windows, windowsPhone, macOS, linux, unknown."
                    ))
                })?,
        ),
    };
    let country = match string_at(&body.sign_in_conditions, "/country") {
        None => None,
        Some(c) if c.len() == 2 && c.bytes().all(|b| b.is_ascii_alphabetic()) => {
            Some(c.to_ascii_uppercase())
        }
        Some(c) => {
            return Err(ApiError::bad_request(format!(
                "signInConditions.country: `{c}` is not an ISO 3166-1 alpha-2 code."
            )));
        }
    };
    Ok(WhatIf {
        user_id,
        app_id: string_at(&body.sign_in_context, "/includeApplications/0").map(str::to_string),
        ip,
        platform,
        country,
    })
}

/// `POST /api/v1/identity/conditionalAccess/evaluate` (What-If): every policy
/// with whether it applies (`true`, `false`, or `null` when an unknown input
/// leaves it open), what it asks, where it did not apply the first condition
/// that failed, and the unknown inputs. Reading permission.
pub async fn evaluate_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<EvaluateBody>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let q = what_if_question(&body)?;
    let answer = app.provider.what_if(&q).await.map_err(ApiError::internal)?;
    let value: Vec<Value> = answer
        .results
        .iter()
        .map(|r| {
            let (applies, reason) = match &r.applicability {
                Applicability::Applies => (json!(true), Value::Null),
                Applicability::NotApplied(n) => (
                    json!(false),
                    json!({"condition": n.condition, "field": n.field}),
                ),
                Applicability::Undecided => (Value::Null, Value::Null),
            };
            json!({
                "id": r.id,
                "displayName": r.display_name,
                "state": r.state.as_str(),
                "policyApplies": applies,
                "notAppliedBecause": reason,
                "unknownInputs": r.unknown_inputs.iter().map(|i| i.as_str()).collect::<Vec<_>>(),
                "grantControls": [r.requirement.graph_control()],
                "enforced": r.state == PolicyState::Enabled && r.applies(),
            })
        })
        .collect();
    let unknown: Vec<&str> = answer.unknown_inputs.iter().map(|i| i.as_str()).collect();
    Ok(axum::Json(json!({ "value": value, "unknownInputs": unknown })).into_response())
}

#[derive(Debug, serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ReplayBody {
    policy: Value,
    #[serde(default = "default_days")]
    days: i64,
}

fn default_days() -> i64 {
    7
}

/// `POST /api/v1/identity/conditionalAccess/replay`: `{"policy": <draft
/// Graph JSON>, "days": N}` → how many recorded sign-ins of the last N days
/// it would have blocked or challenged. Nothing is saved. Reading permission.
pub async fn replay_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<ReplayBody>,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let report = app
        .provider
        .replay(&body.policy, body.days)
        .await
        .map_err(|e| match e {
            CaError::Conflict(m) => ApiError::bad_request(m),
            other => other.into(),
        })?;
    Ok(ok(StatusCode::OK, &report))
}
