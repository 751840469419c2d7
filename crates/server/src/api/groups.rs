//! `/api/v1/groups` in Graph's shapes: groups (`Group.Read.All`,
//! `Group.ReadWrite.All`), their `members` and `owners` (`$ref` to add and
//! remove: `GroupMember.ReadWrite.All` or `Group.ReadWrite.All`), a user's
//! `memberOf`, an application's `appRoleAssignedTo`
//! (`AppRoleAssignment.ReadWrite.All` or `Application.ReadWrite.All`) and its
//! `owners` (`Application.ReadWrite.All`).

use super::users::UserView;
use super::{ApiError, Caller, ErrorBody, Json, Page, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::groups::{AppRoleAssignment, Group, GroupPatch, Groups, NewGroup, Relation};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;
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

/// Graph's `group` (security groups only).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Group)]
pub struct GroupView {
    /// Always `#microsoft.graph.group`.
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    id: Uuid,
    display_name: String,
    description: Option<String>,
    security_enabled: bool,
    /// Always `false`: Portico sends no group mail.
    mail_enabled: bool,
    /// Always empty (no Microsoft 365 groups).
    group_types: Vec<String>,
    created_date_time: DateTime<Utc>,
}

/// Graph's `appRoleAssignment`: a user or group may use an application.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AppRoleAssignment)]
pub struct AssignmentView {
    id: Uuid,
    principal_id: Uuid,
    #[schema(value_type = PrincipalTypeName)]
    principal_type: &'static str,
    principal_display_name: String,
    /// The application's id.
    resource_id: Uuid,
    resource_display_name: String,
    /// The default role (all zeros): the only one.
    app_role_id: Uuid,
    created_date_time: DateTime<Utc>,
}

/// `principalType`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum PrincipalTypeName {
    User,
    Group,
}

pub fn group_view(g: &Group) -> GroupView {
    GroupView {
        odata_type: "#microsoft.graph.group",
        id: g.id,
        display_name: g.display_name.clone(),
        description: g.description.clone(),
        security_enabled: g.security_enabled,
        mail_enabled: false,
        group_types: Vec::new(),
        created_date_time: g.created_at,
    }
}

pub fn assignment_view(a: &AppRoleAssignment) -> AssignmentView {
    AssignmentView {
        id: a.id,
        principal_id: a.principal_id,
        principal_type: a.principal_type.as_str(),
        principal_display_name: a.principal_display_name.clone(),
        resource_id: a.resource_id,
        resource_display_name: a.resource_display_name.clone(),
        app_role_id: a.app_role_id,
        created_date_time: a.created_at,
    }
}

fn user_ref_view(u: &portico_directory::User) -> UserView {
    let mut v = super::users::view(u);
    v.odata_type = Some("#microsoft.graph.user");
    v
}

#[utoipa::path(
    post,
    path = "/api/v1/groups",
    tag = "groups",
    description = "Creates a security group. Needs Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([WRITE]))),
    request_body = NewGroupBody,
    responses(
        (status = 201, description = "The new group", body = GroupView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.ReadWrite.All", body = ErrorBody),
    ),
)]
pub async fn groups_post(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<NewGroup>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let g = service(&app).create_group(body, &caller.actor).await?;
    Ok((StatusCode::CREATED, axum::Json(group_view(&g))).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/groups",
    tag = "groups",
    description = "Lists groups, paged (no `$filter`). Needs Group.Read.All or Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ, WRITE]))),
    params(Paging),
    responses(
        (status = 200, description = "A page of groups", body = Page<GroupView>),
        (status = 400, description = "Bad `$top` or `$skiptoken`, or a `$filter`", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.Read.All", body = ErrorBody),
    ),
)]
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
    let value = list.iter().map(group_view).collect();
    Ok(
        axum::Json(paging.page(&app.settings.issuer, "/api/v1/groups", limit, value, last))
            .into_response(),
    )
}

#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}",
    tag = "groups",
    description = "One group. Needs Group.Read.All or Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ, WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses(
        (status = 200, description = "The group", body = GroupView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.Read.All", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
)]
pub async fn group_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE])?;
    let g = service(&app).find_group(parse_id(&id)?).await?;
    Ok(axum::Json(group_view(&g)).into_response())
}

