//! One import job: the dry-run report, the start button, and progress.
//!
//! While the job is staging or running the page refreshes itself every two
//! seconds with `<meta http-equiv="refresh">`, so progress shows without
//! JavaScript; once it is validated or completed the page stays still.

use super::auth::Admin;
use super::error::PortalError;
use super::parse::{parse_id, show_time};
use super::signin::CsrfForm;
use super::views::{Chrome, Section};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use portico_directory::import::{ImportCounts, ImportRow, JobStatus};

/// How many problem rows the report lists; the result file has them all.
const PROBLEM_ROWS: u64 = 200;

#[derive(Template, WebTemplate)]
#[template(path = "admin_import.html")]
struct ReportPage {
    chrome: Chrome,
    id: String,
    file_name: String,
    status: &'static str,
    created_by: String,
    created: String,
    finished: Option<String>,
    counts: ImportCounts,
    /// Rows with an outcome, and the rows that will be tried in all.
    done: u64,
    to_do: u64,
    problems: Vec<ProblemRow>,
    is_validated: bool,
    is_live: bool,
}

struct ProblemRow {
    row: i64,
    email: String,
    error: String,
}

impl ProblemRow {
    fn new(r: &ImportRow) -> Self {
        let error = match (&r.error, &r.outcome) {
            (Some(e), _) => e.clone(),
            (None, Some(portico_directory::import::RowOutcome::Failed { error })) => error.clone(),
            _ => String::new(),
        };
        ProblemRow {
            row: r.row_number,
            email: r.email.clone(),
            error,
        }
    }
}

pub async fn import_get(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
) -> Result<Response, PortalError> {
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    let job = s.importer.find(id).await?;
    let repo = s.importer.repo();
    let counts = repo.count_rows(id).await?;
    let problems = repo.rows(id, 0, PROBLEM_ROWS, true).await?;
    let page = ReportPage {
        chrome: Chrome::new(&admin, Section::Imports),
        id: id.to_string(),
        file_name: job.file_name.clone(),
        status: job.status.as_str(),
        created_by: job.created_by.display_name.clone(),
        created: show_time(job.created_at),
        finished: job.finished_at.map(show_time),
        counts,
        done: counts.invited + counts.existing + counts.failed,
        to_do: counts.total.saturating_sub(counts.invalid),
        problems: problems.iter().map(ProblemRow::new).collect(),
        is_validated: job.status == JobStatus::Validated,
        is_live: matches!(job.status, JobStatus::Staging | JobStatus::Running),
    };
    Ok(page.into_response())
}

pub async fn start_post(
    admin: Admin,
    State(s): State<UiState>,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Result<Response, PortalError> {
    admin.check_csrf(&s, &f.csrf)?;
    let id = parse_id(&id).ok_or(PortalError::NotFound)?;
    // Starting twice is harmless: `start` leaves a running job as it is.
    let job = s.importer.start(id).await?;
    if job.status == JobStatus::Running {
        s.background.import_started(id);
    }
    Ok(Redirect::to(&format!("/admin/imports/{id}")).into_response())
}
