//! A group's members and owners (added by email address, removed by a
//! button) and its pending join requests (approved or declined by the admin),
//! from the group's page. The same services as
//! `/api/v1/groups/{id}/members/$ref`, `…/owners/$ref` and
//! `…/joinRequests/{rid}/approve|decline`: adding someone twice is refused,
//! a request is decided once, the requester is emailed, and all of it is
//! audited. Each action redirects back to the page; a refusal re-shows it
//! with the message and what was typed.

use super::auth::Admin;
use super::error::PortalError;
use super::groups::{Refused, render_group};
use super::lookup::user_by_email;
use super::parse::parse_id;
use crate::http::UiState;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::DirectoryError;
use portico_directory::groups::Relation;
use portico_directory::join_requests::Decider;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Deserialize)]
pub struct PersonForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
}

fn relation(which: &str) -> Result<Relation, PortalError> {
    match which {
        "members" => Ok(Relation::Member),
        "owners" => Ok(Relation::Owner),
        _ => Err(PortalError::NotFound),
    }
}

/// The page again after `done`, or with its refusal.
async fn answer(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    done: Result<&'static str, DirectoryError>,
    relation: Option<Relation>,
    email: String,
) -> Result<Response, PortalError> {
    match done {
        Ok(notice) => {
            Ok(Redirect::to(&format!("/admin/groups/{id}?notice={notice}")).into_response())
        }
        // A second click on a remove button, a request decided and gone, or
        // another admin was faster: the page says so (the group still exists).
        Err(DirectoryError::NotFound) if s.groups.find_group(id).await.is_ok() => {
            let refused = Refused {
                message: "It was already removed, or no longer exists.".into(),
                ..Default::default()
            };
            render_group(s, admin, id, None, Some(refused)).await
        }
        Err(
            DirectoryError::Invalid(m) | DirectoryError::Conflict(m) | DirectoryError::Forbidden(m),
        ) => {
            let mut refused = Refused {
                message: m,
                ..Default::default()
            };
            match relation {
                Some(Relation::Member) => refused.member_email = email,
                Some(Relation::Owner) => refused.owner_email = email,
                None => {}
            }
            render_group(s, admin, id, None, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /admin/groups/{id}/members` (or `owners`): adds the user with that
/// email address.
pub async fn add_post(
    admin: Admin,
    State(s): State<UiState>,
    Path((id, which)): Path<(String, String)>,
    Form(f): Form<PersonForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let r = relation(&which)?;
    s.groups.find_group(id).await?;
    let done = async {
        let u = user_by_email(&s, &f.email).await?;
        s.groups.add(id, r, u.id, &admin.actor()).await?;
        Ok(match r {
            Relation::Member => "member-added",
            Relation::Owner => "owner-added",
        })
    }
    .await;
    answer(&s, &admin, id, done, Some(r), f.email).await
}

/// `POST /admin/groups/{id}/members/{user}/remove` (or `owners`).
pub async fn remove_post(
    admin: Admin,
    State(s): State<UiState>,
    Path((id, which, user)): Path<(String, String, String)>,
    Form(f): Form<PersonForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let r = relation(&which)?;
    let user = parse_id(&user).ok_or(PortalError::NotFound)?;
    let done = s
        .groups
        .remove(id, r, user, &admin.actor())
        .await
        .map(|_| match r {
            Relation::Member => "member-removed",
            Relation::Owner => "owner-removed",
        });
    answer(&s, &admin, id, done, None, String::new()).await
}

/// `POST /admin/groups/{id}/join-requests/{rid}/approve` (or `decline`):
/// decided by an admin, as the API's `joinRequests/{rid}/approve`.
pub async fn decide_post(
    admin: Admin,
    State(s): State<UiState>,
    Path((id, rid, decision)): Path<(String, String, String)>,
    Form(f): Form<PersonForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let rid = parse_id(&rid).ok_or(PortalError::NotFound)?;
    let approve = match decision.as_str() {
        "approve" => true,
        "decline" => false,
        _ => return Err(PortalError::NotFound),
    };
    let done = s
        .join_requests
        .decide(rid, Some(id), approve, Decider::Admin, &admin.actor())
        .await
        .map(|_| if approve { "approved" } else { "declined" });
    answer(&s, &admin, id, done, None, String::new()).await
}
