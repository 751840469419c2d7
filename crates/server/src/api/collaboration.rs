//! External collaboration settings, in Graph's shapes:
//! `GET`/`PATCH /api/v1/policies/authorizationPolicy` (`allowInvitesFrom`,
//! `guestUserRoleId`) and `GET`/`PATCH /api/v1/policies/invitationDomainsPolicy`
//! (`allowedDomains`, `blockedDomains`). Reading needs `Policy.Read.All`
//! (or the write permission); writing `Policy.ReadWrite.Authorization`.

use super::{ApiError, Caller, ErrorBody, Json};
use crate::app::App;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portico_directory::collaboration::{
    AuthorizationPolicyPatch, CollaborationPolicy, InvitationDomainsPatch,
};
use serde::Serialize;
use utoipa::ToSchema;

pub const READ: &str = "Policy.Read.All";
pub const WRITE: &str = "Policy.ReadWrite.Authorization";

fn require_read(caller: &Caller) -> Result<(), ApiError> {
    caller.require(WRITE).or_else(|_| caller.require(READ))
}

/// Graph's `authorizationPolicy` (the part Portico has).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = AuthorizationPolicy)]
pub struct AuthorizationPolicyView {
    /// Always `authorizationPolicy`.
    id: &'static str,
    #[schema(value_type = AllowInvitesFromName)]
    allow_invites_from: &'static str,
    /// Graph's guest role template ids.
    guest_user_role_id: String,
    /// Whether application owners manage their groups from My Apps.
    owners_may_manage_membership: bool,
}

/// `allowInvitesFrom`.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase")]
#[allow(dead_code)]
pub enum AllowInvitesFromName {
    None,
    AdminsAndGuestInviters,
    AdminsGuestInvitersAndAllMembers,
    Everyone,
}

/// Graph's `invitationDomainsPolicy` (B2B domain allow-list and deny-list).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[schema(as = InvitationDomainsPolicy)]
pub struct DomainsView {
    /// Always `invitationDomainsPolicy`.
    id: &'static str,
    allowed_domains: Vec<String>,
    blocked_domains: Vec<String>,
}

/// A change of the domain lists; absent lists keep their value.
#[derive(ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
#[allow(dead_code)]
pub struct InvitationDomainsPatchBody {
    allowed_domains: Option<Vec<String>>,
    blocked_domains: Option<Vec<String>>,
}

fn authorization_view(p: &CollaborationPolicy) -> AuthorizationPolicyView {
    AuthorizationPolicyView {
        id: "authorizationPolicy",
        allow_invites_from: p.allow_invites_from.as_str(),
        guest_user_role_id: p.guest_user_role_id.clone(),
        owners_may_manage_membership: p.owners_may_manage_membership,
    }
}

fn domains_view(p: &CollaborationPolicy) -> DomainsView {
    DomainsView {
        id: "invitationDomainsPolicy",
        allowed_domains: p.allowed_domains.clone(),
        blocked_domains: p.blocked_domains.clone(),
    }
}

#[utoipa::path(
    get,
    path = "/api/v1/policies/authorizationPolicy",
    tag = "policies",
    description = "Who may invite guests. Needs Policy.Read.All or Policy.ReadWrite.Authorization.",
    extensions(("x-permissions" = json!([READ, WRITE]))),
    responses(
        (status = 200, description = "The policy", body = AuthorizationPolicyView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody),
    ),
)]
pub async fn authorization_policy_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let p = app.invitations.collaboration_policy().await?;
    Ok(axum::Json(authorization_view(&p)).into_response())
}

/// The PATCH body: Graph's fields plus Portico's `ownersMayManageMembership`
/// (whether application owners manage their groups from My Apps).
#[derive(serde::Deserialize, ToSchema)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationPolicyBody {
    #[schema(value_type = Option<AllowInvitesFromName>)]
    allow_invites_from: Option<String>,
    guest_user_role_id: Option<String>,
    owners_may_manage_membership: Option<bool>,
}

#[utoipa::path(
    patch,
    path = "/api/v1/policies/authorizationPolicy",
    tag = "policies",
    description = "Changes who may invite guests (audited). Needs Policy.ReadWrite.Authorization.",
    extensions(("x-permissions" = json!([WRITE]))),
    request_body = AuthorizationPolicyBody,
    responses(
        (status = 200, description = "The changed policy", body = AuthorizationPolicyView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Policy.ReadWrite.Authorization", body = ErrorBody),
    ),
)]
pub async fn authorization_policy_patch(
    State(app): State<App>,
    caller: Caller,
    Json(body): Json<AuthorizationPolicyBody>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let patch = AuthorizationPolicyPatch {
        allow_invites_from: body.allow_invites_from,
        guest_user_role_id: body.guest_user_role_id,
    };
    let owners = body.owners_may_manage_membership;
    let p = app
        .invitations
        .update_collaboration_policy(
            |p| {
                let mut p = patch.apply(p)?;
                if let Some(v) = owners {
                    p.owners_may_manage_membership = v;
                }
                Ok(p)
            },
            &caller.actor,
            "Update authorization policy",
            "authorizationPolicy",
        )
        .await?;
    Ok(axum::Json(authorization_view(&p)).into_response())
}

#[utoipa::path(
    get,
    path = "/api/v1/policies/invitationDomainsPolicy",
    tag = "policies",
    description = "The domains guests may (not) be invited from. Needs Policy.Read.All or Policy.ReadWrite.Authorization.",
    extensions(("x-permissions" = json!([READ, WRITE]))),
    responses(
        (status = 200, description = "The policy", body = DomainsView),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Policy.Read.All", body = ErrorBody),
    ),
)]
pub async fn invitation_domains_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let p = app.invitations.collaboration_policy().await?;
    Ok(axum::Json(domains_view(&p)).into_response())
}

#[utoipa::path(
    patch,
    path = "/api/v1/policies/invitationDomainsPolicy",
    tag = "policies",
    description = "Changes the domain lists (audited). Needs Policy.ReadWrite.Authorization.",
    extensions(("x-permissions" = json!([WRITE]))),
    request_body = InvitationDomainsPatchBody,
    responses(
        (status = 200, description = "The changed policy", body = DomainsView),
        (status = 400, description = "Invalid body", body = ErrorBody),
        (status = 401, description = "No valid bearer token", body = ErrorBody),
        (status = 403, description = "The token lacks Policy.ReadWrite.Authorization", body = ErrorBody),
    ),
)]
pub async fn invitation_domains_patch(
    State(app): State<App>,
    caller: Caller,
    Json(patch): Json<InvitationDomainsPatch>,
) -> Result<Response, ApiError> {
    caller.require(WRITE)?;
    let p = app
        .invitations
        .update_collaboration_policy(
            |p| patch.apply(p),
            &caller.actor,
            "Update invitation domains policy",
            "invitationDomainsPolicy",
        )
        .await?;
    Ok(axum::Json(domains_view(&p)).into_response())
}
