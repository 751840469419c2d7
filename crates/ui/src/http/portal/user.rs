//! One user's page: details, latest invitation, and the forms of the
//! lifecycle actions (handled in `user_actions`). After an action the browser
//! is redirected back here with `?notice=<code>`; only known codes map to
//! fixed sentences, so nothing from the URL is ever echoed onto the page.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{expiry_field, parse_id, show_time};
use super::views::{Chrome, Section, yes_no};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::invitations::InvitationStatus;
use portico_directory::{ActorKind, User};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "admin_user.html")]
pub struct UserPage {
    chrome: Chrome,
    u: User,
    state: &'static str,
    state_changed: String,
    enabled: &'static str,
    expiry: String,
    sponsor: String,
    created: String,
    invitation: Option<InvitationView>,
    notice: Option<&'static str>,
    error: Option<String>,
    /// The edit form's values: the stored ones, or what was entered when an
    /// edit was refused.
    edit_name: String,
    edit_expiry: String,
}

pub struct InvitationView {
    status: &'static str,
    /// Pending and unexpired, or expired: it may be resent (with a fresh
    /// link) or revoked.
    can_resend_or_revoke: bool,
    redeem_url: Option<String>,
    expires: String,
    invited_by: String,
    sent: String,
}

/// The sentence for a `?notice=` code.
pub fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "invited" => "The invitation was created.",
        "existing" => {
            "This email already had a guest with a live invitation: nothing new was sent."
        }
        "updated" => "The user was updated.",
        "unchanged" => "Nothing changed.",
        "disabled" => "The account is disabled: its sessions and tokens were revoked.",
        "enabled" => "The account is enabled.",
        "roles" => "The user's roles were saved.",
        "email-verified" => "The address is marked as verified.",
        "resent" => "The invitation was sent again with a new link; the old link no longer works.",
        "revoked" => "The invitation was revoked; its link no longer works.",
        "mfa-reset" => {
            "The user's authenticator app and recovery codes were removed: the next sign-in that needs a second factor registers a new one."
        }
        "reset" => {
            "The redemption was reset: a new invitation was sent, and the guest must redeem it again."
        }
        _ => return None,
    })
}

/// Renders the page of user `id` with `error` (and the entered edit values).
pub async fn render_user(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    notice: Option<&'static str>,
    error: Option<(StatusCode, String)>,
    edit: Option<(String, String)>,
) -> Result<Response, PortalError> {
    let u = s.directory.find_user(id).await?;
    let now = s.provider.clock.now();
    let invitation = s.invitations.latest_for(id).await?.map(|inv| {
        let status = inv.status(now);
        let pending = status == InvitationStatus::PendingAcceptance;
        InvitationView {
            status: status.as_str(),
            can_resend_or_revoke: pending || status == InvitationStatus::Expired,
            redeem_url: pending.then(|| s.invitations.redeem_url(&inv)),
            expires: show_time(inv.expires_at),
            invited_by: inv.invited_by.display_name.clone(),
            sent: show_time(inv.updated_at),
        }
    });
    let (edit_name, edit_expiry) =
        edit.unwrap_or_else(|| (u.display_name.clone(), expiry_field(u.access_expires_at)));
    let (status, error) = match error {
        Some((status, m)) => (status, Some(m)),
        None => (StatusCode::OK, None),
    };
    let sponsor = match &u.sponsor {
        Some(a) if a.kind == ActorKind::User => a.display_name.clone(),
        Some(a) => format!("{} ({})", a.display_name, a.id),
        None => "—".into(),
    };
    let page = UserPage {
        chrome: Chrome::new(admin, Section::Users),
        state: u.external_user_state.map(|x| x.as_str()).unwrap_or("—"),
        state_changed: u
            .external_user_state_changed_at
            .map(show_time)
            .unwrap_or_default(),
        enabled: yes_no(u.account_enabled),
        expiry: u
            .access_expires_at
            .map(show_time)
            .unwrap_or_else(|| "Never".into()),
        sponsor,
        created: show_time(u.created_at),
        invitation,
        notice,
        error,
        edit_name,
        edit_expiry,
        u,
    };
    Ok((status, page).into_response())
}

#[derive(Deserialize)]
pub struct UserParams {
    notice: Option<String>,
}

pub async fn user_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Query(p): Query<UserParams>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let notice = p.notice.as_deref().and_then(notice_text);
    render_user(&s, &admin, id, notice, None, None).await
}

#[cfg(test)]
mod tests {
    use super::notice_text;

    #[test]
    fn only_known_notices_are_shown() {
        assert!(notice_text("disabled").is_some_and(|t| t.contains("disabled")));
        assert_eq!(notice_text("<script>"), None);
        assert_eq!(notice_text(""), None);
    }
}
