//! `/api/v1/groups` in Graph's shapes: groups (`Group.Read.All`,
//! `Group.ReadWrite.All`), their `members` and `owners` (`$ref` to add and
//! remove: `GroupMember.ReadWrite.All` or `Group.ReadWrite.All`), a user's
//! `memberOf`, an application's `appRoleAssignedTo`
//! (`AppRoleAssignment.ReadWrite.All` or `Application.ReadWrite.All`) and its
//! `owners` (`Application.ReadWrite.All`).

use super::{ApiError, Caller, Json, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::groups::{AppRoleAssignment, Group, GroupPatch, Groups, NewGroup, Relation};
use serde::Deserialize;
use serde_json::{Value, json};
use std::sync::Arc;
use uuid::Uuid;

pub const READ: &str = "Group.Read.All";
pub const WRITE: &str = "Group.ReadWrite.All";
pub const MEMBERS_READ: &str = "GroupMember.Read.All";
pub const MEMBERS_WRITE: &str = "GroupMember.ReadWrite.All";
pub const ASSIGNMENTS_WRITE: &str = "AppRoleAssignment.ReadWrite.All";
const APPLICATIONS: &str = "Application.ReadWrite.All";

/// The first of `permissions` the caller holds, else the refusal naming the first.
fn require_any(caller: &Caller, permissions: &[&str]) -> Result<(), ApiError> {
    if permissions.iter().any(|p| caller.require(p).is_ok()) {
        Ok(())
    } else {
        caller.require(permissions[0])
    }
}

/// The groups service over the app's storage.
pub fn service(app: &App) -> Groups {
    let store = Arc::new(app.storage.clone());
    Groups::new(
        store.clone(),
        store.clone(),
        store,
        app.provider.clock.clone(),
    )
}

pub fn group_json(g: &Group) -> Value {
    json!({
        "@odata.type": "#microsoft.graph.group",
        "id": g.id,
        "displayName": g.display_name,
        "description": g.description,
        "securityEnabled": g.security_enabled,
        "mailEnabled": false,
        "groupTypes": [],
        "createdDateTime": g.created_at,
    })
}

pub fn assignment_json(a: &AppRoleAssignment) -> Value {
    json!({
        "id": a.id,
        "principalId": a.principal_id,
        "principalType": a.principal_type.as_str(),
        "principalDisplayName": a.principal_display_name,
        "resourceId": a.resource_id,
        "resourceDisplayName": a.resource_display_name,
        "appRoleId": a.app_role_id,
        "createdDateTime": a.created_at,
    })
}

fn user_ref_json(u: &portico_directory::User) -> Value {
    let mut v = super::users::to_json(u);
    if let Value::Object(m) = &mut v {
        m.insert("@odata.type".into(), json!("#microsoft.graph.user"));
    }
    v
}

pub async fn groups_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<NewGroup>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let g = service(&app).create_group(body, &caller.actor).await?;
    Ok((StatusCode::CREATED, axum::Json(group_json(&g))).into_response())
}

pub async fn groups_get(
    State(app): State<App>,
    caller: Caller,
    Query(paging): Query<Paging>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE])?;
    if paging.filter.is_some() {
        return Err(ApiError::bad_request("$filter is not supported on groups."));
    }
    let limit = paging.top()?;
    let list = service(&app)
        .repo()
        .list_groups(paging.skiptoken()?, limit)
        .await?;
    let last = list.last().map(|g| g.id);
    let value = list.iter().map(group_json).collect();
    Ok(
        axum::Json(paging.page(&app.settings.issuer, "/api/v1/groups", limit, value, last))
            .into_response(),
    )
}

pub async fn group_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE])?;
    let g = service(&app).find_group(parse_id(&id)?).await?;
    Ok(axum::Json(group_json(&g)).into_response())
}

pub async fn group_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<GroupPatch>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let g = service(&app)
        .update_group(parse_id(&id)?, body, &caller.actor)
        .await?;
    Ok(axum::Json(group_json(&g)).into_response())
}

