//! `/api/v1/users` (`User.ReadWrite.All`): Members and Guests in Graph's
//! `user` shape, listed with `$filter` on `userType`/`mail` and keyset paging.

use super::{ApiError, Caller, Json, Paging, parse_id};
use crate::app::App;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::filter::parse_filter;
use portico_directory::{NewUser, User, UserPatch, UserQuery, UserType};
use serde::Deserialize;
use serde_json::{Value, json};

const PERMISSION: &str = "User.ReadWrite.All";

pub fn to_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "displayName": u.display_name,
        "mail": u.mail,
        "userPrincipalName": u.mail,
        "userType": u.user_type.as_str(),
        "accountEnabled": u.account_enabled,
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
    };
    let u = app.directory.create_user(new, &caller.actor).await?;
    Ok((StatusCode::CREATED, axum::Json(to_json(&u))).into_response())
}

pub async fn users_get(
    State(app): State<App>,
    caller: Caller,
    Query(p): Query<Paging>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
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

pub async fn user_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let u = app.directory.find_user(parse_id(&id)?).await?;
    Ok(axum::Json(to_json(&u)).into_response())
}

pub async fn user_patch(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
    Json(body): Json<UserPatch>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let u = app
        .directory
        .update_user(parse_id(&id)?, body, &caller.actor)
        .await?;
    Ok(axum::Json(to_json(&u)).into_response())
}

pub async fn user_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    app.directory
        .delete_user(parse_id(&id)?, &caller.actor)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
