//! `/api/v1/groups/{id}/joinRequests`: requests to join a self-service group
//! (asked from My Apps) and their decision by an admin. Graph has no such
//! resource (Entra's access packages are the nearest); the permission is
//! Graph's least one for changing members, `GroupMember.ReadWrite.All`
//! (`Group.ReadWrite.All` also does), and reading needs a group or member
//! read permission.

use super::groups::{MEMBERS_READ, MEMBERS_WRITE, READ, WRITE};
use super::{ApiError, Caller, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use portico_directory::join_requests::{Decider, JoinRequest, JoinRequests};
use serde_json::{Value, json};
use std::sync::Arc;

/// The join requests service over the app's storage.
pub fn service(app: &App) -> JoinRequests {
    let store = Arc::new(app.storage.clone());
    JoinRequests::new(
        store.clone(),
        store.clone(),
        store.clone(),
        store,
        Arc::new(portico_ui::UiMailComposer),
        app.provider.clock.clone(),
        app.invitations.config().organization.clone(),
        format!(
            "{}/myapps",
            app.provider.config.issuer.trim_end_matches('/')
        ),
    )
    .with_mail_notifier(app.workers.mail.notifier())
}

fn require_any(caller: &Caller, permissions: &[&str]) -> Result<(), ApiError> {
    if permissions.iter().any(|p| caller.require(p).is_ok()) {
        Ok(())
    } else {
        caller.require(permissions[0])
    }
}

pub fn to_json(r: &JoinRequest) -> Value {
    json!({
        "id": r.id,
        "groupId": r.group_id,
        "userId": r.user_id,
        "state": r.state.as_str(),
        "createdDateTime": r.created_at,
        "decidedDateTime": r.decided_at,
        "decidedBy": r.decided_by.as_ref().map(|a| json!({"id": a.id, "displayName": a.display_name})),
    })
}

/// `GET /api/v1/groups/{id}/joinRequests`: newest first, decided ones too.
pub async fn join_requests_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[MEMBERS_READ, MEMBERS_WRITE, READ, WRITE])?;
    let value: Vec<Value> = service(&app)
        .of_group(parse_id(&id)?)
        .await?
        .iter()
        .map(to_json)
        .collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

/// `POST /api/v1/groups/{id}/joinRequests/{rid}/approve` (or `decline`).
pub async fn join_request_decide_post(
    State(app): State<App>,
    caller: Caller,
    Path((id, rid, decision)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[MEMBERS_WRITE, WRITE])?;
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(ApiError::not_found()),
    };
    let decided = service(&app)
        .decide(
            parse_id(&rid)?,
            Some(parse_id(&id)?),
            approve,
            Decider::Admin,
            &caller.actor,
        )
        .await?;
    Ok(axum::Json(to_json(&decided)).into_response())
}
