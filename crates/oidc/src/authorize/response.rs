//! The authorization response (RFC 6749 §4.1.2) and its errors (§4.1.2.1),
//! delivered by query or form post, always with `iss` (RFC 9207) and `state`.

use super::check_redirect_uri::{ResponseMode, VerifiedRedirect};
use crate::error::OAuthError;

#[derive(Debug, Clone)]
pub struct AuthorizationResponse {
    pub redirect: VerifiedRedirect,
    pub params: Vec<(String, String)>,
}

impl AuthorizationResponse {
    pub fn code(redirect: VerifiedRedirect, code: String, issuer: &str) -> Self {
        Self::build(redirect, vec![("code".into(), code)], issuer)
    }

    pub fn error(redirect: VerifiedRedirect, err: &OAuthError, issuer: &str) -> Self {
        if let Some(d) = &err.debug {
            tracing::info!(error = err.code, debug = %d, "authorization request refused");
        }
        let params = vec![
            ("error".into(), err.code.to_string()),
            ("error_description".into(), err.description.clone()),
        ];
        Self::build(redirect, params, issuer)
    }

    fn build(redirect: VerifiedRedirect, mut params: Vec<(String, String)>, issuer: &str) -> Self {
        if let Some(s) = &redirect.state {
            params.push(("state".into(), s.clone()));
        }
        params.push(("iss".into(), issuer.to_string()));
        Self { redirect, params }
    }

    pub fn mode(&self) -> ResponseMode {
        self.redirect.mode
    }

    /// The redirect URI with the parameters appended to its query (RFC 6749 §3.1.2 keeps its own query).
    pub fn query_url(&self) -> String {
        // Registered redirect URIs never carry a fragment (clients.rs), so appending is enough.
        let base = self.redirect.uri();
        let encoded = serde_urlencoded::to_string(&self.params).unwrap_or_default();
        let sep = if base.contains('?') { '&' } else { '?' };
        format!("{base}{sep}{encoded}")
    }
}
