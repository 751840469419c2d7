//! `/admin/collaboration`: the external collaboration settings, the same
//! document as the admin API's `authorizationPolicy` and
//! `invitationDomainsPolicy`: who may invite guests (`allowInvitesFrom`), what
//! guests see of the directory (`guestUserRoleId`), and the invitation domains
//! (an allow-list and a deny-list, one domain or `*.domain` per line). A save
//! goes through the same validation as the API and is audited with the admin.

use super::auth::Admin;
use super::error::PortalError;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::DirectoryError;
use portico_directory::collaboration::{
    AuthorizationPolicyPatch, CollaborationPolicy, GUEST_ROLE_LIMITED, GUEST_ROLE_RESTRICTED,
    GUEST_ROLE_SAME_AS_MEMBERS, InvitationDomainsPatch,
};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "admin_collaboration.html")]
struct CollaborationPage {
    chrome: Chrome,
    allow_invites_from: String,
    guest_user_role_id: String,
    allowed_domains: String,
    blocked_domains: String,
    owners_manage: bool,
    same_as_members: &'static str,
    limited: &'static str,
    restricted: &'static str,
    notice: Option<&'static str>,
    error: Option<String>,
}

impl CollaborationPage {
    fn new(admin: &Admin, f: SettingsForm) -> Self {
        CollaborationPage {
            chrome: Chrome::new(admin, Section::Collaboration),
            allow_invites_from: f.allow_invites_from,
            guest_user_role_id: f.guest_user_role_id,
            allowed_domains: f.allowed_domains,
            blocked_domains: f.blocked_domains,
            owners_manage: f.owners_may_manage_membership.is_some(),
            same_as_members: GUEST_ROLE_SAME_AS_MEMBERS,
            limited: GUEST_ROLE_LIMITED,
            restricted: GUEST_ROLE_RESTRICTED,
            notice: None,
            error: None,
        }
    }
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

/// The form as posted (and as shown: a refused save keeps what was typed).
#[derive(Deserialize, Default)]
pub struct SettingsForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    allow_invites_from: String,
    #[serde(default)]
    guest_user_role_id: String,
    #[serde(default)]
    allowed_domains: String,
    #[serde(default)]
    blocked_domains: String,
    /// A checkbox: present when ticked.
    #[serde(default)]
    owners_may_manage_membership: Option<String>,
}

impl SettingsForm {
    fn of(p: &CollaborationPolicy) -> Self {
        SettingsForm {
            csrf: String::new(),
            allow_invites_from: p.allow_invites_from.as_str().to_string(),
            guest_user_role_id: p.guest_user_role_id.clone(),
            allowed_domains: p.allowed_domains.join("\n"),
            blocked_domains: p.blocked_domains.join("\n"),
            owners_may_manage_membership: p.owners_may_manage_membership.then(|| "on".into()),
        }
    }
}

/// One domain per line (commas and spaces also separate).
fn domains(text: &str) -> Vec<String> {
    text.split(|c: char| c == ',' || c.is_whitespace())
        .filter(|d| !d.is_empty())
        .map(str::to_string)
        .collect()
}

pub async fn collaboration_get(
    admin: Admin,
    State(s): State<UiState>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PortalError> {
    let p = s.invitations.collaboration_policy().await?;
    let mut page = CollaborationPage::new(&admin, SettingsForm::of(&p));
    if q.ok().and_then(|Query(q)| q.notice).as_deref() == Some("saved") {
        page.notice = Some("The external collaboration settings were saved.");
    }
    Ok(page.into_response())
}

pub async fn collaboration_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(f): Form<SettingsForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let who = AuthorizationPolicyPatch {
        allow_invites_from: Some(f.allow_invites_from.clone()),
        guest_user_role_id: Some(f.guest_user_role_id.clone()),
    };
    let lists = InvitationDomainsPatch {
        allowed_domains: Some(domains(&f.allowed_domains)),
        blocked_domains: Some(domains(&f.blocked_domains)),
    };
    let owners = f.owners_may_manage_membership.is_some();
    let saved = s
        .invitations
        .update_collaboration_policy(
            |p| {
                let mut p = lists.apply(who.apply(p)?)?;
                p.owners_may_manage_membership = owners;
                Ok(p)
            },
            &admin.actor(),
            "Update external collaboration settings",
            "authorizationPolicy",
        )
        .await;
    match saved {
        Ok(_) => Ok(Redirect::to("/admin/collaboration?notice=saved").into_response()),
        Err(DirectoryError::Invalid(m)) => {
            let mut page = CollaborationPage::new(&admin, f);
            page.error = Some(m);
            Ok((StatusCode::BAD_REQUEST, page).into_response())
        }
        Err(e) => Err(e.into()),
    }
}