#[utoipa::path(
    patch,
    path = "/api/v1/groups/{id}",
    tag = "groups",
    description = "Changes a group. Needs Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id")),
    request_body = GroupPatchBody,
    responses(
        (status = 200, description = "The changed group", body = GroupView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
)]
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
    Ok(axum::Json(group_view(&g)).into_response())
}

#[utoipa::path(
    delete,
    path = "/api/v1/groups/{id}",
    tag = "groups",
    description = "Deletes a group, its memberships and assignments. Needs Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
)]
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
#[derive(Deserialize, ToSchema)]
pub struct Reference {
    /// The user's URL: `<base>/api/v1/users/{id}`.
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
#[utoipa::path(
    get,
    path = "/api/v1/groups/{id}/{which}",
    tag = "groups",
    description = "A group's direct members (or owners). Needs Group.Read.All, Group.ReadWrite.All, GroupMember.Read.All or GroupMember.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ, WRITE, MEMBERS_READ, MEMBERS_WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id"), ("which" = inline(RelationName), Path, description = "`members` or `owners`")),
    responses(
        (status = 200, description = "The users", body = Page<UserView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.Read.All", body = ErrorBody),
        (status = 404, description = "No such group", body = ErrorBody),
    ),
)]
pub async fn related_get(
    State(app): State<App>,
    caller: Caller,
    Path((id, which)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE, MEMBERS_READ, MEMBERS_WRITE])?;
    let users = service(&app)
        .list_users(parse_id(&id)?, relation(&which)?)
        .await?;
    let value = users.iter().map(user_ref_view).collect();
    Ok(axum::Json(Page::<_>::all(value)).into_response())
}

/// `POST /api/v1/groups/{id}/members/$ref` (or `owners/$ref`).
#[utoipa::path(
    post,
    path = "/api/v1/groups/{id}/{which}/$ref",
    tag = "groups",
    description = "Adds a member (or owner). Needs GroupMember.ReadWrite.All or Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([MEMBERS_WRITE, WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id"), ("which" = inline(RelationName), Path, description = "`members` or `owners`")),
    request_body = Reference,
    responses(
        (status = 204, description = "Added"),
        (status = 400, description = "`@odata.id` names no user", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks GroupMember.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such group or user", body = ErrorBody),
        (status = 409, description = "Already there", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/groups/{id}/{which}/{user}/$ref",
    tag = "groups",
    description = "Removes a member (or owner). Needs GroupMember.ReadWrite.All or Group.ReadWrite.All.",
    extensions(("x-permissions" = json!([MEMBERS_WRITE, WRITE]))),
    params(("id" = Uuid, Path, description = "The group's id"), ("which" = inline(RelationName), Path, description = "`members` or `owners`"), ("user" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks GroupMember.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such group or membership", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/memberOf",
    tag = "groups",
    description = "The groups a user is a direct member of. Needs Group.Read.All, Group.ReadWrite.All, GroupMember.Read.All or GroupMember.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ, WRITE, MEMBERS_READ, MEMBERS_WRITE]))),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The groups", body = Page<GroupView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Group.Read.All", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
)]
pub async fn member_of_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[READ, WRITE, MEMBERS_READ, MEMBERS_WRITE])?;
    let groups = service(&app).member_of(parse_id(&id)?).await?;
    let value = groups.iter().map(group_view).collect();
    Ok(axum::Json(Page::<_>::all(value)).into_response())
}

/// Graph's `appRoleAssignment` to create.
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct NewAssignment {
    /// A user's or group's id.
    principal_id: String,
    /// Only the default role exists; another value is refused.
    #[serde(default)]
    app_role_id: Option<String>,
    /// Accepted for Graph compatibility; must name the application in the path.
    #[serde(default)]
    resource_id: Option<String>,
}

/// `GET /api/v1/applications/{id}/appRoleAssignedTo`.
#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}/appRoleAssignedTo",
    tag = "applications",
    description = "Who may use the application. Needs AppRoleAssignment.ReadWrite.All or Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([ASSIGNMENTS_WRITE, APPLICATIONS]))),
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The assignments", body = Page<AssignmentView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks AppRoleAssignment.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
)]
pub async fn assigned_to_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    require_any(&caller, &[ASSIGNMENTS_WRITE, APPLICATIONS])?;
    let list = service(&app).assignments(parse_id(&id)?).await?;
    let value = list.iter().map(assignment_view).collect();
    Ok(axum::Json(Page::<_>::all(value)).into_response())
}

