//! Rules (RFC 6749 §3.1.2, OIDC Core §3.1.2.1, RFC 9700 §4.1.3):
//! - `redirect_uri` is required and must equal a registered URI byte for byte:
//!   no normalisation, no prefix or wildcard matching, no default;
//! - on failure the user sees an error page and the browser is not redirected.
//!
//! Only this check creates a [`VerifiedRedirect`] that parameters are sent to, so an error can only be sent
//! to a URI that passed it (a redemption's landing is the other, and receives nothing). It also fixes how the answer travels
//! (`response_mode`, OAuth 2.0 Form Post Response Mode) and carries `state`.

use super::params::RawParams;
use crate::error::{OAuthError, PageError};
use crate::model::Client;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum ResponseMode {
    Query,
    FormPost,
}

/// A redirect URI proven to be registered for the client.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct VerifiedRedirect {
    uri: String,
    pub mode: ResponseMode,
    pub state: Option<String>,
}

impl VerifiedRedirect {
    pub fn uri(&self) -> &str {
        &self.uri
    }

    /// A redemption's landing: not sent any parameter, only visited once the
    /// interaction ends. The invitation service validated the URL when the
    /// invitation was made; this is the only other way one is created.
    pub(crate) fn landing(uri: &str) -> Self {
        Self {
            uri: uri.to_string(),
            mode: ResponseMode::Query,
            state: None,
        }
    }
}

/// Returns the verified redirect, plus an error to send to it when
/// `response_mode` itself is unusable (the error then travels by query).
pub fn check_redirect_uri(
    client: &Client,
    raw: &RawParams,
) -> Result<(VerifiedRedirect, Option<OAuthError>), PageError> {
    if raw.is_repeated("redirect_uri") {
        return Err(PageError::new(
            "invalid_redirect_uri",
            "The request repeats redirect_uri.",
        ));
    }
    let uri = raw.get("redirect_uri").ok_or_else(|| {
        PageError::new("invalid_redirect_uri", "The request has no redirect_uri.")
    })?;
    if !client.redirect_uris.iter().any(|r| r == uri) {
        return Err(PageError::new(
            "invalid_redirect_uri",
            "The redirect URI in the request is not registered for this application.",
        ));
    }
    let state = raw.get("state").map(str::to_string);
    let (mode, err) = match raw.get("response_mode") {
        None | Some("query") => (ResponseMode::Query, None),
        Some("form_post") => (ResponseMode::FormPost, None),
        Some(_) => (
            ResponseMode::Query,
            Some(OAuthError::invalid_request(
                "Unsupported response_mode; use query or form_post.",
            )),
        ),
    };
    Ok((
        VerifiedRedirect {
            uri: uri.to_string(),
            mode,
            state,
        },
        err,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AuthMethod, ClientType};
    use chrono::DateTime;
    use uuid::Uuid;

    fn client() -> Client {
        Client {
            id: Uuid::nil(),
            client_id: "app".into(),
            secret_hash: None,
            display_name: "App".into(),
            client_type: ClientType::Public,
            auth_method: AuthMethod::None,
            redirect_uris: vec![
                "https://app.example/cb".into(),
                "http://127.0.0.1:8000/cb?x=1".into(),
            ],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            backchannel_logout_uri: None,
            require_mfa: false,
            first_party: false,
            permissions: vec![],
            created_at: DateTime::from_timestamp(0, 0).unwrap_or_default(),
        }
    }

    fn check(uri: Option<&str>, ok: bool) {
        let mut pairs = vec![];
        if let Some(u) = uri {
            pairs.push(("redirect_uri".to_string(), u.to_string()));
        }
        assert_eq!(
            check_redirect_uri(&client(), &RawParams::new(pairs)).is_ok(),
            ok,
            "{uri:?}"
        );
    }

    #[test]
    fn only_exact_registered_uris_pass() {
        check(Some("https://app.example/cb"), true);
        check(Some("http://127.0.0.1:8000/cb?x=1"), true);
        check(None, false);
        check(Some("https://app.example/cb/"), false);
        check(Some("https://APP.example/cb"), false);
        check(Some("https://app.example/cb?extra=1"), false);
        check(Some("https://app.example/cb#f"), false);
        check(Some("https://app.example/c"), false);
        check(Some("https://app.example:443/cb"), false);
        check(Some("http://127.0.0.1:8000/cb"), false);
        check(Some("https://app.example/cb%2F.."), false);
    }
}
