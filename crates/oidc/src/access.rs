//! Checking a bearer access token Portico issued (RFC 6750, RFC 9068).
//!
//! Access tokens are self-contained: issuing one writes nothing (`token/issue.rs`),
//! so `client_credentials` runs at the signing limit. A token is valid while
//! everything it stands for still is, so revocation is as strong as a stored
//! token's:
//!
//! | check | read from | stale at most |
//! |---|---|---|
//! | signature, `typ: at+jwt`, `iss`, `exp` | the JWT and the signing keys | — |
//! | not revoked on its own (RFC 7009) | `revoked_access_tokens`, through a per-node cache behind a change counter | `storage::cache::CHANGE_BOUND` (1 s) |
//! | its client is still registered, and was when the token was issued | the clients cache behind its change counter | 1 s |
//! | a user's token: its grant (`grant_id`) is not revoked and is the token's | point reads of the grant and the account, kept per node for 1 s (`GrantStore::find_grant_with_account`) | 1 s; at once on the node that made the change |
//! | a user's token: its user exists and may sign in (access not expired at the check) | the same | 1 s |
//!
//! Deleting a client, disabling or deleting a user, a password reset and
//! revoking a consent or a refresh token family all revoke grants or remove
//! the client in their transaction, so every token they issued stops working
//! on every node within 1 s. A user's token without `grant_id` (issued before
//! access tokens stopped being stored) is refused.

use crate::Provider;
use crate::error::OAuthError;
use crate::model::{AccessTokenRecord, Account, Grant};
use crate::tokens::ACCESS_TOKEN_TYP;
use chrono::DateTime;
use serde_json::{Map, Value};
use uuid::Uuid;

/// The access-token claim naming the grant a user's token belongs to.
pub const GRANT_ID_CLAIM: &str = "grant_id";

#[derive(Debug, Clone)]
pub struct ValidAccessToken {
    pub claims: Map<String, Value>,
    /// What the token stands for, from its claims.
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
    /// Verifies the token and that it was not revoked (see the module), and
    /// loads, once, the grant and account it stands for.
    pub async fn check_access_token(&self, token: &str) -> Result<ValidAccessToken, OAuthError> {
        let revoked = || OAuthError::invalid_token("The token was revoked.");
        let invalid = || OAuthError::invalid_token("The token is invalid.");
        let claims = self
            .verify_own_jwt(token, Some(ACCESS_TOKEN_TYP), false)
            .await?;
        let text = |k: &str| claims.get(k).and_then(Value::as_str);
        let (Some(jti), Some(client_id), Some(sub)) = (text("jti"), text("client_id"), text("sub"))
        else {
            return Err(invalid().with_debug("jti, client_id or sub missing"));
        };
        let iat = claims
            .get("iat")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?;
        let exp = claims
            .get("exp")
            .and_then(Value::as_i64)
            .ok_or_else(invalid)?;
        if self.store.access_token_revoked(jti).await? {
            return Err(revoked());
        }
        // A client deleted and registered again under the same client_id does
        // not bring its earlier tokens back.
        self.store
            .find_client(client_id)
            .await?
            .filter(|c| iat >= c.created_at.timestamp())
            .ok_or_else(revoked)?;
        let (grant, account) = match claims.get(GRANT_ID_CLAIM) {
            Some(gid) => {
                let gid = gid
                    .as_str()
                    .and_then(|g| Uuid::parse_str(g).ok())
                    .ok_or_else(invalid)?;
                let (grant, account) = self
                    .store
                    .find_grant_with_account(gid)
                    .await?
                    .filter(|(g, _)| g.revoked_at.is_none() && g.client_id == client_id)
                    .ok_or_else(revoked)?;
                grant
                    .user_id
                    .filter(|u| u.to_string() == sub)
                    .ok_or_else(invalid)?;
                let account = account
                    .filter(|a| a.enabled)
                    .ok_or_else(|| OAuthError::invalid_token("The user can no longer sign in."))?;
                (Some(grant), Some(account))
            }
            None if sub == client_id => (None, None),
            None => return Err(invalid().with_debug("a user's token without grant_id")),
        };
        let record = AccessTokenRecord {
            jti: jti.to_string(),
            grant_id: grant.as_ref().map(|g| g.id),
            client_id: client_id.to_string(),
            user_id: account.as_ref().map(|a| a.id),
            scope: text("scope").unwrap_or_default().to_string(),
            expires_at: DateTime::from_timestamp(exp, 0).ok_or_else(invalid)?,
            revoked_at: None,
        };
        Ok(ValidAccessToken {
            claims,
            record,
            grant,
            account,
        })
    }
}
