//! `/api/v1/users`: members for now (`User.ReadWrite.All`); guests and
//! invitations extend it.

use super::{ApiError, Caller, Json};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::{DirectoryError, NewUser, User, UserPatch, UserType};
use serde::Deserialize;
use serde_json::{Value, json};
use uuid::Uuid;

const PERMISSION: &str = "User.ReadWrite.All";

pub fn to_json(u: &User) -> Value {
    json!({
        "id": u.id,
        "displayName": u.display_name,
        "mail": u.mail,
        "userType": u.user_type.as_str(),
        "accountEnabled": u.account_enabled,
        "createdDateTime": u.created_at,
    })
}

fn map_err(e: DirectoryError) -> ApiError {
    match e {
        DirectoryError::Invalid(m) => ApiError::bad_request(m),
        DirectoryError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, "conflict", m),
        DirectoryError::NotFound => ApiError::not_found(),
        DirectoryError::Internal(e) => ApiError::internal(e),
    }
}

fn parse_id(id: &str) -> Result<Uuid, ApiError> {
    Uuid::parse_str(id).map_err(|_| ApiError::not_found())
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
    let u = app.directory.create_user(new).await.map_err(map_err)?;
    Ok((StatusCode::CREATED, axum::Json(to_json(&u))).into_response())
}

pub async fn users_get(State(app): State<App>, caller: Caller) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let list = app.directory.repo().list_users().await.map_err(map_err)?;
    let value: Vec<Value> = list.iter().map(to_json).collect();
    Ok(axum::Json(json!({ "value": value })).into_response())
}

pub async fn user_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let u = app
        .directory
        .repo()
        .find_user(parse_id(&id)?)
        .await
        .map_err(map_err)?
        .ok_or_else(ApiError::not_found)?;
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
        .update_user(parse_id(&id)?, body)
        .await
        .map_err(map_err)?;
    Ok(axum::Json(to_json(&u)).into_response())
}

pub async fn user_delete(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    if !app
        .directory
        .repo()
        .delete_user(parse_id(&id)?)
        .await
        .map_err(map_err)?
    {
        return Err(ApiError::not_found());
    }
    Ok(StatusCode::NO_CONTENT.into_response())
}