/// `POST /api/v1/applications/{id}/appRoleAssignedTo` with `principalId` (a user or group).
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/appRoleAssignedTo",
    tag = "applications",
    description = "Lets a user or group use the application. Needs AppRoleAssignment.ReadWrite.All or Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([ASSIGNMENTS_WRITE, APPLICATIONS]))),
    params(("id" = Uuid, Path, description = "The application's id")),
    request_body = NewAssignment,
    responses(
        (status = 201, description = "The assignment", body = AssignmentView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks AppRoleAssignment.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application or principal", body = ErrorBody),
        (status = 409, description = "Already assigned", body = ErrorBody),
    ),
)]
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
    Ok((StatusCode::CREATED, axum::Json(assignment_view(&a))).into_response())
}

/// `DELETE /api/v1/applications/{id}/appRoleAssignedTo/{assignmentId}`.
#[utoipa::path(
    delete,
    path = "/api/v1/applications/{id}/appRoleAssignedTo/{assignment}",
    tag = "applications",
    description = "Removes an assignment. Needs AppRoleAssignment.ReadWrite.All or Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([ASSIGNMENTS_WRITE, APPLICATIONS]))),
    params(("id" = Uuid, Path, description = "The application's id"), ("assignment" = Uuid, Path, description = "The assignment's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks AppRoleAssignment.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such assignment", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    get,
    path = "/api/v1/applications/{id}/owners",
    tag = "applications",
    description = "The application's owners. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([APPLICATIONS]))),
    params(("id" = Uuid, Path, description = "The application's id")),
    responses(
        (status = 200, description = "The owners", body = Page<UserView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application", body = ErrorBody),
    ),
)]
pub async fn app_owners_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(APPLICATIONS)?;
    let owners = service(&app).app_owners(parse_id(&id)?).await?;
    let value = owners.iter().map(user_ref_view).collect();
    Ok(axum::Json(Page::<_>::all(value)).into_response())
}

/// `POST /api/v1/applications/{id}/owners/$ref` with a user's `@odata.id`.
#[utoipa::path(
    post,
    path = "/api/v1/applications/{id}/owners/$ref",
    tag = "applications",
    description = "Adds an owner. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([APPLICATIONS]))),
    params(("id" = Uuid, Path, description = "The application's id")),
    request_body = Reference,
    responses(
        (status = 204, description = "Added"),
        (status = 400, description = "`@odata.id` names no user", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application or user", body = ErrorBody),
        (status = 409, description = "Already an owner", body = ErrorBody),
    ),
)]
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
#[utoipa::path(
    delete,
    path = "/api/v1/applications/{id}/owners/{user}/$ref",
    tag = "applications",
    description = "Removes an owner. Needs Application.ReadWrite.All.",
    extensions(("x-permissions" = json!([APPLICATIONS]))),
    params(("id" = Uuid, Path, description = "The application's id"), ("user" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Application.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such application or owner", body = ErrorBody),
    ),
)]
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

/// `members` or `owners`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum RelationName {
    Members,
    Owners,
}

/// Graph's group to create. `mailEnabled` must be false; `mailNickname` and
/// `groupTypes` are accepted and ignored.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct NewGroupBody {
    display_name: String,
    description: Option<String>,
    security_enabled: Option<bool>,
    mail_enabled: Option<bool>,
    mail_nickname: Option<String>,
    group_types: Option<Vec<String>>,
}

/// A group's changes; absent fields keep their value.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct GroupPatchBody {
    display_name: Option<String>,
    description: Option<String>,
    security_enabled: Option<bool>,
}
