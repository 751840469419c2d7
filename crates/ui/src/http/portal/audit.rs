//! The audit log page: every directory change, newest first, 50 a page,
//! paged by id (`?before=<id of the last entry shown>`).

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{PAGE_SIZE, parse_cursor, show_time};
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::{IntoResponse, Response};
use portico_directory::audit::AuditQuery;
use portico_directory::{ActorKind, AuditEntry};
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "admin_audit.html")]
struct AuditPage {
    chrome: Chrome,
    entries: Vec<EntryRow>,
    next: Option<String>,
    is_first_page: bool,
}

struct EntryRow {
    when: String,
    who: String,
    what: String,
    category: String,
    target: String,
}

impl EntryRow {
    fn new(e: &AuditEntry) -> Self {
        let who = match e.actor.kind {
            ActorKind::User => e.actor.display_name.clone(),
            ActorKind::Application => {
                format!("{} (application {})", e.actor.display_name, e.actor.id)
            }
            ActorKind::System => format!("{} (Portico)", e.actor.display_name),
        };
        EntryRow {
            when: show_time(e.at),
            who,
            what: e.activity.clone(),
            category: e.category.clone(),
            target: format!("{} {}", e.target_type, e.target_name),
        }
    }
}

#[derive(Deserialize)]
pub struct AuditParams {
    before: Option<String>,
}

pub async fn audit_get(
    admin: Admin,
    State(s): State<UiState>,
    Query(p): Query<AuditParams>,
) -> Result<Response, PortalError> {
    let before = parse_cursor(p.before.as_deref()).map_err(PortalError::BadRequest)?;
    let q = AuditQuery {
        before,
        limit: PAGE_SIZE + 1,
        ..Default::default()
    };
    let mut entries = s.directory.list_audits(&q).await?;
    let mut next = None;
    if entries.len() as u64 > PAGE_SIZE {
        entries.truncate(PAGE_SIZE as usize);
        next = entries
            .last()
            .map(|e| format!("/admin/audit?before={}", e.id));
    }
    let page = AuditPage {
        chrome: Chrome::new(&admin, Section::Audit),
        entries: entries.iter().map(EntryRow::new).collect(),
        next,
        is_first_page: before.is_none(),
    };
    Ok(page.into_response())
}
