//! `GET`/`PATCH /api/v1/policies/authenticationPolicy`
//! (`Policy.ReadWrite.AuthenticationMethod`): when MFA applies, how long it is
//! remembered, email as a second factor, passkey-only sign-in.

use super::{ApiError, Caller, Json};
use crate::app::App;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portico_directory::ActorKind;
use portico_oidc::auth_policy::{AuthenticationPolicyPatch, PolicyError};
use portico_policy::TenantSettings;
use serde_json::{Value, json};

pub const PERMISSION: &str = "Policy.ReadWrite.AuthenticationMethod";

fn to_json(p: &TenantSettings) -> Value {
    json!({
        "id": "authenticationPolicy",
        "requireMfaFor": p.require_mfa_for.as_str(),
        "rememberMfaMinutes": p.remember_mfa_minutes,
        "emailOtpAsSecondFactor": p.email_otp_as_second_factor,
        "passkeyOnlySignIn": p.passkey_only_sign_in,
    })
}

pub async fn authentication_policy_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let p = app
        .provider
        .authentication_policy()
        .await
        .map_err(ApiError::internal)?;
    Ok(axum::Json(to_json(&p)).into_response())
}

pub async fn authentication_policy_patch(
    State(app): State<App>,
    caller: Caller,
    Json(patch): Json<AuthenticationPolicyPatch>,
) -> Result<Response, ApiError> {
    caller.require(PERMISSION)?;
    let kind = match caller.actor.kind {
        ActorKind::User => "User",
        _ => "Application",
    };
    let actor = (
        kind,
        caller.actor.id.clone(),
        caller.actor.display_name.clone(),
    );
    match app
        .provider
        .update_authentication_policy(&patch, actor)
        .await
    {
        Ok(p) => Ok(axum::Json(to_json(&p)).into_response()),
        Err(PolicyError::Invalid(m)) => Err(ApiError::bad_request(m)),
        Err(PolicyError::Store(e)) => Err(ApiError::internal(e)),
    }
}
