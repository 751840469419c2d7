//! Client authentication at the token, introspection and revocation endpoints
//! (RFC 6749 §2.3, OIDC Core §9). Rules:
//! - exactly one method per request (RFC 6749 §2.3: MUST NOT use more than one);
//! - the method used must be the one registered for the client;
//! - `client_secret_basic` credentials are form-urlencoded before base64 (§2.3.1);
//! - failures are `invalid_client` (401 with `WWW-Authenticate`), with no hint
//!   whether the client exists.

use crate::Provider;
use crate::error::OAuthError;
use crate::model::{AuthMethod, Client};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;

/// The credentials a request carried, before they are checked.
#[derive(Debug, Default)]
pub struct ClientCredentials {
    /// The decoded `Authorization: Basic` header, if any.
    pub basic: Option<(String, String)>,
    pub form_client_id: Option<String>,
    pub form_client_secret: Option<String>,
    pub has_assertion: bool,
}

fn url_decode(s: &str) -> Option<String> {
    let pairs: Vec<(String, String)> = serde_urlencoded::from_str(&format!("v={s}")).ok()?;
    pairs.into_iter().next().map(|(_, v)| v)
}

/// Parses an `Authorization` header value; a malformed Basic header is `invalid_client`.
pub fn parse_basic(header: &str) -> Result<Option<(String, String)>, OAuthError> {
    let Some(encoded) = header
        .strip_prefix("Basic ")
        .or_else(|| header.strip_prefix("basic "))
    else {
        return Ok(None);
    };
    let bad = || OAuthError::invalid_client("Malformed Basic credentials.");
    let raw = STANDARD.decode(encoded.trim()).map_err(|_| bad())?;
    let text = String::from_utf8(raw).map_err(|_| bad())?;
    let (id, secret) = text.split_once(':').ok_or_else(bad)?;
    Ok(Some((
        url_decode(id).ok_or_else(bad)?,
        url_decode(secret).ok_or_else(bad)?,
    )))
}

impl Provider {
    pub async fn authenticate_client(
        &self,
        creds: &ClientCredentials,
    ) -> Result<Client, OAuthError> {
        let failed = || OAuthError::invalid_client("Client authentication failed.");
        if creds.has_assertion {
            return Err(OAuthError::invalid_client(
                "client_assertion is not supported for this client.",
            ));
        }
        let methods = [creds.basic.is_some(), creds.form_client_secret.is_some()];
        if methods.iter().filter(|m| **m).count() > 1 {
            return Err(OAuthError::invalid_request(
                "Use exactly one client authentication method.",
            ));
        }
        let (method, client_id, secret) = match (&creds.basic, &creds.form_client_secret) {
            (Some((id, s)), _) => {
                if creds.form_client_id.as_ref().is_some_and(|f| f != id) {
                    return Err(OAuthError::invalid_request(
                        "client_id in the body differs from the Basic credentials.",
                    ));
                }
                (AuthMethod::ClientSecretBasic, id.clone(), Some(s.clone()))
            }
            (None, Some(s)) => {
                let id = creds.form_client_id.clone().ok_or_else(failed)?;
                (AuthMethod::ClientSecretPost, id, Some(s.clone()))
            }
            (None, None) => {
                let id = creds.form_client_id.clone().ok_or_else(|| {
                    OAuthError::invalid_client("Client authentication is required.")
                })?;
                (AuthMethod::None, id, None)
            }
        };
        let client = self
            .store
            .find_client(&client_id)
            .await?
            .ok_or_else(|| failed().with_debug("unknown client"))?;
        if client.auth_method != method {
            return Err(failed().with_debug(format!(
                "registered {:?}, used {:?}",
                client.auth_method, method
            )));
        }
        if let Some(secret) = secret {
            let ok = client
                .secret_hash
                .as_deref()
                .is_some_and(|h| self.hasher.verify("client_secret", &secret, h));
            if !ok {
                return Err(failed().with_debug("wrong secret"));
            }
        }
        Ok(client)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_credentials_are_url_decoded() {
        let h = format!("Basic {}", STANDARD.encode("my%3Aclient:s%2Bc%26ret"));
        assert_eq!(
            parse_basic(&h).ok().flatten(),
            Some(("my:client".into(), "s+c&ret".into()))
        );
        assert!(parse_basic("Basic !!!").is_err());
        assert!(parse_basic(&format!("Basic {}", STANDARD.encode("nocolon"))).is_err());
        assert_eq!(parse_basic("Bearer x").ok().flatten(), None);
    }
}
