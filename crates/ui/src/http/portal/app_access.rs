//! Who may use an application and who owns it, from its page: Graph's
//! `appRoleAssignedTo` (a user, by email address, or a group, by name, gets
//! the default role; removing the assignment takes it away) and `owners`
//! (users, by email address). The same `Groups` service as
//! `/api/v1/applications/{id}/appRoleAssignedTo` and `…/owners/$ref`, so the
//! rules and the audit entries are the API's: assigning twice is refused, an
//! owner is added once. Each action redirects back to the page; a refusal
//! re-shows it with the message and what was typed.

use super::apps::{Refused, find_app, render_app};
use super::auth::Admin;
use super::error::PortalError;
use super::lookup::{principal, user_by_email};
use super::parse::parse_id;
use crate::http::UiState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::DirectoryError;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct AccessForm {
    #[serde(default)]
    csrf: String,
    /// A user's email address or a group's name (assignments).
    #[serde(default)]
    principal: String,
    /// A user's email address (owners).
    #[serde(default)]
    email: String,
}

/// The page again after `done`, or with its refusal.
async fn answer(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    done: Result<&'static str, DirectoryError>,
    f: AccessForm,
) -> Result<Response, PortalError> {
    match done {
        Ok(notice) => {
            Ok(Redirect::to(&format!("/admin/applications/{id}?notice={notice}")).into_response())
        }
        // A second click on a remove button, or another admin was faster:
        // the page says so (the application itself still exists).
        Err(DirectoryError::NotFound) if find_app(s, id).await.is_ok() => {
            let refused = Refused {
                message: "It was already removed.".into(),
                ..Default::default()
            };
            render_app(s, admin, id, None, Some(refused)).await
        }
        Err(
            DirectoryError::Invalid(m) | DirectoryError::Conflict(m) | DirectoryError::Forbidden(m),
        ) => {
            let refused = Refused {
                message: m,
                assign_to: f.principal,
                owner_email: f.email,
                ..Default::default()
            };
            render_app(s, admin, id, None, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/applications/{id}/assignments`.
pub async fn assign_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<AccessForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    find_app(&s, id).await?;
    let done = async {
        let who = principal(&s, &f.principal).await?;
        s.groups.assign(id, who, &admin.actor()).await?;
        Ok("assigned")
    }
    .await;
    answer(&s, &admin, id, done, f).await
}

/// `POST /admin/applications/{id}/assignments/{assignment}/remove`.
pub async fn unassign_post(
    admin: Admin,
    State(s): State<UiState>,
    Path((id, assignment)): Path<(String, String)>,
    Form(f): Form<AccessForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let assignment = parse_id(&assignment).ok_or(PortalError::NotFound)?;
    let done = s
        .groups
        .unassign(id, assignment, &admin.actor())
        .await
        .map(|_| "unassigned");
    answer(&s, &admin, id, done, f).await
}

/// `POST /admin/applications/{id}/owners`.
pub async fn owner_add_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<AccessForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    find_app(&s, id).await?;
    let done = async {
        let u = user_by_email(&s, &f.email).await?;
        s.groups.add_app_owner(id, u.id, &admin.actor()).await?;
        Ok("owner-added")
    }
    .await;
    answer(&s, &admin, id, done, f).await
}

/// `POST /admin/applications/{id}/owners/{user}/remove`.
pub async fn owner_remove_post(
    admin: Admin,
    State(s): State<UiState>,
    Path((id, user)): Path<(String, String)>,
    Form(f): Form<AccessForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let user = parse_id(&user).ok_or(PortalError::NotFound)?;
    let done = s
        .groups
        .remove_app_owner(id, user, &admin.actor())
        .await
        .map(|_| "owner-removed");
    answer(&s, &admin, id, done, f).await
}
