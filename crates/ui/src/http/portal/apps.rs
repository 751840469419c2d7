//! `/admin/applications`: the app registrations (OIDC clients), as an Entra
//! admin knows them: the list, the registration form, each application's page
//! (its settings, delegated permissions, client secret, assignments and
//! owners) and its deletion behind a confirmation page.
//!
//! Every change goes through the same services as the admin API
//! (`Provider::register_client`, `update_client`, `reset_client_secret`,
//! `delete_client`; `POST/PATCH/DELETE /api/v1/applications`), so the portal
//! accepts exactly what the API accepts and every change is audited there.
//! A refused form is shown again with the message and what was entered; a
//! client secret is shown once, on the page that answers the registration or
//! the reset, and never stored in clear.
//!
//! Assignments and owners are in [`super::app_access`]; Portico's own
//! clients (the portal, My Apps) are listed but not edited here (their
//! `requireMfa` is on the Authentication page).

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{field, lines, parse_id, show_time};
use super::signin::CsrfForm;

use super::views::{Chrome, ConfirmPage, PeopleSection, PersonRow, Section, yes_no};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::Form;
use portico_oidc::clients::{ClientError, ClientPatch, DELEGATED_PERMISSIONS, NewClient};
use portico_oidc::model::{Client, ClientType};
use serde::Deserialize;
use uuid::Uuid;

/// One row of the applications table.
struct AppRow {
    id: Uuid,
    name: String,
    client_id: String,
    kind: &'static str,
    assignment_required: &'static str,
    first_party: bool,
}