pub async fn group_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    service(&app)
        .delete_group(parse_id(&id)?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `{"@odata.id": "<base>/api/v1/users/{id}"}` (or `…/directoryObjects/{id}`).
#[derive(Deserialize)]
pub struct Reference {
    #[serde(rename = "@odata.id")]
    odata_id: String,
}

impl Reference {
    fn user_id(&self) -> Result<Uuid, ApiError> {
        let bad = || {
            ApiError::bad_request(
                "@odata.id must name a user: <base>/api/v1/users/{id} or <base>/api/v1/directoryObjects/{id}.",
            )
        };
        let path = self.odata_id.trim_end_matches('/');
        let (head, id) = path.rsplit_once('/').ok_or_else(bad)?;
        if !(head.ends_with("/users") || head.ends_with("/directoryObjects")) {
            return Err(bad());
        }
        Uuid::parse_str(id).map_err(|_| bad())
    }
}

fn relation(which: &str) -> Result<Relation, ApiError> {
    match which {
        "members" => Ok(Relation::Member),
        "owners" => Ok(Relation::Owner),
        _ => Err(ApiError::not_found()),
    }
}

/// `GET /api/v1/groups/{id}/members` (or `owners`).
pub async fn related_get(
    State(app): State<App>,
    caller: Caller,
    Path((id, which)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE, MEMBERS_READ, MEMBERS_WRITE])?;
    let users = service(&app)
        .list_users(parse_id(&id)?, relation(&which)?)
        .await?;
    let value: Vec<Value> = users.iter().map(user_ref_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

/// `POST /api/v1/groups/{id}/members/$ref` (or `owners/$ref`).
pub async fn related_ref_post(
    State(app): State<App>,
    caller: Caller,
    Path((id, which)): Path<(String, String)>,
    Json(body): Json<Reference>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[MEMBERS_WRITE, WRITE])?;
    service(&app)
        .add(
            parse_id(&id)?,
            relation(&which)?,
            body.user_id()?,
            &caller.actor,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/groups/{id}/members/{userId}/$ref` (or `owners`).
pub async fn related_ref_delete(
    State(app): State<App>,
    caller: Caller,
    Path((id, which, user)): Path<(String, String, String)>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[MEMBERS_WRITE, WRITE])?;
    service(&app)
        .remove(
            parse_id(&id)?,
            relation(&which)?,
            parse_id(&user)?,
            &caller.actor,
        )
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/users/{id}/memberOf`: the groups the user is a direct member of.
pub async fn member_of_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE, MEMBERS_READ, MEMBERS_WRITE])?;
    let groups = service(&app).member_of(parse_id(&id)?).await?;
    let value: Vec<Value> = groups.iter().map(group_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct NewAssignment {
    principal_id: String,
    /// Only the default role exists; another value is refused.
    #[serde(default)]
    app_role_id: Option<String>,
    /// Accepted for Graph compatibility; must name the application in the path.
    #[serde(default)]
    resource_id: Option<String>,
}

/// `GET /api/v1/applications/{id}/appRoleAssignedTo`.
pub async fn assigned_to_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[ASSIGNMENTS_WRITE, APPLICATIONS])?;
    let list = service(&app).assignments(parse_id(&id)?).await?;
    let value: Vec<Value> = list.iter().map(assignment_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

/// `POST /api/v1/applications/{id}/appRoleAssignedTo` with `principalId` (a user or group).
pub async fn assigned_to_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<NewAssignment>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[ASSIGNMENTS_WRITE, APPLICATIONS])?;
    let resource = parse_id(&id)?;
    let principal = Uuid::parse_str(body.principal_id.trim())
        .map_err(|_| ApiError::bad_request("principalId must be a user's or group's id."))?;
    if let Some(r) = body.app_role_id.as_deref()
        && Uuid::parse_str(r).ok() != Some(Uuid::nil())
    {
        return Err(ApiError::bad_request(
            "appRoleId: only the default role (00000000-0000-0000-0000-000000000000) exists.",
        ));
    }
    if let Some(r) = body.resource_id.as_deref()
        && Uuid::parse_str(r).ok() != Some(resource)
    {
        return Err(ApiError::bad_request(
            "resourceId must be the application in the path.",
        ));
    }
    let a = service(&app)
        .assign(resource, principal, &caller.actor)
        .await?;
    Ok((StatusCode::CREATED, axum::Json(assignment_json(&a))).into_response())
}

/// `DELETE /api/v1/applications/{id}/appRoleAssignedTo/{assignmentId}`.
pub async fn assigned_to_delete(
    State(app): State<App>,
    caller: Caller,
    Path((id, assignment)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[ASSIGNMENTS_WRITE, APPLICATIONS])?;
    service(&app)
        .unassign(parse_id(&id)?, parse_id(&assignment)?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `GET /api/v1/applications/{id}/owners`.
pub async fn app_owners_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(APPLICATIONS)?;
    let owners = service(&app).app_owners(parse_id(&id)?).await?;
    let value: Vec<Value> = owners.iter().map(user_ref_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

/// `POST /api/v1/applications/{id}/owners/$ref` with a user's `@odata.id`.
pub async fn app_owners_ref_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<Reference>,
) -> Result<Response, ApiError> {
    caller.require(APPLICATIONS)?;
    service(&app)
        .add_app_owner(parse_id(&id)?, body.user_id()?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// `DELETE /api/v1/applications/{id}/owners/{userId}/$ref`.
pub async fn app_owners_ref_delete(
    State(app): State<App>,
    caller: Caller,
    Path((id, user)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    caller.require(APPLICATIONS)?;
    service(&app)
        .remove_app_owner(parse_id(&id)?, parse_id(&user)?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
