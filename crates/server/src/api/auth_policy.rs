//! `GET`/`PATCH /api/v1/policies/authenticationPolicy`
//! (`Policy.ReadWrite.AuthenticationMethod`): when MFA applies, how long it is
//! remembered, email as a second factor, passkey-only sign-in.

use super::{ApiError, Caller, ErrorBody, Json};
use crate::app::App;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portico_directory::ActorKind;
use portico_oidc::auth_policy::{AuthenticationPolicyPatch, PolicyError};
use portico_policy::TenantSettings;
use serde::Serialize;
use utoipa::ToSchema;

pub const PERMISSION: &str = "Policy.ReadWrite.AuthenticationMethod";

/// The authentication policy (`authenticationPolicy`).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AuthenticationPolicy)]
pub struct AuthenticationPolicyView {
    /// Always `authenticationPolicy`.
    id: &'static str,
    /// Who must use a second factor at every sign-in.
    #[schema(value_type = MfaScopeName)]
    require_mfa_for: &'static str,
    /// How long a second factor is remembered on a device (0: never).
    remember_mfa_minutes: i64,
    email_otp_as_second_factor: bool,
    passkey_only_sign_in: bool,
}

/// `requireMfaFor`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum MfaScopeName {
    None,
    Guests,
    Everyone,
}

/// A change of the policy; absent fields keep their value.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct AuthenticationPolicyPatchBody {
    require_mfa_for: Option<MfaScopeName>,
    /// 0 to 43200 (30 days).
    remember_mfa_minutes: Option<i64>,
    email_otp_as_second_factor: Option<bool>,
    passkey_only_sign_in: Option<bool>,
}

fn view(p: &TenantSettings) -> AuthenticationPolicyView {
    AuthenticationPolicyView {
        id: "authenticationPolicy",
        require_mfa_for: p.require_mfa_for.as_str(),
        remember_mfa_minutes: p.remember_mfa_minutes,
        email_otp_as_second_factor: p.email_otp_as_second_factor,
        passkey_only_sign_in: p.passkey_only_sign_in,
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/policies/authenticationPolicy",
    tag = "policies",
    description = "When MFA applies and how. Needs Policy.ReadWrite.AuthenticationMethod.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    responses(
        (status = 200, description = "The policy", body = AuthenticationPolicyView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Policy.ReadWrite.AuthenticationMethod", body = ErrorBody),
    ),
)]
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
    Ok(axum::Json(view(&p)).into_response())
}

#[utoipa::path(
    patch,
    path = "/api/v1/policies/authenticationPolicy",
    tag = "policies",
    description = "Changes the authentication policy (audited). Needs Policy.ReadWrite.AuthenticationMethod.",
    extensions(("x-permissions" = json!([PERMISSION]))),
    request_body = AuthenticationPolicyPatchBody,
    responses(
        (status = 200, description = "The changed policy", body = AuthenticationPolicyView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Policy.ReadWrite.AuthenticationMethod", body = ErrorBody),
    ),
)]
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
        Ok(p) => Ok(axum::Json(view(&p)).into_response()),
        Err(PolicyError::Invalid(m)) => Err(ApiError::bad_request(m)),
        Err(PolicyError::Store(e)) => Err(ApiError::internal(e)),
    }
}
