//! Trusted identity providers: the list with the add form, and one IdP's
//! page (edit, enable/disable, test connection, delete). The forms go
//! through the same federation service as `/api/v1/identityProviders`, so
//! the portal and the API accept exactly the same IdPs. Adding or editing
//! an IdP never contacts it; the "Test connection" button does, and its
//! trace (each step, ok or failed, with what was found) is rendered on the
//! page rather than stored.

use super::auth::Admin;
use super::error::PortalError;
use super::idp_form::{IdpForm, refusal};
use super::parse::{parse_id, show_time};
use super::views::{Chrome, Section, yes_no};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_federation::{IdentityProvider, TestReport};
use serde::Deserialize;
use uuid::Uuid;

const LIST: &str = "/admin/identity-providers";

#[derive(Template, WebTemplate)]
#[template(path = "admin_idps.html")]
struct IdpsPage {
    chrome: Chrome,
    redirect_uri: String,
    rows: Vec<IdpRow>,
    form: IdpForm,
    /// The fields partial is shared; the add form asks for a secret.
    is_edit: bool,
    notice: Option<&'static str>,
    error: Option<String>,
}

struct IdpRow {
    id: String,
    name: String,
    issuer: String,
    domains: String,
    enabled: &'static str,
}

impl IdpRow {
    fn new(i: &IdentityProvider) -> Self {
        let domains = &i.domains;
        IdpRow {
            id: i.id.to_string(),
            name: i.display_name.clone(),
            issuer: i.issuer.clone(),
            domains: if domains.is_empty() {
                "—".into()
            } else {
                domains.join(", ")
            },
            enabled: yes_no(i.enabled),
        }
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_idp.html")]
struct IdpPage {
    chrome: Chrome,
    redirect_uri: String,
    idp: IdentityProvider,
    created: String,
    modified: String,
    /// The edit form: the stored values, or what was typed when refused.
    form: IdpForm,
    /// The edit form: a blank secret keeps the stored one.
    is_edit: bool,
    notice: Option<&'static str>,
    error: Option<String>,
    trace: Option<TestReport>,
}

/// The sentence for a `?notice=` code; unknown codes show nothing.
fn notice_text(code: &str) -> Option<&'static str> {
    Some(match code {
        "added" => {
            "The identity provider was added. Register the redirect URI at it, then test the connection."
        }
        "updated" => "Saved. The next sign-in uses the new settings.",
        "enabled" => "The identity provider is enabled.",
        "disabled" => "The identity provider is disabled: nobody can sign in with it.",
        "deleted" => "The identity provider was deleted.",
        _ => return None,
    })
}

#[derive(Deserialize)]
pub struct NoticeParams {
    notice: Option<String>,
}

async fn render_list(
    s: &UiState,
    admin: &Admin,
    form: IdpForm,
    notice: Option<&'static str>,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PortalError> {
    let rows = s.federation.list().await?.iter().map(IdpRow::new).collect();
    let (status, error) = match error {
        Some((status, m)) => (status, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = IdpsPage {
        chrome: Chrome::new(admin, Section::Idps),
        redirect_uri: s.federation.redirect_uri(),
        rows,
        form,
        is_edit: false,
        notice,
        error,
    };
    Ok((status, page).into_response())
}

pub async fn idps_get(
    admin: Admin,
    State(s): State<UiState>,
    Query(p): Query<NoticeParams>,
) -> Result<Response, PortalError> {
    let notice = p.notice.as_deref().and_then(notice_text);
    render_list(&s, &admin, IdpForm::blank(), notice, None).await
}

/// Adds an IdP; a refusal re-renders the list with the form as typed.
pub async fn idps_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(form): Form<IdpForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    match s.federation.create(form.to_input(), &admin.actor()).await {
        Ok(idp) => Ok(Redirect::to(&format!("{LIST}/{}?notice=added", idp.id)).into_response()),
        Err(e) => match refusal(&e) {
            Some(r) => render_list(&s, &admin, form.without_secret(), None, Some(r)).await,
            None => Err(e.into()),
        },
    }
}

/// What the IdP page shows besides the IdP itself.
#[derive(Default)]
struct Extra {
    form: Option<IdpForm>,
    notice: Option<&'static str>,
    error: Option<(StatusCode, String)>,
    trace: Option<TestReport>,
}

async fn render_idp(
    s: &UiState,
    admin: &Admin,
    idp: IdentityProvider,
    extra: Extra,
) -> Result<Response, PortalError> {
    let (status, error) = match extra.error {
        Some((status, m)) => (status, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = IdpPage {
        chrome: Chrome::new(admin, Section::Idps),
        redirect_uri: s.federation.redirect_uri(),
        created: show_time(idp.created_at),
        modified: show_time(idp.updated_at),
        form: extra.form.unwrap_or_else(|| IdpForm::from_idp(&idp)),
        is_edit: true,
        notice: extra.notice,
        error,
        trace: extra.trace,
        idp,
    };
    Ok((status, page).into_response())
}

async fn load(s: &UiState, id: &str) -> Result<(Uuid, IdentityProvider), PortalError> {
    let id = parse_id(id).ok_or(PortalError::NotFound)?;
    Ok((id, s.federation.get(id).await?))
}

pub async fn idp_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Query(p): Query<NoticeParams>,
) -> Result<Response, PortalError> {
    let (_, idp) = load(&s, &id).await?;
    let notice = p.notice.as_deref().and_then(notice_text);
    let extra = Extra {
        notice,
        ..Default::default()
    };
    render_idp(&s, &admin, idp, extra).await
}

/// The edit form, or the Enable/Disable button (`set_enabled`).
pub async fn idp_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(form): Form<IdpForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    let (id, idp) = load(&s, &id).await?;
    let patch = form.to_patch();
    let notice = match patch.enabled {
        Some(true) if form.set_enabled.is_some() => "enabled",
        Some(false) if form.set_enabled.is_some() => "disabled",
        _ => "updated",
    };
    match s.federation.update(id, patch, &admin.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("{LIST}/{id}?notice={notice}")).into_response()),
        Err(e) => match refusal(&e) {
            Some(r) => {
                let extra = Extra {
                    form: form.set_enabled.is_none().then(|| form.without_secret()),
                    error: Some(r),
                    ..Default::default()
                };
                render_idp(&s, &admin, idp, extra).await
            }
            None => Err(e.into()),
        },
    }
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    csrf: String,
    /// The delete form's "yes, delete it" checkbox.
    confirm: Option<String>,
}

/// Runs the connection test and shows its trace on the IdP's page.
pub async fn test_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let (_, idp) = load(&s, &id).await?;
    let report = s.federation.test_connection(&idp).await;
    let extra = Extra {
        trace: Some(report),
        ..Default::default()
    };
    render_idp(&s, &admin, idp, extra).await
}

/// Deletes the IdP once the confirmation box is ticked (the browser
/// insists on it; the server checks again for forms sent without one).
pub async fn delete_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let (id, idp) = load(&s, &id).await?;
    if f.confirm.is_none() {
        let extra = Extra {
            error: Some((
                StatusCode::BAD_REQUEST,
                "Tick \"Yes, delete this identity provider\" to delete it.".into(),
            )),
            ..Default::default()
        };
        return render_idp(&s, &admin, idp, extra).await;
    }
    s.federation.delete(id, &admin.actor()).await?;
    Ok(Redirect::to(&format!("{LIST}?notice=deleted")).into_response())
}

#[cfg(test)]
mod tests {
    use super::notice_text;

    #[test]
    fn only_known_notices_are_shown() {
        assert!(notice_text("added").is_some_and(|t| t.contains("redirect URI")));
        assert_eq!(notice_text("<b>"), None);
    }
}
