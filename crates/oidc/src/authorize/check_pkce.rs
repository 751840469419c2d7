//! Rules (RFC 7636 §4.3, §4.4.1; RFC 9700 §2.1.1):
//! - every client must send a `code_challenge` (OAuth 2.1, RFC 9700 §2.1.1),
//!   unless a confidential client's admin turned `requirePkce` off (public
//!   clients cannot);
//! - only `S256` is accepted (`plain` gives no protection against a leaked request);
//! - the challenge is 43 base64url characters (a SHA-256 digest).
//!
//! At the token endpoint (token/authorization_code.rs) the verifier is checked
//! whenever a challenge was stored, and a verifier without a stored challenge is
//! refused (downgrade protection, RFC 9700 §4.8.2).

use super::params::RawParams;
use crate::error::OAuthError;
use crate::model::{Client, ClientType};

pub fn check_pkce(client: &Client, raw: &RawParams) -> Result<Option<String>, OAuthError> {
    let challenge = raw.get("code_challenge");
    let method = raw.get("code_challenge_method");
    match (challenge, method) {
        (None, Some(_)) => Err(OAuthError::invalid_request(
            "code_challenge_method without code_challenge.",
        )),
        (None, None) if client.require_pkce || client.client_type == ClientType::Public => {
            Err(OAuthError::invalid_request(
                "PKCE (code_challenge with S256) is required for this application.",
            ))
        }
        (None, None) => Ok(None),
        (Some(_), None) | (Some(_), Some("plain")) => Err(OAuthError::invalid_request(
            "Only code_challenge_method=S256 is supported.",
        )),
        (Some(c), Some("S256")) => {
            let well_formed = c.len() == 43
                && c.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
            if well_formed {
                Ok(Some(c.to_string()))
            } else {
                Err(OAuthError::invalid_request(
                    "code_challenge must be a base64url SHA-256 digest (43 characters).",
                ))
            }
        }
        (Some(_), Some(_)) => Err(OAuthError::invalid_request(
            "Only code_challenge_method=S256 is supported.",
        )),
    }
}
