//! The portal's errors and their pages. A handler returns a [`PortalError`];
//! its response carries only a status and a [`Failure`] marker, and the
//! [`render_failures`] middleware turns the marker into the error page. That
//! way the page can show the request id (read from the request) without every
//! handler taking the headers just in case it fails.

use askama::Template;
use askama_web::WebTemplate;
use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_directory::DirectoryError;
use portico_federation::FederationError;
use portico_oidc::http::request_id;

#[derive(Debug)]
pub enum PortalError {
    /// A missing or wrong CSRF token, or a POST without an admin session.
    Forbidden,
    NotFound,
    /// The upload is over the size cap.
    TooLarge,
    /// The request cannot be served as sent; the message is shown as is.
    BadRequest(String),
    /// Logged where it happens; the page says nothing more.
    Internal,
}

impl PortalError {
    /// Logs the cause of an unexpected failure and hides it from the page.
    pub fn internal(e: impl std::fmt::Debug) -> Self {
        tracing::error!(error = ?e, "admin portal failure");
        PortalError::Internal
    }
}

impl From<DirectoryError> for PortalError {
    fn from(e: DirectoryError) -> Self {
        match e {
            DirectoryError::Invalid(m)
            | DirectoryError::Conflict(m)
            | DirectoryError::Forbidden(m) => PortalError::BadRequest(m),
            DirectoryError::NotFound => PortalError::NotFound,
            DirectoryError::Stale => PortalError::BadRequest(
                "Someone changed this record meanwhile. Reload the page and try again.".into(),
            ),
            // Admin writes wait for a password slot; only sign-ins are refused.
            DirectoryError::Busy => PortalError::internal("password slots exhausted"),
            DirectoryError::Internal(e) => PortalError::internal(e),
        }
    }
}

impl From<FederationError> for PortalError {
    fn from(e: FederationError) -> Self {
        match e {
            FederationError::Invalid(m) | FederationError::Conflict(m) => {
                PortalError::BadRequest(m)
            }
            FederationError::NotFound => PortalError::NotFound,
            // Only the connection test talks to the IdP, and it reports
            // through its trace; anything else is unexpected here.
            other => PortalError::internal(other),
        }
    }
}

/// What the middleware needs to render the page.
#[derive(Clone, Debug)]
pub struct Failure {
    code: &'static str,
    message: String,
}

impl IntoResponse for PortalError {
    fn into_response(self) -> Response {
        let (status, code, message) = match self {
            PortalError::Forbidden => (
                StatusCode::FORBIDDEN,
                "forbidden",
                "This form has expired or was not sent from the admin portal. Go back, reload the page and try again.".to_string(),
            ),
            PortalError::NotFound => (
                StatusCode::NOT_FOUND,
                "not_found",
                "There is nothing here: it may have been deleted.".to_string(),
            ),
            PortalError::TooLarge => (
                StatusCode::PAYLOAD_TOO_LARGE,
                "file_too_large",
                format!(
                    "The file is larger than {} MB. Split it into smaller files.",
                    super::upload::MAX_UPLOAD_BYTES / 1_000_000
                ),
            ),
            PortalError::BadRequest(m) => (StatusCode::BAD_REQUEST, "invalid_request", m),
            PortalError::Internal => (
                StatusCode::INTERNAL_SERVER_ERROR,
                "server_error",
                "Something went wrong on our side. Try again in a moment.".to_string(),
            ),
        };
        let mut resp = status.into_response();
        resp.extensions_mut().insert(Failure { code, message });
        resp
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_error.html")]
struct ErrorPage {
    code: &'static str,
    message: String,
    request_id: String,
}

/// Renders the page of a [`Failure`] response, with the request's id.
pub async fn render_failures(req: Request, next: Next) -> Response {
    let request_id = request_id(req.headers());
    let resp = next.run(req).await;
    match resp.extensions().get::<Failure>().cloned() {
        Some(f) => {
            let page = ErrorPage {
                code: f.code,
                message: f.message,
                request_id,
            };
            (resp.status(), page).into_response()
        }
        None => resp,
    }
}
