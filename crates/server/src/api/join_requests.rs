//! `/api/v1/groups/{id}/joinRequests`: requests to join a self-service group
//! (asked from My Apps) and their decision by an admin. Graph has no such
//! resource (Entra's access packages are the nearest); the permission is
//! Graph's least one for changing members, `GroupMember.ReadWrite.All`
//! (`Group.ReadWrite.All` also does), and reading needs a group or member
//! read permission.

use super::groups::{MEMBERS_READ, MEMBERS_WRITE, READ, WRITE};
use super::{ApiError, Caller, ErrorBody, Page, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::join_requests::{Decider, JoinRequest, JoinRequests};
use serde::Serialize;
use std::sync::Arc;
use utoipa::ToSchema;
use uuid::Uuid;

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

/// A request to join a self-service group (a Portico resource).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = JoinRequest)]
pub struct JoinRequestView {
    id: Uuid,
    group_id: Uuid,
    user_id: Uuid,
    #[schema(value_type = JoinStateName)]
    state: &'static str,
    created_date_time: DateTime<Utc>,
    decided_date_time: Option<DateTime<Utc>>,
    decided_by: Option<DeciderView>,
}

/// `state`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum JoinStateName {
    Pending,
    Approved,
    Declined,
}

/// Who decided: an owner (from My Apps) or an admin (here).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct DeciderView {
    id: String,
    display_name: String,
}

/// `approve` or `decline`.
#[derive(ToSchema)]
#[serde(rename_all = "lowercase")]
#[allow(dead_code)]
pub enum DecisionName {
    Approve,
    Decline,
}

pub fn view(r: &JoinRequest) -> JoinRequestView {
    JoinRequestView {
        id: r.id,
        group_id: r.group_id,
        user_id: r.user_id,
        state: r.state.as_str(),
        created_date_time: r.created_at,
        decided_date_time: r.decided_at,
        decided_by: r.decided_by.as_ref().map(|a| DeciderView {
            id: a.id.clone(),
            display_name: a.display_name.clone(),
        }),
    }
}

/// `GET /api/v1/groups/{id}/joinRequests`: newest first, decided ones too.
#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}/joinRequests",
    tag = "groups",
    description = "Requests to join a self-service group, newest first, decided ones too. \
        Needs GroupMember.Read.All, GroupMember.ReadWrite.All, Group.Read.All or Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([MEMBERS_READ, MEMBERS_WRITE, READ, WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group's join requests", body = Page<JoinRequestView>),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks a group member read permission", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
)]
pub async fn join_requests_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[MEMBERS_READ, MEMBERS_WRITE, READ, WRITE])?;
    let value: Vec<JoinRequestView> = service(&app)
        .of_group(parse_id(&id)?)
        .await?
        .iter()
        .map(view)
        .collect();
    Ok(axum::Json(Page::all(value)).into_response())
}

/// `POST /api/v1/groups/{id}/joinRequests/{rid}/approve` (or `decline`).
#[utoipa::path(
    post,
    path = "/api/v1/groups/{id}/joinRequests/{rid}/{decision}",
    tag = "groups",
    description = "Approves (the user becomes a member) or declines a pending join request; \
        the requester is emailed, both audited. Needs GroupMember.ReadWrite.All or Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([MEMBERS_WRITE, WRITE]))),
    params(
        ("id" = Uuid, Path, description = "The group's id"),
        ("rid" = Uuid, Path, description = "The join request's id"),
        ("decision" = inline(DecisionName), Path, description = "approve or decline"),
    ),
    responses(
        (status = 200, description = "The decided request", body = JoinRequestView),
        (status = 400, description = "Not an id", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks GroupMember.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such request in this group, or not approve/decline", body = ErrorBody),
        (status = 409, description = "Already decided", body = ErrorBody),
    ),
)]
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
    Ok(axum::Json(view(&decided)).into_response())
}