fn kind(c: &Client) -> &'static str {
    match c.client_type {
        ClientType::Confidential => "Confidential (web app)",
        ClientType::Public => "Public (SPA, mobile, desktop)",
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_apps.html")]
struct AppsPage {
    chrome: Chrome,
    rows: Vec<AppRow>,
    form: AppForm,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// The registration and edit forms as entered; re-shown unchanged when
/// refused. URIs are one per line.
#[derive(Deserialize, Default, Clone)]
pub struct AppForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    /// `confidential` or `public` (registration only: the type is fixed).
    #[serde(default)]
    client_type: String,
    #[serde(default)]
    redirect_uris: String,
    #[serde(default)]
    post_logout_redirect_uris: String,
    #[serde(default)]
    initiate_login_uri: String,
    #[serde(default)]
    logo_uri: String,
    /// Checkboxes: present when ticked.
    assignment_required: Option<String>,
    require_mfa: Option<String>,
    /// The ticked delegated permissions (repeated field).
    #[serde(default)]
    delegated: Vec<String>,
}

impl AppForm {
    fn of(c: &Client) -> Self {
        AppForm {
            csrf: String::new(),
            display_name: c.display_name.clone(),
            client_type: String::new(),
            redirect_uris: c.redirect_uris.join("\n"),
            post_logout_redirect_uris: c.post_logout_redirect_uris.join("\n"),
            initiate_login_uri: c.initiate_login_uri.clone().unwrap_or_default(),
            logo_uri: c.logo_uri.clone().unwrap_or_default(),
            assignment_required: c.app_role_assignment_required.then(|| "on".into()),
            require_mfa: c.require_mfa.then(|| "on".into()),
            delegated: c.delegated_permissions.clone(),
        }
    }

    fn is_public(&self) -> bool {
        self.client_type == "public"
    }

    /// Graph's registration body; the API's defaults apply to the rest.
    fn to_new(&self) -> Result<NewClient, ClientError> {
        let client_type = match self.client_type.as_str() {
            "confidential" => ClientType::Confidential,
            "public" => ClientType::Public,
            _ => {
                return Err(ClientError::Invalid(
                    "Choose the application's type: confidential or public.".into(),
                ));
            }
        };
        let own = |s: &str| field(Some(s)).map(str::to_string);
        Ok(NewClient {
            display_name: self.display_name.clone(),
            redirect_uris: lines(&self.redirect_uris),
            post_logout_redirect_uris: lines(&self.post_logout_redirect_uris),
            client_type,
            token_endpoint_auth_method: None,
            grant_types: None,
            backchannel_logout_uri: None,
            require_mfa: false,
            require_pkce: None,
            app_role_assignment_required: false,
            group_membership_claims: None,
            initiate_login_uri: own(&self.initiate_login_uri),
            logo_uri: own(&self.logo_uri),
            id_token_signed_response_alg: None,
            delegated_permissions: None,
        })
    }

    /// The edit form's patch: every field it shows (an empty URI clears it).
    fn to_patch(&self) -> ClientPatch {
        ClientPatch {
            display_name: Some(self.display_name.clone()),
            redirect_uris: Some(lines(&self.redirect_uris)),
            post_logout_redirect_uris: Some(lines(&self.post_logout_redirect_uris)),
            initiate_login_uri: Some(self.initiate_login_uri.trim().to_string()),
            logo_uri: Some(self.logo_uri.trim().to_string()),
            app_role_assignment_required: Some(self.assignment_required.is_some()),
            require_mfa: Some(self.require_mfa.is_some()),
            delegated_permissions: Some(self.delegated.clone()),
            ..Default::default()
        }
    }

    /// `DELEGATED_PERMISSIONS` with whether each is ticked.
    fn permissions(&self) -> Vec<(&'static str, bool)> {
        DELEGATED_PERMISSIONS
            .iter()
            .map(|p| (*p, self.delegated.iter().any(|d| d == p)))
            .collect()
    }
}

/// A refusal the form can show; anything else is an error page.
pub fn client_message(e: ClientError) -> Result<String, PortalError> {
    match e {
        ClientError::Invalid(m) => Ok(m),
        ClientError::Store(portico_oidc::store::StoreError::Conflict(m)) => Ok(m),
        ClientError::NotFound => Err(PortalError::NotFound),
        ClientError::Store(e) => Err(PortalError::internal(e)),
    }
}

async fn render_list(
    s: &UiState,
    admin: &Admin,
    form: AppForm,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut clients = s
        .provider
        .store
        .list_clients()
        .await
        .map_err(PortalError::internal)?;
    clients.sort_by_key(|c| c.display_name.to_lowercase());
    let rows = clients
        .iter()
        .map(|c| AppRow {
            id: c.id,
            name: c.display_name.clone(),
            client_id: c.client_id.clone(),
            kind: kind(c),
            assignment_required: yes_no(c.app_role_assignment_required),
            first_party: c.first_party,
        })
        .collect();
    let page = AppsPage {
        chrome: Chrome::new(admin, Section::Applications),
        rows,
        form,
        notice,
        error,
    };
    Ok((status, page).into_response())
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

/// The notice of `?notice=`; only known codes, so nothing from the URL is
/// echoed onto the page.
fn notice_text(
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Option<&'static str> {
    Some(match q.ok()?.0.notice.as_deref()? {
        "deleted" => "The application was deleted.",
        "saved" => "The application was saved.",
        "assigned" => "The assignment was added.",
        "unassigned" => "The assignment was removed.",
        "owner-added" => "The owner was added.",
        "owner-removed" => "The owner was removed.",
        _ => return None,
    })
}

/// `GET /admin/applications`.
pub async fn apps_get(
    admin: Admin,
    State(s): State<UiState>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PortalError> {
    let form = AppForm {
        client_type: "confidential".into(),
        ..Default::default()
    };
    render_list(&s, &admin, form, notice_text(q), None).await
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_app_secret.html")]
struct SecretPage {
    chrome: Chrome,
    id: Uuid,
    name: String,
    client_id: String,
    secret: Option<String>,
    /// Registered (not reset).
    created: bool,
}

/// The one page that shows a secret: never cached, never stored.
fn secret_page(admin: &Admin, c: &Client, secret: Option<String>, created: bool) -> Response {
    let page = SecretPage {
        chrome: Chrome::new(admin, Section::Applications),
        id: c.id,
        name: c.display_name.clone(),
        client_id: c.client_id.clone(),
        secret,
        created,
    };
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, [(header::CACHE_CONTROL, "no-store")], page).into_response()
}

/// `POST /admin/applications`: registers an application and answers with
/// its client id and (confidential) secret, shown this once.
pub async fn apps_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(form): Form<AppForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    let registered = match form.to_new() {
        Ok(n) => s.provider.register_client(n, vec![], &admin.actor()).await,
        Err(e) => Err(e),
    };
    match registered {
        Ok((c, secret)) => Ok(secret_page(&admin, &c, secret, true)),
        Err(e) => {
            let m = client_message(e)?;
            render_list(&s, &admin, form, None, Some(m)).await
        }
    }
}

/// What the app page shows of the assignments and owners.
pub struct AssignmentRow {
    pub id: Uuid,
    pub principal_id: Uuid,
    pub name: String,
    pub kind: &'static str,
    pub since: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_app.html")]
struct AppPage {
    chrome: Chrome,
    id: Uuid,
    client_id: String,
    kind: &'static str,
    public: bool,
    first_party: bool,
    created: String,
    form: AppForm,
    permissions: Vec<(&'static str, bool)>,
    assignments: Vec<AssignmentRow>,
    owners: PeopleSection,
    /// What was typed in the assign form, kept when refused.
    assign_to: String,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// A refused action on the app page: its message and what was entered.
#[derive(Default)]
pub struct Refused {
    pub message: String,
    pub form: Option<AppForm>,
    pub assign_to: String,
    pub owner_email: String,
}

pub async fn find_app(s: &UiState, id: Uuid) -> Result<Client, PortalError> {
    s.provider
        .store
        .find_client_by_id(id)
        .await
        .map_err(PortalError::internal)?
        .ok_or(PortalError::NotFound)
}

/// The application's page; with `refused`, as a 400 with its message.
pub async fn render_app(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    notice: Option<&'static str>,
    refused: Option<Refused>,
) -> Result<Response, PortalError> {
    let c = find_app(s, id).await?;
    let assignments = s
        .groups
        .assignments(id)
        .await?
        .into_iter()
        .map(|a| AssignmentRow {
            id: a.id,
            principal_id: a.principal_id,
            name: a.principal_display_name,
            kind: a.principal_type.as_str(),
            since: show_time(a.created_at),
        })
        .collect();
    let owners = s
        .groups
        .app_owners(id)
        .await?
        .into_iter()
        .map(PersonRow::of)
        .collect();
    let (status, r) = match refused {
        Some(r) => (StatusCode::BAD_REQUEST, r),
        None => (StatusCode::OK, Refused::default()),
    };
    let form = r.form.unwrap_or_else(|| AppForm::of(&c));
    let page = AppPage {
        chrome: Chrome::new(admin, Section::Applications),
        id,
        client_id: c.client_id.clone(),
        kind: kind(&c),
        public: c.client_type == ClientType::Public,
        first_party: c.first_party,
        created: show_time(c.created_at),
        permissions: form.permissions(),
        form,
        assignments,
        owners: PeopleSection {
            title: "Owners",
            which: "owners",
            note: Some(
                "Owners manage, from My Apps, the members of the groups assigned to the app that they also own.",
            ),
            action: format!("/admin/applications/{id}/owners"),
            rows: owners,
            typed: r.owner_email,
        },
        assign_to: r.assign_to,
        notice,
        error: (!r.message.is_empty()).then_some(r.message),
    };
    Ok((status, page).into_response())
}

/// `GET /admin/applications/{id}`.
pub async fn app_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    render_app(&s, &admin, id, notice_text(q), None).await
}

/// `POST /admin/applications/{id}`: saves the settings form, as
/// `PATCH /api/v1/applications/{id}` would.
pub async fn app_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(form): Form<AppForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    if find_app(&s, id).await?.first_party {
        return Err(PortalError::BadRequest(
            "Portico's own clients are configured by the deployment; set their MFA on the Authentication page.".into(),
        ));
    }
    match s
        .provider
        .update_client(id, form.to_patch(), &admin.actor())
        .await
    {
        Ok(_) => {
            Ok(Redirect::to(&format!("/admin/applications/{id}?notice=saved")).into_response())
        }
        Err(e) => {
            let message = client_message(e)?;
            let refused = Refused {
                message,
                form: Some(form),
                ..Default::default()
            };
            render_app(&s, &admin, id, None, Some(refused)).await
        }
    }
}

/// `POST /admin/applications/{id}/reset-secret`: a new secret, shown once;
/// the old one stops working at once.
pub async fn reset_secret_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    match s.provider.reset_client_secret(id, &admin.actor()).await {
        Ok((c, secret)) => Ok(secret_page(&admin, &c, Some(secret), false)),
        Err(e) => {
            let refused = Refused {
                message: client_message(e)?,
                ..Default::default()
            };
            render_app(&s, &admin, id, None, Some(refused)).await
        }
    }
}

/// `GET /admin/applications/{id}/delete`: the confirmation page.
pub async fn delete_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let c = find_app(&s, id).await?;
    if c.first_party {
        return Err(PortalError::BadRequest(
            "Portico's own clients cannot be deleted.".into(),
        ));
    }
    let page = ConfirmPage {
        chrome: Chrome::new(&admin, Section::Applications),
        title: format!("Delete {}?", c.display_name),
        consequence: "Its sign-ins stop at once: its tokens, consents, owners and assignments are deleted with it. This cannot be undone.".into(),
        action: format!("/admin/applications/{id}/delete"),
        cancel: format!("/admin/applications/{id}"),
    };
    Ok(page.into_response())
}

/// `POST /admin/applications/{id}/delete`.
pub async fn delete_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    if find_app(&s, id).await?.first_party {
        return Err(PortalError::BadRequest(
            "Portico's own clients cannot be deleted.".into(),
        ));
    }
    match s.provider.delete_client(id, &admin.actor()).await {
        Ok(()) => Ok(Redirect::to("/admin/applications?notice=deleted").into_response()),
        Err(e) => Err(PortalError::BadRequest(client_message(e)?)),
    }
}

impl AppPage {
    fn is_checked(o: &Option<String>) -> bool {
        o.is_some()
    }
}

impl AppsPage {
    fn public_checked(&self) -> bool {
        self.form.is_public()
    }
}
