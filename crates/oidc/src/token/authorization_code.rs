//! `grant_type=authorization_code` (RFC 6749 §4.1.3, OIDC Core §3.1.3.2). Rules:
//! - the code belongs to the authenticated client, and `redirect_uri` must
//!   equal the one of the authorization request. Both are checked *before* the
//!   code is consumed: a code presented by another client, or with another
//!   `redirect_uri`, is refused and stays redeemable by its rightful client.
//!   Another party holding the code must not be able to destroy the real app's
//!   sign-in (a denial of service), and nothing is learned from the attempt;
//! - the code is single use: the rightful client's first presentation consumes
//!   it atomically; a replay by that client is refused and revokes every token
//!   issued from it (§4.1.2, RFC 9700 §4.5);
//! - the code lives `code_ttl` (60 s);
//! - PKCE (RFC 7636 §4.6): a stored challenge needs a matching S256 verifier, and
//!   a verifier without a stored challenge is refused (RFC 9700 §4.8.2). The
//!   verifier is checked *after* the code is consumed: a wrong verifier burns
//!   the code, so an attacker who stole it gets exactly one guess.

use super::TokenForm;
use super::issue::{IssueParams, Refresh, TokenResponse};
use crate::Provider;
use crate::error::OAuthError;
use crate::model::{AuthCode, Client, CodeRedemption, GRANT_AUTHORIZATION_CODE, Grant};
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// RFC 7636 §4.1: 43–128 characters of [A-Z] [a-z] [0-9] - . _ ~
fn is_valid_verifier(v: &str) -> bool {
    (43..=128).contains(&v.len())
        && v.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-._~".contains(&b))
}

/// RFC 7636 §4.6: BASE64URL(SHA256(verifier)) == challenge.
pub fn check_pkce_verifier(
    challenge: Option<&str>,
    verifier: Option<&str>,
) -> Result<(), OAuthError> {
    match (challenge, verifier) {
        (None, None) => Ok(()),
        (None, Some(_)) => Err(OAuthError::invalid_grant(
            "code_verifier sent, but the authorization request had no code_challenge.",
        )),
        (Some(_), None) => Err(OAuthError::invalid_grant("code_verifier is required.")),
        (Some(c), Some(v)) => {
            if !is_valid_verifier(v) {
                return Err(OAuthError::invalid_grant("code_verifier is malformed."));
            }
            let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(v.as_bytes()));
            if bool::from(computed.as_bytes().ct_eq(c.as_bytes())) {
                Ok(())
            } else {
                Err(OAuthError::invalid_grant(
                    "code_verifier does not match the code_challenge.",
                ))
            }
        }
    }
}

impl Provider {
    pub(crate) async fn grant_authorization_code(
        &self,
        client: &Client,
        form: &TokenForm,
    ) -> Result<TokenResponse, OAuthError> {
        if !client.allows_grant(GRANT_AUTHORIZATION_CODE) {
            return Err(OAuthError::unauthorized_client(
                "This application may not use the authorization_code grant.",
            ));
        }
        let code = form.require("code")?;
        let redirect_uri = form.require("redirect_uri")?;
        let (grant, c) = self
            .redeem_code(client, code, redirect_uri, form.get("code_verifier"))
            .await?;
        let account = self.live_account(&grant).await?;
        let offline = grant.scope.split(' ').any(|s| s == "offline_access");
        self.issue_tokens(IssueParams {
            client,
            grant: &grant,
            account: account.as_ref(),
            nonce: c.nonce.as_deref(),
            refresh: if offline { Refresh::New } else { Refresh::None },
            extra: Default::default(),
        })
        .await
    }

    /// Consumes `code` for `client` and returns its live grant: every rule
    /// listed at the top of this file.
    pub(crate) async fn redeem_code(
        &self,
        client: &Client,
        code: &str,
        redirect_uri: &str,
        verifier: Option<&str>,
    ) -> Result<(Grant, AuthCode), OAuthError> {
        let now = self.clock.now();
        let hash = self.hasher.hash("code", code);
        // The checks that leave the code alone, on a read of it; its client
        // and redirect URI never change, so the read cannot go stale.
        let Some(peek) = self.store.find_code(&hash).await? else {
            return Err(OAuthError::invalid_grant(
                "The authorization code is invalid.",
            ));
        };
        if peek.client_id != client.client_id {
            return Err(OAuthError::invalid_grant(
                "The authorization code was issued to another client.",
            ));
        }
        if peek.redirect_uri != redirect_uri {
            return Err(OAuthError::invalid_grant(
                "redirect_uri differs from the authorization request.",
            ));
        }
        let c = match self.store.consume_code(&hash, now).await? {
            CodeRedemption::NotFound => {
                return Err(OAuthError::invalid_grant(
                    "The authorization code is invalid.",
                ));
            }
            CodeRedemption::AlreadyUsed(c) => {
                self.store.revoke_grant(c.grant_id, now).await?;
                tracing::warn!(client_id = %c.client_id, grant = %c.grant_id, "authorization code replayed; grant revoked");
                return Err(OAuthError::invalid_grant(
                    "The authorization code was already used.",
                ));
            }
            CodeRedemption::Redeemed(c) => c,
        };
        if c.expires_at <= now {
            return Err(OAuthError::invalid_grant(
                "The authorization code has expired.",
            ));
        }
        check_pkce_verifier(c.code_challenge.as_deref(), verifier)?;
        // A revoked grant issues nothing: the user may have been cut off (reset
        // redemption, a replay of this code) between the code and this request,
        // and an ID token would otherwise still sign them in to the app.
        let grant = self
            .store
            .find_grant(c.grant_id)
            .await?
            .filter(|g| g.revoked_at.is_none())
            .ok_or_else(|| OAuthError::invalid_grant("The authorization was revoked."))?;
        Ok((grant, c))
    }

    /// A first-party client of this server (the portal) redeems its code
    /// without an HTTP round trip: the same checks as the token endpoint.
    pub async fn redeem_first_party_code(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        verifier: &str,
    ) -> Result<Grant, OAuthError> {
        let client = self
            .store
            .find_client(client_id)
            .await?
            .filter(|c| c.first_party)
            .ok_or_else(|| OAuthError::invalid_client("Not a first-party client."))?;
        let (grant, _) = self
            .redeem_code(&client, code, redirect_uri, Some(verifier))
            .await?;
        Ok(grant)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pkce_table() {
        // RFC 7636 appendix B.
        let v = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk";
        let c = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM";
        assert!(check_pkce_verifier(Some(c), Some(v)).is_ok());
        assert!(check_pkce_verifier(None, None).is_ok());
        assert!(check_pkce_verifier(Some(c), None).is_err());
        assert!(check_pkce_verifier(None, Some(v)).is_err(), "downgrade");
        assert!(
            check_pkce_verifier(Some(c), Some("dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXX"))
                .is_err()
        );
        assert!(check_pkce_verifier(Some(c), Some("short")).is_err());
    }
}
