//! What can go wrong in federation, sorted by who can do something about it.

use crate::store::StoreError;

/// Why an upstream sign-in did not produce an identity. Each has its own
/// explanation for the person in the browser; the detail is for the log and
/// the admin's "test connection" trace, never the page.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UpstreamProblem {
    /// The IdP could not be reached, timed out, or answered with garbage or
    /// a redirect (discovery, JWKS, token endpoint).
    Unavailable,
    /// The IdP answered the sign-in with an OAuth error (e.g. the user cancelled).
    Refused,
    /// The ID token or the token response failed validation.
    InvalidToken,
    /// The callback's `state` is missing, unknown, used, expired, or the
    /// flow belongs to another browser.
    InvalidState,
    /// The IdP is disabled or was deleted while the browser was away.
    Disabled,
    /// The app asked for a recent sign-in (`max_age`) and the IdP's ID token
    /// has no `auth_time`, or an older one (OIDC Core §3.1.2.1).
    StaleAuthentication,
}

#[derive(Debug, thiserror::Error)]
pub enum FederationError {
    /// Admin input that cannot be accepted; the text names the field.
    #[error("{0}")]
    Invalid(String),
    #[error("no identity provider with this id")]
    NotFound,
    /// A domain is already served by another IdP.
    #[error("{0}")]
    Conflict(String),
    #[error("{problem:?}: {detail}")]
    Upstream {
        problem: UpstreamProblem,
        /// What exactly failed, for logs (never contains secrets).
        detail: String,
    },
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl FederationError {
    pub(crate) fn upstream(problem: UpstreamProblem, detail: impl Into<String>) -> Self {
        FederationError::Upstream {
            problem,
            detail: detail.into(),
        }
    }

    /// The upstream problem, if this is one.
    pub fn problem(&self) -> Option<UpstreamProblem> {
        match self {
            FederationError::Upstream { problem, .. } => Some(*problem),
            _ => None,
        }
    }
}

impl From<StoreError> for FederationError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::DomainTaken(d) => FederationError::Conflict(format!(
                "domains: {d} is already served by another identity provider"
            )),
            StoreError::Other(e) => FederationError::Internal(e),
        }
    }
}
