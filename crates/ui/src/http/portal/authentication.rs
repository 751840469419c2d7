//! `/admin/authentication`: the tenant's authentication policy (when MFA
//! applies, how long it is remembered, email as a second factor, passkey-only
//! sign-in) and each application's `requireMfa`, `requirePkce` (confidential
//! applications only may stop requiring PKCE) and `appRoleAssignmentRequired`
//! (never on Portico's own clients). The same services as the
//! admin API (`/api/v1/policies/authenticationPolicy`,
//! `PATCH /api/v1/applications/{id}`); policy changes are audited.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::parse_id;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_oidc::auth_policy::{AuthenticationPolicyPatch, PolicyError};
use portico_oidc::clients::{ClientError, ClientPatch};
use serde::Deserialize;

struct AppRow {
    id: String,
    name: String,
    client_id: String,
    require_mfa: bool,
    require_pkce: bool,
    /// Public clients always require PKCE: no button.
    public: bool,
    /// `appRoleAssignmentRequired`; Portico's own clients are never gated (no button).
    assignment_required: bool,
    first_party: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_authentication.html")]
struct AuthenticationPage {
    chrome: Chrome,
    require_mfa_for: &'static str,
    remember_mfa_minutes: String,
    email_otp: bool,
    passkey_only: bool,
    apps: Vec<AppRow>,
    notice: Option<&'static str>,
    error: Option<String>,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

async fn render(
    s: &UiState,
    admin: &Admin,
    notice: Option<&'static str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PortalError> {
    let p = s
        .provider
        .authentication_policy()
        .await
        .map_err(PortalError::internal)?;
    let clients = s
        .provider
        .store
        .list_clients()
        .await
        .map_err(PortalError::internal)?;
    let apps = clients
        .into_iter()
        // The portal and Portico's own client are listed too: requiring MFA
        // for the portal is how admins get it without requiring it of everyone.
        .filter(|c| c.permissions.is_empty() || c.first_party)
        .map(|c| AppRow {
            id: c.id.to_string(),
            name: c.display_name,
            client_id: c.client_id,
            require_mfa: c.require_mfa,
            require_pkce: c.require_pkce,
            public: c.client_type == portico_oidc::model::ClientType::Public,
            assignment_required: c.app_role_assignment_required,
            first_party: c.first_party,
        })
        .collect();
    let (status, error) = match error {
        Some((status, e)) => (status, Some(e)),
        None => (StatusCode::OK, None),
    };
    let page = AuthenticationPage {
        chrome: Chrome::new(admin, Section::Authentication),
        require_mfa_for: p.require_mfa_for.as_str(),
        remember_mfa_minutes: p.remember_mfa_minutes.to_string(),
        email_otp: p.email_otp_as_second_factor,
        passkey_only: p.passkey_only_sign_in,
        apps,
        notice,
        error,
    };
    Ok((status, page).into_response())
}

pub async fn authentication_get(
    admin: Admin,
    State(s): State<UiState>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PortalError> {
    let notice = match q.ok().and_then(|Query(q)| q.notice).as_deref() {
        Some("saved") => Some("The authentication policy was saved."),
        Some("app") => Some("The application was updated."),
        _ => None,
    };
    render(&s, &admin, notice, None).await
}

#[derive(Deserialize)]
pub struct PolicyForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    require_mfa_for: String,
    #[serde(default)]
    remember_mfa_minutes: String,
    #[serde(default)]
    email_otp_as_second_factor: Option<String>,
    #[serde(default)]
    passkey_only_sign_in: Option<String>,
}

pub async fn authentication_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(f): Form<PolicyForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let bad = |m: String| Some((StatusCode::BAD_REQUEST, m));
    let Ok(minutes) = f.remember_mfa_minutes.trim().parse::<i64>() else {
        let msg = "rememberMfaMinutes must be a whole number of minutes.".to_string();
        return render(&s, &admin, None, bad(msg)).await;
    };
    let patch = AuthenticationPolicyPatch {
        require_mfa_for: Some(f.require_mfa_for.clone()),
        remember_mfa_minutes: Some(minutes),
        email_otp_as_second_factor: Some(f.email_otp_as_second_factor.is_some()),
        passkey_only_sign_in: Some(f.passkey_only_sign_in.is_some()),
    };
    let actor = admin.actor();
    let who = ("User", actor.id, actor.display_name);
    match s.provider.update_authentication_policy(&patch, who).await {
        Ok(_) => Ok(Redirect::to("/admin/authentication?notice=saved").into_response()),
        Err(PolicyError::Invalid(m)) => render(&s, &admin, None, bad(m)).await,
        Err(PolicyError::Store(e)) => Err(PortalError::internal(e)),
    }
}

/// Applies an application patch from the page, audited with the admin as actor.
async fn update_app(
    s: &UiState,
    admin: &Admin,
    id: uuid::Uuid,
    patch: ClientPatch,
) -> Result<(), ClientError> {
    s.provider.update_client(id, patch, &admin.actor()).await?;
    Ok(())
}

#[derive(Deserialize)]
pub struct RequireMfaForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    require_mfa: String,
}

pub async fn require_mfa_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<RequireMfaForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let patch = ClientPatch {
        require_mfa: Some(f.require_mfa == "on"),
        ..Default::default()
    };
    match update_app(&s, &admin, id, patch).await {
        Ok(_) => Ok(Redirect::to("/admin/authentication?notice=app").into_response()),
        Err(ClientError::NotFound) => Err(PortalError::NotFound),
        Err(ClientError::Invalid(m)) => Err(PortalError::BadRequest(m)),
        Err(ClientError::Store(e)) => Err(PortalError::internal(e)),
    }
}

#[derive(Deserialize)]
pub struct RequirePkceForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    require_pkce: String,
}

/// `POST /admin/applications/{id}/require-pkce`: the same rule as the API
/// (a public client cannot stop requiring PKCE).
pub async fn require_pkce_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<RequirePkceForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let patch = ClientPatch {
        require_pkce: Some(f.require_pkce == "on"),
        ..Default::default()
    };
    match update_app(&s, &admin, id, patch).await {
        Ok(_) => Ok(Redirect::to("/admin/authentication?notice=app").into_response()),
        Err(ClientError::NotFound) => Err(PortalError::NotFound),
        Err(ClientError::Invalid(m)) => {
            render(&s, &admin, None, Some((StatusCode::BAD_REQUEST, m))).await
        }
        Err(ClientError::Store(e)) => Err(PortalError::internal(e)),
    }
}

#[derive(Deserialize)]
pub struct AssignmentRequiredForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    assignment_required: String,
}

/// `POST /admin/applications/{id}/assignment-required`: only users assigned
/// to the app (directly or through a group) may sign in to it.
pub async fn assignment_required_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<AssignmentRequiredForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let patch = ClientPatch {
        app_role_assignment_required: Some(f.assignment_required == "on"),
        ..Default::default()
    };
    match update_app(&s, &admin, id, patch).await {
        Ok(_) => Ok(Redirect::to("/admin/authentication?notice=app").into_response()),
        Err(ClientError::NotFound) => Err(PortalError::NotFound),
        Err(ClientError::Invalid(m)) => {
            render(&s, &admin, None, Some((StatusCode::BAD_REQUEST, m))).await
        }
        Err(ClientError::Store(e)) => Err(PortalError::internal(e)),
    }
}
