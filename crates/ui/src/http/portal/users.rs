//! The users-and-guests list: filter by type and mail, 50 a page, paged by
//! id (keyset paging: ids are time-ordered, so "after the last id" is stable
//! while users are added, unlike an offset).

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{PAGE_SIZE, user_query, users_link};
use super::views::{Chrome, Section, UserRow};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::UserType;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "admin_users.html")]
struct UsersPage {
    chrome: Chrome,
    /// The filter form's values, as entered.
    filter_type: String,
    filter_mail: String,
    rows: Vec<UserRow>,
    next: Option<String>,
    /// Set on later pages: the first page, with the same filters.
    first: Option<String>,
    error: Option<String>,
}

#[derive(Deserialize)]
pub struct UsersParams {
    #[serde(rename = "type")]
    user_type: Option<String>,
    mail: Option<String>,
    after: Option<String>,
}

pub async fn users_get(
    admin: Admin,
    State(s): State<UiState>,
    Query(p): Query<UsersParams>,
) -> Result<Response, PortalError> {
    let mut page = UsersPage {
        chrome: Chrome::new(&admin, Section::Users),
        filter_type: p.user_type.clone().unwrap_or_default(),
        filter_mail: p.mail.clone().unwrap_or_default(),
        rows: Vec::new(),
        next: None,
        first: None,
        error: None,
    };
    let q = match user_query(
        p.user_type.as_deref(),
        p.mail.as_deref(),
        p.after.as_deref(),
    ) {
        Ok(q) => q,
        Err(m) => {
            page.error = Some(m);
            return Ok((StatusCode::BAD_REQUEST, page).into_response());
        }
    };
    if q.after.is_some() {
        page.first = Some(users_link(&q, None));
    }
    let mut users = s.directory.list_users(&q).await?;
    if users.len() as u64 > PAGE_SIZE {
        users.truncate(PAGE_SIZE as usize);
        page.next = users.last().map(|u| users_link(&q, Some(u.id)));
    }
    page.rows = users.iter().map(UserRow::new).collect();
    Ok(page.into_response())
}

impl UsersPage {
    /// The type options of the filter form, with the selected one marked.
    fn type_options(&self) -> Vec<(&'static str, &'static str, bool)> {
        let selected = |v: &str| self.filter_type == v;
        vec![
            ("", "Members and guests", selected("")),
            (UserType::Guest.as_str(), "Guests", selected("Guest")),
            (UserType::Member.as_str(), "Members", selected("Member")),
        ]
    }
}
