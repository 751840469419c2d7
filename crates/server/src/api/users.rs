//! `/api/v1/users` (`User.ReadWrite.All`): Members and Guests in Graph's
//! `user` shape, listed with `$filter` on `userType`/`mail` and keyset paging.
//!
//! Least privilege: changing `roles`, or resetting the password of,
//! disabling, expiring or deleting an administrator also needs
//! `RoleManagement.ReadWrite.Directory` (a token narrowed to
//! `User.ReadWrite.All` cannot take over the portal). A user's `ETag` is its
//! version: `PATCH` with `If-Match` answers 412 when it changed since.

use super::{ApiError, Caller, Json, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use portico_directory::filter::parse_filter;
use portico_directory::{NewUser, User, UserPatch, UserQuery, UserType};
use serde::Deserialize;
use serde_json::{Value, json};

pub(super) const PERMISSION: &str = "User.ReadWrite.All";
/// Reading users (also what `PERMISSION` allows).
const READ_PERMISSION: &str = "User.Read.All";
/// Needed on top of [`PERMISSION`] to touch administrators or roles.
pub(super) const ADMIN_PERMISSION: &str = "RoleManagement.ReadWrite.Directory";

pub fn to_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "displayName": u.display_name,
        "mail": u.mail,
        "userPrincipalName": u.mail,
        "userType": u.user_type.as_str(),
        "accountEnabled": u.account_enabled,
        "roles": u.roles(),
        "emailVerified": u.email_verified,
        "externalUserState": u.external_user_state.map(|s| s.as_str()),
        "externalUserStateChangeDateTime": u.external_user_state_changed_at,
        "identities": u.identities,
        "accessExpiresDateTime": u.access_expires_at,
        "sponsors": u.sponsor.iter().map(|s| json!({
            "id": s.id, "displayName": s.display_name, "type": s.kind,
        })).collect::<Vec<_>>(),
        "createdDateTime": u.created_at,
    })
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewUserBody {
    display_name: String,
    mail: String,
    password: String,
    user_type: String,
    /// The admin vouches for the address; a typed one is unproven by default.
    #[serde(default)]
    email_verified: bool,
}

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
    Ok((StatusCode::CREATED, axum::Json(to_json(&u))).into_response())
}

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
    let value = list.iter().map(to_json).collect();
    let last = list.last().map(|x| x.id);
    let body = p.page(&app.settings.issuer, "/api/v1/users", q.limit, value, last);
    Ok(axum::Json(body).into_response())
}

/// The user as JSON with its version in `ETag`.
fn with_etag(u: &User) -> Response {
    let mut resp = axum::Json(to_json(u)).into_response();
    if let Ok(v) = HeaderValue::from_str(&u.etag()) {
        resp.headers_mut().insert(header::ETAG, v);
    }
    resp
}

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
