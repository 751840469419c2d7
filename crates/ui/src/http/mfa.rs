//! The MFA steps of an interaction: enrolment and challenge.

use super::UiState;
use axum::response::Response;
use portico_oidc::error::PageError;
use portico_oidc::interaction::InteractionView;

pub(super) async fn render(
    _s: &UiState,
    _view: &InteractionView,
    _csrf: &str,
    _error: Option<String>,
) -> Result<Response, PageError> {
    Err(PageError::new(
        "mfa_unavailable",
        "Multi-factor authentication is required, but cannot be performed here yet.",
    ))
}
