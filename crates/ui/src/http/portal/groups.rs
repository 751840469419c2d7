//! `/admin/groups`: security groups as an Entra admin knows them: the list,
//! the create form, each group's page (name and description, members,
//! owners, the applications it is assigned to, pending join requests) and
//! its deletion behind a confirmation page.
//!
//! Every change goes through the same `Groups` and `JoinRequests` services as
//! `/api/v1/groups` and `…/joinRequests`, so validation and audit entries are
//! the API's. Members, owners and join requests are in [`super::group_people`].

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{field, parse_id, show_time};
use super::signin::CsrfForm;

use super::views::{Chrome, ConfirmPage, PeopleSection, PersonRow, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::DirectoryError;
use portico_directory::groups::{GroupPatch, NewGroup, Relation};
use portico_directory::join_requests::JoinState;
use serde::Deserialize;
use uuid::Uuid;

struct GroupRow {
    id: Uuid,
    name: String,
    description: String,
    created: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_groups.html")]
struct GroupsPage {
    chrome: Chrome,
    rows: Vec<GroupRow>,
    form: GroupForm,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// The create and edit forms as entered.
#[derive(Deserialize, Default)]
pub struct GroupForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    display_name: String,
    #[serde(default)]
    description: String,
}

#[derive(Deserialize, Default)]
pub struct NoticeQuery {
    #[serde(default)]
    notice: Option<String>,
}

type NoticeParam = Result<Query<NoticeQuery>, axum::extract::rejection::QueryRejection>;

/// Only known codes map to sentences: nothing from the URL is echoed.
fn notice_text(q: NoticeParam) -> Option<&'static str> {
    Some(match q.ok()?.0.notice.as_deref()? {
        "created" => "The group was created.",
        "saved" => "The group was saved.",
        "deleted" => "The group was deleted.",
        "member-added" => "The member was added.",
        "member-removed" => "The member was removed.",
        "owner-added" => "The owner was added.",
        "owner-removed" => "The owner was removed.",
        "approved" => "The request was approved: the user is now a member.",
        "declined" => "The request was declined.",
        _ => return None,
    })
}

async fn render_list(
    s: &UiState,
    admin: &Admin,
    form: GroupForm,
    notice: Option<&'static str>,
    error: Option<String>,
) -> Result<Response, PortalError> {
    let status = if error.is_some() {
        StatusCode::BAD_REQUEST
    } else {
        StatusCode::OK
    };
    let mut groups = s.groups.repo().list_groups(None, 0).await?;
    groups.sort_by_key(|g| g.display_name.to_lowercase());
    let rows = groups
        .into_iter()
        .map(|g| GroupRow {
            id: g.id,
            name: g.display_name,
            description: g.description.unwrap_or_default(),
            created: show_time(g.created_at),
        })
        .collect();
    let page = GroupsPage {
        chrome: Chrome::new(admin, Section::Groups),
        rows,
        form,
        notice,
        error,
    };
    Ok((status, page).into_response())
}

/// `GET /admin/groups`.
pub async fn groups_get(
    admin: Admin,
    State(s): State<UiState>,
    q: NoticeParam,
) -> Result<Response, PortalError> {
    render_list(&s, &admin, GroupForm::default(), notice_text(q), None).await
}

/// `POST /admin/groups`: a security group, as `POST /api/v1/groups`.
pub async fn groups_post(
    admin: Admin,
    State(s): State<UiState>,
    Form(form): Form<GroupForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    let n = NewGroup {
        display_name: form.display_name.clone(),
        description: field(Some(&form.description)).map(str::to_string),
        security_enabled: Some(true),
        mail_enabled: Some(false),
        mail_nickname: None,
        group_types: None,
    };
    match s.groups.create_group(n, &admin.actor()).await {
        Ok(g) => {
            Ok(Redirect::to(&format!("/admin/groups/{}?notice=created", g.id)).into_response())
        }
        Err(DirectoryError::Invalid(m) | DirectoryError::Conflict(m)) => {
            render_list(&s, &admin, form, None, Some(m)).await
        }
        Err(e) => Err(e.into()),
    }
}

struct AppLink {
    id: Uuid,
    name: String,
}

struct RequestRow {
    id: Uuid,
    user_id: Uuid,
    name: String,
    mail: String,
    asked: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_group.html")]
struct GroupPage {
    chrome: Chrome,
    id: Uuid,
    name: String,
    created: String,
    form: GroupForm,
    /// Members, then owners.
    people: [PeopleSection; 2],
    apps: Vec<AppLink>,
    requests: Vec<RequestRow>,
    notice: Option<&'static str>,
    error: Option<String>,
}

/// A refused action on the group page: its message and what was entered.
#[derive(Default)]
pub struct Refused {
    pub message: String,
    pub form: Option<GroupForm>,
    pub member_email: String,
    pub owner_email: String,
}

async fn people(s: &UiState, id: Uuid, r: Relation) -> Result<Vec<PersonRow>, PortalError> {
    Ok(s.groups
        .list_users(id, r)
        .await?
        .into_iter()
        .map(PersonRow::of)
        .collect())
}

/// The applications the group is assigned to (one query, on the
/// assignments' principal index).
async fn assigned_apps(s: &UiState, id: Uuid) -> Result<Vec<AppLink>, PortalError> {
    let mut out: Vec<AppLink> = s
        .groups
        .assignments_of(id)
        .await?
        .into_iter()
        .map(|a| AppLink {
            id: a.resource_id,
            name: a.resource_display_name,
        })
        .collect();
    out.sort_by_key(|a| a.name.to_lowercase());
    Ok(out)
}

async fn pending_requests(s: &UiState, id: Uuid) -> Result<Vec<RequestRow>, PortalError> {
    let mut out = Vec::new();
    for r in s.join_requests.of_group(id).await? {
        if r.state != JoinState::Pending {
            continue;
        }
        let (name, mail) = match s.directory.find_user(r.user_id).await {
            Ok(u) => (u.display_name, u.mail),
            Err(DirectoryError::NotFound) => continue,
            Err(e) => return Err(e.into()),
        };
        out.push(RequestRow {
            id: r.id,
            user_id: r.user_id,
            name,
            mail,
            asked: show_time(r.created_at),
        });
    }
    Ok(out)
}

/// The group's page; with `refused`, as a 400 with its message.
pub async fn render_group(
    s: &UiState,
    admin: &Admin,
    id: Uuid,
    notice: Option<&'static str>,
    refused: Option<Refused>,
) -> Result<Response, PortalError> {
    let g = s.groups.find_group(id).await?;
    let (status, r) = match refused {
        Some(r) => (StatusCode::BAD_REQUEST, r),
        None => (StatusCode::OK, Refused::default()),
    };
    let form = r.form.unwrap_or_else(|| GroupForm {
        csrf: String::new(),
        display_name: g.display_name.clone(),
        description: g.description.clone().unwrap_or_default(),
    });
    let page = GroupPage {
        chrome: Chrome::new(admin, Section::Groups),
        id,
        name: g.display_name,
        created: show_time(g.created_at),
        form,
        people: [
            PeopleSection {
                title: "Members",
                which: "members",
                note: None,
                action: format!("/admin/groups/{id}/members"),
                rows: people(s, id, Relation::Member).await?,
                typed: r.member_email,
            },
            PeopleSection {
                title: "Owners",
                which: "owners",
                note: None,
                action: format!("/admin/groups/{id}/owners"),
                rows: people(s, id, Relation::Owner).await?,
                typed: r.owner_email,
            },
        ],
        apps: assigned_apps(s, id).await?,
        requests: pending_requests(s, id).await?,
        notice,
        error: (!r.message.is_empty()).then_some(r.message),
    };
    Ok((status, page).into_response())
}

/// `GET /admin/groups/{id}`.
pub async fn group_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    q: NoticeParam,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    render_group(&s, &admin, id, notice_text(q), None).await
}

/// `POST /admin/groups/{id}`: name and description, as
/// `PATCH /api/v1/groups/{id}` (an empty description clears it).
pub async fn group_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(form): Form<GroupForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &form.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let patch = GroupPatch {
        display_name: Some(form.display_name.clone()),
        description: Some(form.description.clone()),
        security_enabled: None,
    };
    match s.groups.update_group(id, patch, &admin.actor()).await {
        Ok(_) => Ok(Redirect::to(&format!("/admin/groups/{id}?notice=saved")).into_response()),
        Err(DirectoryError::Invalid(m) | DirectoryError::Conflict(m)) => {
            let refused = Refused {
                message: m,
                form: Some(form),
                ..Default::default()
            };
            render_group(&s, &admin, id, None, Some(refused)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// `GET /admin/groups/{id}/delete`: the confirmation page.
pub async fn delete_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let g = s.groups.find_group(id).await?;
    let page = ConfirmPage {
        chrome: Chrome::new(&admin, Section::Groups),
        title: format!("Delete {}?", g.display_name),
        consequence: "Its members lose the applications assigned through it; its memberships, owners and assignments are deleted with it. This cannot be undone.".into(),
        action: format!("/admin/groups/{id}/delete"),
        cancel: format!("/admin/groups/{id}"),
    };
    Ok(page.into_response())
}

/// `POST /admin/groups/{id}/delete`.
pub async fn delete_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    s.groups.delete_group(id, &admin.actor()).await?;
    Ok(Redirect::to("/admin/groups?notice=deleted").into_response())
}
