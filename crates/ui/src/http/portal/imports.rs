//! The bulk import page: the upload form and the recent jobs (PRODUCT.md §1
//! journey 4). The upload itself is handled in `upload`, each job's report
//! in `report`.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::show_time;
use super::upload::MAX_UPLOAD_BYTES;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::import::ImportJob;

/// How many recent jobs the page lists.
const RECENT_JOBS: u64 = 20;

#[derive(Template, WebTemplate)]
#[template(path = "admin_imports.html")]
struct ImportsPage {
    chrome: Chrome,
    jobs: Vec<JobRow>,
    max_mb: u64,
    error: Option<String>,
}

struct JobRow {
    id: String,
    file_name: String,
    status: &'static str,
    created_by: String,
    created: String,
}

impl JobRow {
    fn new(j: &ImportJob) -> Self {
        JobRow {
            id: j.id.to_string(),
            file_name: j.file_name.clone(),
            status: j.status.as_str(),
            created_by: j.created_by.display_name.clone(),
            created: show_time(j.created_at),
        }
    }
}

/// The page, with `error` about a refused upload.
pub async fn render_imports(
    s: &UiState,
    admin: &Admin,
    error: Option<(StatusCode, String)>,
) -> Result<Response, PortalError> {
    let jobs = s.importer.repo().list_jobs(RECENT_JOBS).await?;
    let (status, error) = match error {
        Some((status, m)) => (status, Some(m)),
        None => (StatusCode::OK, None),
    };
    let page = ImportsPage {
        chrome: Chrome::new(admin, Section::Imports),
        jobs: jobs.iter().map(JobRow::new).collect(),
        max_mb: MAX_UPLOAD_BYTES / 1_000_000,
        error,
    };
    Ok((status, page).into_response())
}

pub async fn imports_get(admin: Admin, State(s): State<UiState>) -> Result<Response, PortalError> {
    render_imports(&s, &admin, None).await
}
