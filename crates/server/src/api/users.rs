//! `/api/v1/users` (`User.ReadWrite.All`): Members and Guests in Graph's
//! `user` shape, listed with `$filter` on `userType`/`mail` and keyset paging.
//!
//! Least privilege: changing `roles`, or resetting the password of,
//! disabling, expiring or deleting an administrator also needs
//! `RoleManagement.ReadWrite.Directory` (a token narrowed to
//! `User.ReadWrite.All` cannot take over the portal). A user's `ETag` is its
//! version: `PATCH` with `If-Match` answers 412 when it changed since.

use super::{ApiError, Caller, ErrorBody, Json, Page, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::filter::parse_filter;
use portico_directory::{ActorKind, Identity, NewUser, User, UserPatch, UserQuery, UserType};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

pub(super) const PERMISSION: &str = "User.ReadWrite.All";
/// Reading users (also what `PERMISSION` allows).
const READ_PERMISSION: &str = "User.Read.All";
/// Needed on top of [`PERMISSION`] to touch administrators or roles.
pub(super) const ADMIN_PERMISSION: &str = "RoleManagement.ReadWrite.Directory";

/// Graph's `user`, as this API answers it.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = User)]
pub struct UserView {
    /// `#microsoft.graph.user` where a list mixes kinds (members, owners).
    #[serde(rename = "@odata.type", skip_serializing_if = "Option::is_none")]
    pub odata_type: Option<&'static str>,
    id: Uuid,
    display_name: String,
    mail: String,
    /// The sign-in address: the mail.
    user_principal_name: String,
    #[schema(value_type = UserTypeName)]
    user_type: &'static str,
    account_enabled: bool,
    /// Directory roles: `Global Administrator`, `Guest Inviter`.
    roles: Vec<&'static str>,
    email_verified: bool,
    /// Guests only: whether the invitation was redeemed.
    #[schema(value_type = Option<ExternalUserStateName>)]
    external_user_state: Option<&'static str>,
    external_user_state_change_date_time: Option<DateTime<Utc>>,
    #[schema(value_type = Vec<IdentityView>)]
    identities: Vec<Identity>,
    /// When a guest's access ends (`null`: never).
    access_expires_date_time: Option<DateTime<Utc>>,
    sponsors: Vec<SponsorView>,
    created_date_time: DateTime<Utc>,
}

/// `userType`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum UserTypeName {
    Member,
    Guest,
}

/// `externalUserState`.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ExternalUserStateName {
    PendingAcceptance,
    Accepted,
}

/// Graph's `objectIdentity`: how the user signs in.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = ObjectIdentity)]
pub struct IdentityView {
    /// `emailAddress` (email one-time passcode) or `federated`.
    sign_in_type: String,
    /// `mail`, or the home IdP's issuer.
    issuer: String,
    issuer_assigned_id: String,
}

/// Who invited (sponsors) a guest.
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = Sponsor)]
pub struct SponsorView {
    id: String,
    display_name: String,
    #[serde(rename = "type")]
    #[schema(value_type = ActorKindName)]
    kind: ActorKind,
}

/// Who acted: a signed-in person, an API client, or Portico itself.
#[derive(ToSchema)]
#[allow(dead_code)]
pub enum ActorKindName {
    User,
    Application,
    System,
}

pub fn view(u: &User) -> UserView {
    UserView {
        odata_type: None,
        id: u.id,
        display_name: u.display_name.clone(),
        mail: u.mail.clone(),
        user_principal_name: u.mail.clone(),
        user_type: u.user_type.as_str(),
        account_enabled: u.account_enabled,
        roles: u.roles(),
        email_verified: u.email_verified,
        external_user_state: u.external_user_state.map(|s| s.as_str()),
        external_user_state_change_date_time: u.external_user_state_changed_at,
        identities: u.identities.clone(),
        access_expires_date_time: u.access_expires_at,
        sponsors: u
            .sponsor
            .iter()
            .map(|s| SponsorView {
                id: s.id.clone(),
                display_name: s.display_name.clone(),
                kind: s.kind,
            })
            .collect(),
        created_date_time: u.created_at,
    }
}

/// A member to create (guests are invited instead).
#[derive(Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUserBody {
    display_name: String,
    mail: String,
    password: String,
    /// Must be `Member`.
    #[schema(value_type = UserTypeName)]
    user_type: String,
    /// The admin vouches for the address; a typed one is unproven by default.
    #[serde(default)]
    email_verified: bool,
}

