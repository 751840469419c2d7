//! Pages post small forms: every UI route takes at most [`FORM_LIMIT`]
//! bytes of body (axum's default is 2 MB), except the CSV import, which
//! lifts the limit on its own route and caps the upload while streaming it.
//! A body over the limit gets the error page with a stable code, not
//! axum's plain-text 413.

use axum::extract::{DefaultBodyLimit, Request};
use axum::http::{StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use portico_oidc::PageError;
use portico_oidc::http::request_id;

/// 64 KiB: far more than any sign-in, consent or portal form needs.
pub const FORM_LIMIT: usize = 64 * 1024;

pub fn form_limit() -> DefaultBodyLimit {
    DefaultBodyLimit::max(FORM_LIMIT)
}

/// Replaces a plain 413 (a body over the limit) with the error page.
pub async fn readable_too_large(req: Request, next: Next) -> Response {
    let id = request_id(req.headers());
    let resp = next.run(req).await;
    let is_page = resp
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("text/html"));
    if resp.status() != StatusCode::PAYLOAD_TOO_LARGE || is_page {
        return resp;
    }
    let err = PageError::new(
        "request_too_large",
        "The form sent is larger than Portico accepts. Go back and try again with less text.",
    )
    .with_status(413);
    crate::pages::error_response(&err, &id)
}
