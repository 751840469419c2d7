//! A user's authentication methods, as Microsoft Graph lists them
//! (`/users/{id}/authentication/methods`, `UserAuthenticationMethod.Read.All`
//! or `…ReadWrite.All`), and the admin's "require MFA re-registration"
//! (`POST …/authentication/requireReregistration`, `…ReadWrite.All`): the
//! authenticator app, passkeys and recovery codes are removed, audited.

use super::{ApiError, Caller, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::UserType;
use portico_directory::mfa::MfaError;
use serde_json::json;

pub const READ: &str = "UserAuthenticationMethod.Read.All";
pub const READ_WRITE: &str = "UserAuthenticationMethod.ReadWrite.All";

fn mfa_err(e: MfaError) -> ApiError {
    ApiError::internal(e)
}

pub async fn methods_get(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    if caller.require(READ_WRITE).is_err() {
        caller.require(READ)?;
    }
    let user = app.directory.find_user(parse_id(&id)?).await?;
    let m = app.mfa.methods(user.id).await.map_err(mfa_err)?;
    let mut value = Vec::new();
    if user.user_type == UserType::Member {
        value.push(json!({
            "@odata.type": "#microsoft.graph.passwordAuthenticationMethod",
            "id": "28c10230-6103-485e-b985-444c60001490",
        }));
    }
    // The recovery codes back the strong methods; they are listed with the first.
    let mut backs = None;
    if let Some(t) = m.totp {
        value.push(json!({
            "@odata.type": "#microsoft.graph.softwareOathAuthenticationMethod",
            "id": t.id,
            "createdDateTime": t.confirmed_at,
        }));
        backs = Some(t.id);
    }
    for p in &m.passkeys {
        // Graph's fido2AuthenticationMethod: aaGuid only when the
        // registration named the authenticator model.
        value.push(json!({
            "@odata.type": "#microsoft.graph.fido2AuthenticationMethod",
            "id": p.id,
            "displayName": p.name,
            "createdDateTime": p.created_at,
            "aaGuid": p.aaguid,
        }));
        backs = backs.or(Some(p.id));
    }
    if let Some(id) = backs {
        value.push(json!({
            "@odata.type": "#portico.recoveryCodesAuthenticationMethod",
            "id": format!("{id}-recovery"),
            "remaining": m.recovery_codes_left,
        }));
    }
    Ok(axum::Json(json!({ "value": value })).into_response())
}

pub async fn require_reregistration_post(
    State(app): State<App>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    caller.require(READ_WRITE)?;
    let user = app.directory.find_user(parse_id(&id)?).await?;
    app.mfa
        .reset_methods(user.id, &caller.actor)
        .await
        .map_err(mfa_err)?;
    Ok(StatusCode::NO_CONTENT.into_response())
}
