//! `/admin/conditional-access` (issue 13): the policies and named locations,
//! each with its state; a policy or named location is added by pasting its
//! Graph JSON (an Entra export as-is) and refused with one message per field
//! that Portico cannot enforce; a policy's state is switched (on, report-only,
//! off) or the policy deleted. The same services as the admin API
//! (`/api/v1/identity/conditionalAccess/*`), audited with the admin as actor.

use super::auth::Admin;
use super::error::PortalError;
use super::signin::CsrfForm;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_oidc::conditional_access::{ActorRef, CaError};
use portico_policy::conditional_access::{LocationKind, PolicyState, Requirement};
use serde::Deserialize;
use serde_json::{Value, json};

struct PolicyRow {
    id: String,
    name: String,
    state: &'static str,
    controls: &'static str,
}

struct LocationRow {
    name: String,
    kind: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_conditional_access.html")]
struct ConditionalAccessPage {
    chrome: Chrome,
    policies: Vec<PolicyRow>,
    locations: Vec<LocationRow>,
    notice: Option<&'static str>,
    /// The form the problems are about (`policy` or `location`) and its text, kept.
    draft_kind: &'static str,
    draft: String,
    problems: Vec<String>,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

fn actor(admin: &Admin) -> ActorRef {
    let a = admin.actor();
    ("User", a.id, a.display_name)
}

async fn render(
    s: &UiState,
    admin: &Admin,
    notice: Option<&'static str>,
    draft: Option<(&'static str, String, Vec<String>)>,
) -> Result<Response, PortalError> {
    let policies = s
        .provider
        .ca_policies()
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|p| PolicyRow {
            controls: asks_label(p.requirement()),
            state: state_label(p.state),
            id: p.id,
            name: p.display_name,
        })
        .collect();
    let locations = s
        .provider
        .named_locations()
        .await
        .map_err(PortalError::internal)?
        .into_iter()
        .map(|l| LocationRow {
            kind: match &l.kind {
                LocationKind::Ip {
                    is_trusted,
                    ip_ranges,
                } => format!(
                    "{} IP range(s){}",
                    ip_ranges.len(),
                    if *is_trusted { ", trusted" } else { "" }
                ),
                LocationKind::Country {
                    countries_and_regions,
                    ..
                } => format!("Countries: {}", countries_and_regions.join(", ")),
            },
            name: l.display_name,
        })
        .collect();
    let (status, draft_kind, draft, problems) = match draft {
        Some((k, d, p)) => (StatusCode::BAD_REQUEST, k, d, p),
        None => (StatusCode::OK, "", String::new(), vec![]),
    };
    let page = ConditionalAccessPage {
        chrome: Chrome::new(admin, Section::ConditionalAccess),
        policies,
        locations,
        notice,
        draft_kind,
        draft,
        problems,
    };
    Ok((status, page).into_response())
}

pub async fn page_get(
    admin: Admin,
    State(s): State<UiState>,
    q: Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>,
) -> Result<Response, PortalError> {
    let notice = match q.ok().and_then(|Query(q)| q.notice).as_deref() {
        Some("policy") => Some("The policy was added."),
        Some("location") => Some("The named location was added."),
        Some("state") => Some("The policy's state was changed."),
        Some("deleted") => Some("The policy was deleted."),
        Some("saved") => Some("The policy was saved."),
        _ => None,
    };
    render(&s, &admin, notice, None).await
}

#[derive(Deserialize)]
pub struct ImportForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    kind: String,
    #[serde(default)]
    json: String,
}

/// A policy's state as the portal shows it.
pub(super) fn state_label(s: PolicyState) -> &'static str {
    match s {
        PolicyState::Enabled => "On",
        PolicyState::Disabled => "Off",
        PolicyState::EnabledForReportingButNotEnforced => "Report-only",
    }
}

/// What a policy's grant asks, as the portal shows it.
pub(super) fn asks_label(r: Requirement) -> &'static str {
    match r {
        Requirement::Block => "Block",
        Requirement::Mfa => "Require MFA",
    }
}

/// The messages for a refused edit, one per field.
pub(super) fn problems(e: CaError) -> Result<Vec<String>, PortalError> {
    match e {
        CaError::Invalid(i) => Ok(i
            .problems
            .iter()
            .map(|p| {
                if p.path.is_empty() {
                    p.message.clone()
                } else {
                    format!("{}: {}", p.path, p.message)
                }
            })
            .collect()),
        CaError::Conflict(m) => Ok(vec![m]),
        CaError::NotFound => Err(PortalError::NotFound),
        CaError::Store(e) => Err(PortalError::internal(e)),
    }
}

/// `POST /admin/conditional-access`: adds a policy or a named location from its Graph JSON.
pub async fn import_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(f): Form<ImportForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let kind = if f.kind == "location" {
        "location"
    } else {
        "policy"
    };
    let value: Value = match serde_json::from_str(&f.json) {
        Ok(v) => v,
        Err(e) => {
            let msg = format!("This is not JSON: {e}.");
            return render(&s, &admin, None, Some((kind, f.json, vec![msg]))).await;
        }
    };
    let done = if kind == "location" {
        s.provider
            .create_named_location(&value, actor(&admin))
            .await
            .map(|_| ())
    } else {
        s.provider
            .create_ca_policy(&value, actor(&admin))
            .await
            .map(|_| ())
    };
    match done {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/conditional-access?notice={kind}")).into_response())
        }
        Err(e) => {
            let p = problems(e)?;
            render(&s, &admin, None, Some((kind, f.json, p))).await
        }
    }
}

#[derive(Deserialize)]
pub struct StateForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    state: String,
}

/// `POST /admin/conditional-access/{id}/state`: on, report-only or off.
pub async fn state_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<StateForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let state = match f.state.as_str() {
        "enabled" | "disabled" | "enabledForReportingButNotEnforced" => f.state.as_str(),
        _ => {
            return Err(PortalError::BadRequest(
                "Choose on, report-only or off.".into(),
            ));
        }
    };
    match s
        .provider
        .update_ca_policy(&id, &json!({ "state": state }), actor(&admin))
        .await
    {
        Ok(_) => Ok(Redirect::to("/admin/conditional-access?notice=state").into_response()),
        Err(e) => Err(PortalError::BadRequest(problems(e)?.join("; "))),
    }
}

/// `POST /admin/conditional-access/{id}/delete`.
pub async fn delete_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    match s.provider.delete_ca_policy(&id, actor(&admin)).await {
        Ok(()) => Ok(Redirect::to("/admin/conditional-access?notice=deleted").into_response()),
        Err(e) => Err(PortalError::BadRequest(problems(e)?.join("; "))),
    }
}
