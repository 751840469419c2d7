//! External collaboration settings, in Graph's shapes:
//! `GET`/`PATCH /api/v1/policies/authorizationPolicy` (`allowInvitesFrom`,
//! `guestUserRoleId`) and `GET`/`PATCH /api/v1/policies/invitationDomainsPolicy`
//! (`allowedDomains`, `blockedDomains`). Reading needs `Policy.Read.All`
//! (or the write permission); writing `Policy.ReadWrite.Authorization`.

use super::{ApiError, Caller, Json};
use crate::app::App;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use portico_directory::collaboration::{
    AuthorizationPolicyPatch, CollaborationPolicy, InvitationDomainsPatch,
};
use serde_json::{Value, json};

pub const READ: &str = "Policy.Read.All";
pub const WRITE: &str = "Policy.ReadWrite.Authorization";

fn require_read(caller: &Caller) -> Result<(), ApiError> {
    caller.require(WRITE).or_else(|_| caller.require(READ))
}

fn authorization_json(p: &CollaborationPolicy) -> Value {
    json!({
        "id": "authorizationPolicy",
        "allowInvitesFrom": p.allow_invites_from.as_str(),
        "guestUserRoleId": p.guest_user_role_id,
        "ownersMayManageMembership": p.owners_may_manage_membership,
    })
}

fn domains_json(p: &CollaborationPolicy) -> Value {
    json!({
        "id": "invitationDomainsPolicy",
        "allowedDomains": p.allowed_domains,
        "blockedDomains": p.blocked_domains,
    })
}

pub async fn authorization_policy_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let p = app.invitations.collaboration_policy().await?;
    Ok(axum::Json(authorization_json(&p)).into_response())
}

/// The PATCH body: Graph's fields plus Portico's `ownersMayManageMembership`
/// (whether application owners manage their groups from My Apps).
#[derive(serde::Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct AuthorizationPolicyBody {
    allow_invites_from: Option<String>,
    guest_user_role_id: Option<String>,
    owners_may_manage_membership: Option<bool>,
}

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
    Ok(axum::Json(authorization_json(&p)).into_response())
}

pub async fn invitation_domains_get(
    State(app): State<App>,
    caller: Caller,
) -> Result<Response, ApiError> {
    require_read(&caller)?;
    let p = app.invitations.collaboration_policy().await?;
    Ok(axum::Json(domains_json(&p)).into_response())
}

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
    Ok(axum::Json(domains_json(&p)).into_response())
}
