//! OAuth 2.0 / OpenID Connect errors. Each carries the RFC error code, a fixed
//! description that may be shown to the developer, and debug text that is only
//! logged (fosite's split). Storage failures become `server_error` with a
//! generic description.

use crate::store::StoreError;

/// An error answered per RFC 6749 §4.1.2.1 (authorize) or §5.2 (token).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {description}")]
pub struct OAuthError {
    pub code: &'static str,
    pub description: String,
    /// Logged, never sent.
    pub debug: Option<String>,
}

impl OAuthError {
    pub fn new(code: &'static str, description: impl Into<String>) -> Self {
        Self {
            code,
            description: description.into(),
            debug: None,
        }
    }
    pub fn with_debug(mut self, debug: impl Into<String>) -> Self {
        self.debug = Some(debug.into());
        self
    }
    pub fn invalid_request(d: impl Into<String>) -> Self {
        Self::new("invalid_request", d)
    }
    pub fn invalid_client(d: impl Into<String>) -> Self {
        Self::new("invalid_client", d)
    }
    pub fn invalid_grant(d: impl Into<String>) -> Self {
        Self::new("invalid_grant", d)
    }
    pub fn invalid_scope(d: impl Into<String>) -> Self {
        Self::new("invalid_scope", d)
    }
    pub fn unauthorized_client(d: impl Into<String>) -> Self {
        Self::new("unauthorized_client", d)
    }
    pub fn access_denied(d: impl Into<String>) -> Self {
        Self::new("access_denied", d)
    }
    pub fn server_error() -> Self {
        Self::new("server_error", "The server met an unexpected condition.")
    }
    pub fn invalid_token(d: impl Into<String>) -> Self {
        Self::new("invalid_token", d)
    }

    /// HTTP status for token-endpoint style answers (RFC 6749 §5.2, RFC 6750 §3.1).
    pub fn status(&self) -> u16 {
        match self.code {
            "invalid_client" | "invalid_token" => 401,
            "insufficient_scope" => 403,
            "server_error" => 500,
            "temporarily_unavailable" => 503,
            _ => 400,
        }
    }
}

impl From<StoreError> for OAuthError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = ?e, "storage failure");
        OAuthError::server_error().with_debug(e.to_string())
    }
}

/// A failure before the client and redirect URI are verified: it must be shown
/// to the user on a page and never redirected (RFC 6749 §4.1.2.1, RFC 9700 §4.1).
#[derive(Debug, Clone, thiserror::Error)]
#[error("{code}: {message}")]
pub struct PageError {
    /// A stable code shown on the page, e.g. `invalid_redirect_uri`.
    pub code: &'static str,
    pub message: String,
    pub status: u16,
    /// A link back to the application that carries the refusal to it
    /// (`error=access_denied`), when the user should see the page first.
    pub back_to_app: Option<String>,
}

impl PageError {
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        Self {
            code,
            message: message.into(),
            status: 400,
            back_to_app: None,
        }
    }
    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }
    pub fn internal() -> Self {
        Self::new(
            "server_error",
            "Something went wrong on our side. Please try again.",
        )
        .with_status(500)
    }
}

impl From<StoreError> for PageError {
    fn from(e: StoreError) -> Self {
        tracing::error!(error = ?e, "storage failure");
        PageError::internal()
    }
}
