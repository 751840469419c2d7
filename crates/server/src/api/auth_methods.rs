//! A user's authentication methods, as Microsoft Graph lists them
//! (`/users/{id}/authentication/methods`, `UserAuthenticationMethod.Read.All`
//! or `…ReadWrite.All`), and the admin's "require MFA re-registration"
//! (`POST …/authentication/requireReregistration`, `…ReadWrite.All`): the
//! authenticator app, passkeys and recovery codes are removed, audited.

use super::{ApiError, Caller, ErrorBody, Page, parse_id};
use crate::app::App;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use chrono::{DateTime, Utc};
use portico_directory::UserType;
use portico_directory::mfa::MfaError;
use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

pub const READ: &str = "UserAuthenticationMethod.Read.All";
pub const READ_WRITE: &str = "UserAuthenticationMethod.ReadWrite.All";

fn mfa_err(e: MfaError) -> ApiError {
    ApiError::internal(e)
}

/// One of Graph's `authenticationMethod`s (and Portico's recovery codes).
#[derive(Serialize, ToSchema)]
#[serde(untagged)]
#[schema(as = AuthenticationMethod)]
pub enum MethodView {
    Password(PasswordMethod),
    SoftwareOath(SoftwareOathMethod),
    Fido2(Fido2Method),
    RecoveryCodes(RecoveryCodesMethod),
}

/// A member's password (`#microsoft.graph.passwordAuthenticationMethod`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PasswordMethod {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    /// Graph's fixed id of the password method.
    id: &'static str,
}

/// The authenticator app (`#microsoft.graph.softwareOathAuthenticationMethod`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct SoftwareOathMethod {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    id: Uuid,
    created_date_time: DateTime<Utc>,
}

/// A passkey (`#microsoft.graph.fido2AuthenticationMethod`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct Fido2Method {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    id: Uuid,
    display_name: String,
    created_date_time: DateTime<Utc>,
    /// The authenticator model, when the registration named it.
    aa_guid: Option<String>,
}

/// The recovery codes that back the strong methods
/// (`#portico.recoveryCodesAuthenticationMethod`).
#[derive(Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecoveryCodesMethod {
    #[serde(rename = "@odata.type")]
    odata_type: &'static str,
    id: String,
    /// Codes not used yet.
    remaining: u32,
}

#[utoipa::path(
    get,
    path = "/api/v1/users/{id}/authentication/methods",
    tag = "authenticationMethods",
    description = "A user's authentication methods. Needs UserAuthenticationMethod.Read.All or UserAuthenticationMethod.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ, READ_WRITE]))),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 200, description = "The methods", body = Page<MethodView>),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks UserAuthenticationMethod.Read.All", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
)]
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
        value.push(MethodView::Password(PasswordMethod {
            odata_type: "#microsoft.graph.passwordAuthenticationMethod",
            id: "28c10230-6103-485e-b985-444c60001490",
        }));
    }
    // The recovery codes back the strong methods; they are listed with the first.
    let mut backs = None;
    if let Some(t) = m.totp {
        value.push(MethodView::SoftwareOath(SoftwareOathMethod {
            odata_type: "#microsoft.graph.softwareOathAuthenticationMethod",
            id: t.id,
            created_date_time: t.confirmed_at,
        }));
        backs = Some(t.id);
    }
    for p in m.passkeys {
        // Graph's fido2AuthenticationMethod: aaGuid only when the
        // registration named the authenticator model.
        backs = backs.or(Some(p.id));
        value.push(MethodView::Fido2(Fido2Method {
            odata_type: "#microsoft.graph.fido2AuthenticationMethod",
            id: p.id,
            display_name: p.name,
            created_date_time: p.created_at,
            aa_guid: p.aaguid,
        }));
    }
    if let Some(id) = backs {
        value.push(MethodView::RecoveryCodes(RecoveryCodesMethod {
            odata_type: "#portico.recoveryCodesAuthenticationMethod",
            id: format!("{id}-recovery"),
            remaining: m.recovery_codes_left,
        }));
    }
    Ok(axum::Json(Page::all(value)).into_response())
}

#[utoipa::path(
    post,
    path = "/api/v1/users/{id}/authentication/requireReregistration",
    tag = "authenticationMethods",
    description = "Removes the user's authenticator app, passkeys and recovery codes (audited): the next sign-in enrols again. \
        Needs UserAuthenticationMethod.ReadWrite.All.",
    extensions(("x-permissions" = json!([READ_WRITE]))),
    params(("id" = Uuid, Path, description = "The user's id")),
    responses(
        (status = 204, description = "Done"),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks UserAuthenticationMethod.ReadWrite.All", body = ErrorBody),
        (status = 404, description = "No such user", body = ErrorBody),
    ),
)]
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
