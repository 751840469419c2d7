//! Rules (RFC 6749 §3.1.2, OIDC Core §3.1.2.1, RFC 9700 §4.1.3):
//! - `redirect_uri` is required and must equal a registered URI byte for byte:
//!   no normalisation, no prefix or wildcard matching, no default;
//! - one exception for native apps (RFC 8252 §7.3): a URI registered on a
//!   loopback IP literal without a port (`http://127.0.0.1/cb`,
//!   `http://[::1]/cb`) matches a request naming any port on it
//!   (`http://127.0.0.1:51234/cb`); scheme, host, path and query still match
//!   byte for byte, and `localhost` gets no such leeway (§8.3). A URI
//!   registered with a port keeps that port;
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
    if !client
        .redirect_uris
        .iter()
        .any(|r| redirect_uri_matches(r, uri))
    {
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

/// Whether a requested redirect URI matches a registered one: byte for byte,
/// or (RFC 8252 §7.3) the registered loopback URI with a port added.
pub fn redirect_uri_matches(registered: &str, requested: &str) -> bool {
    if registered == requested {
        return true;
    }
    for host in ["http://127.0.0.1", "http://[::1]"] {
        let (Some(reg_rest), Some(req_rest)) =
            (registered.strip_prefix(host), requested.strip_prefix(host))
        else {
            continue;
        };
        let Some(after_colon) = req_rest.strip_prefix(':') else {
            return false;
        };
        let digits = after_colon.bytes().take_while(u8::is_ascii_digit).count();
        let (port, path) = after_colon.split_at(digits);
        let port_ok = !port.starts_with('0') && port.parse::<u16>().is_ok_and(|p| p > 0);
        return port_ok && reg_rest.starts_with('/') && path == reg_rest;
    }
    false
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
                "http://127.0.0.1/native/cb".into(),
                "http://[::1]/v6?a=b".into(),
            ],
            post_logout_redirect_uris: vec![],
            grant_types: vec![],
            backchannel_logout_uri: None,
            require_mfa: false,
            first_party: false,
            require_pkce: true,
            permissions: vec![],
            delegated_permissions: vec![],
            app_role_assignment_required: false,
            group_membership_claims: Default::default(),
            initiate_login_uri: None,
            logo_uri: None,
            id_token_signed_response_alg: None,
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

    /// RFC 8252 §7.3: any port on a loopback IP literal registered without
    /// one; nothing else varies.
    #[test]
    fn loopback_redirect_uris_accept_any_port() {
        check(Some("http://127.0.0.1/native/cb"), true);
        check(Some("http://127.0.0.1:51234/native/cb"), true);
        check(Some("http://127.0.0.1:1/native/cb"), true);
        check(Some("http://127.0.0.1:65535/native/cb"), true);
        check(Some("http://[::1]:8080/v6?a=b"), true);
        check(Some("http://[::1]/v6?a=b"), true);
        // The port must be a port.
        check(Some("http://127.0.0.1:65536/native/cb"), false);
        check(Some("http://127.0.0.1:0/native/cb"), false);
        check(Some("http://127.0.0.1:080/native/cb"), false);
        check(Some("http://127.0.0.1:/native/cb"), false);
        check(Some("http://127.0.0.1:80x/native/cb"), false);
        // Path, query, scheme and host stay exact.
        check(Some("http://127.0.0.1:5000/native/cb/"), false);
        check(Some("http://127.0.0.1:5000/native/cb?x=1"), false);
        check(Some("http://127.0.0.1:5000/native"), false);
        check(Some("http://[::1]:8080/v6"), false);
        check(Some("https://127.0.0.1:5000/native/cb"), false);
        check(Some("http://localhost:5000/native/cb"), false);
        check(Some("http://127.0.0.2:5000/native/cb"), false);
        check(Some("http://127.0.0.1:5000@evil.example/native/cb"), false);
        check(Some("http://127.0.0.1.evil.example/native/cb"), false);
        // A URI registered with a port keeps it.
        check(Some("http://127.0.0.1:8001/cb?x=1"), false);
        // Only loopback literals get the leeway.
        check(Some("https://app.example:8443/cb"), false);
    }
}