#[utoipa::path(
    post,
    path = "/api/v1/users",
    tag = "users",
    description = "Creates a member with a password. Needs User.ReadWrite.All.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    request_body = NewUserBody,
    responses(
        (status = 201, description = "The new user", body = UserView),
        (status = 400, description = "Invalid body (or not a member)", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.ReadWrite.All", body = ErrorBody),
        (status = 409, description = "The mail is taken", body = ErrorBody),
    ),
)]
pub async fn users_post(
    State(app): State<App>,
    caller: Caller,
    Json(b): Json<NewUserBody>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    if UserType::parse(&b.user_type) != Some(UserType::Member) {
        return Err(ApiError::bad_request(
            "userType must be \"Member\"; guests are invited (POST /api/v1/invitations).",
        ));
    }
    let new = NewUser {
        display_name: b.display_name,
        mail: b.mail,
        password: Some(b.password),
        user_type: UserType::Member,
        is_admin: false,
        email_verified: b.email_verified,
    };
    let u = app.directory.create_user(new, &caller.actor).await?;
    Ok((StatusCode::CREATED, axum::Json(view(&u))).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/users",
    tag = "users",
    description = "Lists users, paged; `$filter` on `userType` and `mail`. Needs User.Read.All or User.ReadWrite.All \
        (a signed-in user's delegated token also needs a role that may read the directory).",
    extensions(("x-permissions" = json!([READ_PERMISSION, PERMISSION]))),
    params(Paging),
    responses(
        (status = 200, description = "A page of users", body = Page<UserView>),
        (status = 400, description = "Bad `$top`, `$skiptoken` or `$filter`", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.ReadWrite.All", body = ErrorBody),
    ),
)]
pub async fn users_get(
    State(app): State<App>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    caller
        .require(READ_PERMISSION)
        .or_else(|_| caller.require(PERMISSION))?;
    let mut q = UserQuery {
        limit: p.top()?,
        after: p.skiptoken()?,
        ..Default::default()
    };
    for (field, value) in parse_filter(p.filter.as_deref().unwrap_or(""), &["userType", "mail"])? {
        match field {
            "userType" => {
                q.user_type = Some(UserType::parse(&value).ok_or_else(|| {
                    ApiError::bad_request("userType must be 'Member' or 'Guest'.")
                })?)
            }
            _ => q.mail = Some(value.trim().to_lowercase()),
        }
    }
    let list = app.directory.list_users(&q).await?;
    let value = list.iter().map(view).collect();
    let last = list.last().map(|x| x.id);
    let body = p.page(&app.settings.issuer, "/api/v1/users", q.limit, value, last);
    Ok(axum::Json(body).into_response())
}

/// The user as JSON with its version in `ETag`.
fn with_etag(u: &User) -> Response {
    let mut resp = axum::Json(view(u)).into_response();
    if let Ok(v) = HeaderValue::from_str(&u.etag()) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}",
    tag = "users",
    description = "One user, with its version in `ETag`. Needs User.Read.All or User.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ_PERMISSION, PERMISSION]))),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The user", body = UserView, headers(("ETag" = String, description = "The user's version"))),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
)]
pub async fn user_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller
        .require(READ_PERMISSION)
        .or_else(|_| caller.require(PERMISSION))?;
    let u = app.directory.find_user(parse_id(&id)?).await?;
    Ok(with_etag(&u))
}

#[utoipa::path(
    patch,
    path = "/api/v1/users/{id}",
    tag = "users",
    description = "Changes a user; with `If-Match`, only if it did not change since. Needs User.ReadWrite.All; \
        changing `roles`, or resetting the password of, disabling or expiring an administrator, \
        also needs RoleManagement.ReadWrite.Directory.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(
        ("id" = Uuid, Path, description = "The user's id"),
        ("If-Match" = Option<String>, Header, description = "The `ETag` read before"),
    ),
    request_body = UserPatchBody,
    responses(
        (status = 200, description = "The changed user", body = UserView, headers(("ETag" = String, description = "The user's new version"))),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.ReadWrite.All (or RoleManagement.ReadWrite.Directory)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The change would leave no administrator", body = ErrorBody),
        (status = 412, description = "`If-Match` names an old version", body = ErrorBody),
    ),
)]
pub async fn user_patch(
    State(app): State<App>,
    caller: Caller,
    headers: HeaderMap,
    Path(id): Path<String>,
    Json(body): Json<UserPatch>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let id = parse_id(&id)?;
    let target = app.directory.find_user(id).await?;
    if body.touches_admin_powers(&target) {
        caller.require(ADMIN_PERMISSION)?;
    }
    let if_match = match headers.get(header::IF_MATCH).map(|v| v.to_str()) {
        None => None,
        Some(Ok(v)) => Some(v),
        Some(Err(_)) => return Err(ApiError::bad_request("If-Match is not a valid entity tag.")),
    };
    let u = app
        .directory
        .update_user_if(id, body, &caller.actor, if_match)
        .await?;
    Ok(with_etag(&u))
}

#[utoipa::path(
    delete,
    path = "/api/v1/users/{id}",
    tag = "users",
    description = "Deletes a user (with its memberships and assignments). Needs User.ReadWrite.All; \
        an administrator also needs RoleManagement.ReadWrite.Directory.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Deleted"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks User.ReadWrite.All (or RoleManagement.ReadWrite.Directory)", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
        (status = 409, description = "The last administrator", body = ErrorBody),
    ),
)]
pub async fn user_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let id = parse_id(&id)?;
    if app.directory.find_user(id).await?.is_admin {
        caller.require(ADMIN_PERMISSION)?;
    }
    app.directory.delete_user(id, &caller.actor).await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Graph's `user` update body; absent fields keep their value.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct UserPatchBody {
    display_name: Option<String>,
    account_enabled: Option<bool>,
    password: Option<String>,
    /// `null` clears the expiry.
    access_expires_date_time: Option<DateTime<Utc>>,
    /// The directory roles the user holds afterwards (replaces the list).
    roles: Option<Vec<String>>,
    email_verified: Option<bool>,
}
