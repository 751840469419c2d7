//! The lifecycle actions of the user page (PRODUCT.md §1 journey 7): edit,
//! disable, enable, delete, resend, revoke, reset redemption, require MFA
//! re-registration, roles (Global Administrator, Guest Inviter; audited as
//! "Update user roles"), mark the address verified. Each is a POST
//! with the CSRF token; success redirects back to the page (post/redirect/get,
//! so reloading never repeats an action); a refusal from the directory
//! (validation, conflict, the last admin) re-renders the page with its message.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{parse_expiry, parse_id};
use super::user::render_user;
use super::views::{Chrome, ConfirmPage, Section};
use crate::http::UiState;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::invitations::GraphInvitation;
use portico_directory::{DirectoryError, UserPatch};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct ActionForm {
    #[serde(default)]
    csrf: String,
    display_name: Option<String>,
    access_expires: Option<String>,
    /// The roles form's checkboxes.
    role_global_admin: Option<String>,
    role_guest_inviter: Option<String>,
}

#[derive(Clone, Copy)]
enum Action {
    Edit,
    Disable,
    Enable,
    Delete,
    Resend,
    Revoke,
    Reset,
    RequireMfaReregistration,
    Roles,
    VerifyEmail,
}

async fn act(
    s: UiState,
    admin: Admin,
    id: String,
    f: ActionForm,
    action: Action,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    match perform(&s, &admin, id, &f, action).await {
        Ok(to) => Ok(Redirect::to(&to).into_response()),
        Err(DirectoryError::NotFound) => Err(PortalError::NotFound),
        Err(DirectoryError::Invalid(m)) => {
            refused(&s, &admin, id, &f, action, StatusCode::BAD_REQUEST, m).await
        }
        Err(DirectoryError::Conflict(m)) => {
            refused(&s, &admin, id, &f, action, StatusCode::CONFLICT, m).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The page again, with the message and (for an edit) what was entered.
async fn refused(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    f: &ActionForm,
    action: Action,
    status: StatusCode,
    message: String,
) -> Result<Response, PortalError> {
    let edit = matches!(action, Action::Edit).then(|| {
        (
            f.display_name.clone().unwrap_or_default(),
            f.access_expires.clone().unwrap_or_default(),
        )
    });
    render_user(s, admin, id, None, Some((status, message)), edit).await
}

/// Does the action; the answer is where to send the browser.
async fn perform(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    f: &ActionForm,
    action: Action,
) -> Result<String, DirectoryError> {
    let actor = admin.actor();
    let page = |notice: &str| format!("/admin/users/{id}?notice={notice}");
    let notice = match action {
        Action::Edit => {
            let user = s.directory.find_user(id).await?;
            let expiry = parse_expiry(f.access_expires.as_deref().unwrap_or_default())
                .map_err(DirectoryError::Invalid)?;
            let name = f.display_name.as_deref().unwrap_or_default().trim();
            // Only what changed goes in the patch, so the audit log shows real changes.
            let patch = UserPatch {
                display_name: (name != user.display_name).then(|| name.to_string()),
                access_expires_at: (expiry != user.access_expires_at).then_some(expiry),
                ..Default::default()
            };
            if patch.display_name.is_none() && patch.access_expires_at.is_none() {
                return Ok(page("unchanged"));
            }
            s.directory.update_user(id, patch, &actor).await?;
            "updated"
        }
        Action::Disable | Action::Enable => {
            let enable = matches!(action, Action::Enable);
            let patch = UserPatch {
                account_enabled: Some(enable),
                ..Default::default()
            };
            s.directory.update_user(id, patch, &actor).await?;
            if enable { "enabled" } else { "disabled" }
        }
        Action::Delete => {
            s.directory.delete_user(id, &actor).await?;
            return Ok("/admin/users".into());
        }
        Action::Resend | Action::Revoke => {
            let inv =
                s.invitations.latest_for(id).await?.ok_or_else(|| {
                    DirectoryError::Invalid("This user has no invitation.".into())
                })?;
            if matches!(action, Action::Resend) {
                s.invitations.resend(inv.id, &actor).await?;
                "resent"
            } else {
                s.invitations.revoke(inv.id, &actor).await?;
                "revoked"
            }
        }
        Action::Reset => {
            let user = s.directory.find_user(id).await?;
            // The new invitation sends the guest where the last one did.
            let redirect = match s.invitations.latest_for(id).await? {
                Some(inv) => inv.redirect_url,
                None => format!("{}/", s.invitations.config().base_url.trim_end_matches('/')),
            };
            let req = GraphInvitation {
                invited_user_email_address: Some(user.mail),
                invite_redirect_url: Some(redirect),
                send_invitation_message: Some(true),
                reset_redemption: Some(true),
                ..Default::default()
            }
            .validate()?;
            s.invitations.invite(&req, &actor, None).await?;
            "reset"
        }
        Action::Roles => {
            let mut roles = Vec::new();
            if f.role_global_admin.is_some() {
                roles.push(portico_directory::ROLE_GLOBAL_ADMINISTRATOR.to_string());
            }
            if f.role_guest_inviter.is_some() {
                roles.push(portico_directory::ROLE_GUEST_INVITER.to_string());
            }
            let patch = UserPatch {
                roles: Some(roles),
                ..Default::default()
            };
            s.directory.update_user(id, patch, &actor).await?;
            "roles"
        }
        Action::VerifyEmail => {
            let patch = UserPatch {
                email_verified: Some(true),
                ..Default::default()
            };
            s.directory.update_user(id, patch, &actor).await?;
            "email-verified"
        }
        Action::RequireMfaReregistration => {
            s.directory.find_user(id).await?;
            s.mfa
                .reset_methods(id, &actor)
                .await
                .map_err(|e| DirectoryError::Internal(anyhow::anyhow!("{e}")))?;
            "mfa-reset"
        }
    };
    Ok(page(notice))
}

/// The confirmation step: a page with the one button that deletes.
pub async fn delete_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let u = s.directory.find_user(id).await?;
    let page = ConfirmPage {
        chrome: Chrome::new(&admin, Section::Users),
        title: format!("Delete {}?", u.display_name),
        consequence: format!(
            "{} will be deleted with its sessions, tokens, consents and invitations. This cannot be undone.",
            u.mail
        ),
        action: format!("/admin/users/{id}/delete"),
        cancel: format!("/admin/users/{id}"),
    };
    Ok(page.into_response())
}

// One thin handler per action, so each route names its action in the router.
macro_rules! action_handler {
    ($name:ident, $action:expr) => {
        pub async fn $name(
            admin: Admin,
            State(s): State<UiState>,
            Path(id): Path<String>,
            Form(f): Form<ActionForm>,
        ) -> Result<Response, PortalError> {
            act(s, admin, id, f, $action).await
        }
    };
}

action_handler!(edit_post, Action::Edit);
action_handler!(disable_post, Action::Disable);
action_handler!(enable_post, Action::Enable);
action_handler!(delete_post, Action::Delete);
action_handler!(resend_post, Action::Resend);
action_handler!(revoke_post, Action::Revoke);
action_handler!(reset_post, Action::Reset);
action_handler!(
    require_mfa_reregistration_post,
    Action::RequireMfaReregistration
);
action_handler!(roles_post, Action::Roles);
action_handler!(verify_email_post, Action::VerifyEmail);
