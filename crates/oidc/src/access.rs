//! Checking a bearer access token Portico issued (RFC 6750): signature, issuer,
//! expiry, `typ: at+jwt`, and that it was not revoked (its record, and through
//! it its grant). Used by userinfo, introspection and the admin API.

use crate::Provider;
use crate::error::OAuthError;
use crate::model::{AccessTokenRecord, Account, Grant};
use crate::tokens::ACCESS_TOKEN_TYP;
use serde_json::{Map, Value};

#[derive(Debug, Clone)]
pub struct ValidAccessToken {
    pub claims: Map<String, Value>,
    pub record: AccessTokenRecord,
    /// The live grant behind a user's token (`None` for client credentials).
    pub grant: Option<Grant>,
    /// The enabled user the token was issued for (`None` for client credentials).
    pub account: Option<Account>,
}

impl ValidAccessToken {
    /// Permissions carried by a client-credentials token (`roles`).
    pub fn roles(&self) -> Vec<String> {
        self.claims
            .get("roles")
            .and_then(Value::as_array)
            .map(|a| {
                a.iter()
                    .filter_map(Value::as_str)
                    .map(str::to_string)
                    .collect()
            })
            .unwrap_or_default()
    }

    pub fn scopes(&self) -> Vec<&str> {
        self.record
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .collect()
    }
}

impl Provider {
    /// Verifies the token and loads, once, the grant and account it stands for.
    pub async fn check_access_token(&self, token: &str) -> Result<ValidAccessToken, OAuthError> {
        let revoked = || OAuthError::invalid_token("The token was revoked.");
        let claims = self
            .verify_own_jwt(token, Some(ACCESS_TOKEN_TYP), false)
            .await?;
        let jti = claims
            .get("jti")
            .and_then(Value::as_str)
            .ok_or_else(|| OAuthError::invalid_token("The token is invalid."))?;
        let record = self
            .store
            .find_access_token(jti)
            .await?
            .filter(|r| r.revoked_at.is_none())
            .ok_or_else(revoked)?;
        let grant = match record.grant_id {
            None => None,
            Some(gid) => Some(
                self.store
                    .find_grant(gid)
                    .await?
                    .filter(|g| g.revoked_at.is_none())
                    .ok_or_else(revoked)?,
            ),
        };
        let account = match record.user_id {
            None => None,
            Some(uid) => Some(
                self.store
                    .find_account(uid)
                    .await?
                    .filter(|a| a.enabled)
                    .ok_or_else(|| OAuthError::invalid_token("The user can no longer sign in."))?,
            ),
        };
        Ok(ValidAccessToken {
            claims,
            record,
            grant,
            account,
        })
    }
}
