//! Minting the tokens of a grant: a JWT access token (RFC 9068), an ID token
//! (OIDC Core §2) and, when allowed, a refresh token. Only the refresh token
//! is stored: the access token is self-contained (`access.rs` says how it is
//! still revoked), so a `client_credentials` token costs a signature and no
//! database write.

use crate::Provider;
use crate::access::GRANT_ID_CLAIM;
use crate::claims::user_claims;
use crate::error::OAuthError;
use crate::model::{Account, Client, GRANT_REFRESH_TOKEN, Grant, RefreshToken, RefreshUse};
use crate::tokens::{ACCESS_TOKEN_TYP, at_hash, sign_with};
use chrono::{DateTime, Utc};
use portico_core::random_token;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// The successful token response (RFC 6749 §5.1).
#[derive(Debug, Serialize)]
pub struct TokenResponse {
    pub access_token: String,
    pub token_type: &'static str,
    pub expires_in: i64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub id_token: Option<String>,
    pub scope: String,
}

pub struct IssueParams<'a> {
    pub client: &'a Client,
    pub grant: &'a Grant,
    pub account: Option<&'a Account>,
    pub nonce: Option<&'a str>,
    pub refresh: Refresh<'a>,
    /// Extra access-token claims (e.g. `roles` for client credentials).
    pub extra: Map<String, Value>,
}

/// Which refresh token an issue hands out.
#[derive(Clone, Copy)]
pub enum Refresh<'a> {
    None,
    /// A new family's first token, if the client may use the refresh grant.
    New,
    /// The successor of the token with this hash, which is marked used in
    /// the transaction that saves its successor, and only if nobody used it
    /// first (then the family is revoked and nothing is issued). The refresh
    /// grant has checked the client may use it.
    Rotate(&'a str),
}

impl Provider {
    pub(crate) async fn issue_tokens(
        &self,
        p: IssueParams<'_>,
    ) -> Result<TokenResponse, OAuthError> {
        let now = self.clock.now();
        let cfg = &self.config;
        let scopes: Vec<String> = p
            .grant
            .scope
            .split(' ')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect();
        let jti = random_token(16);
        let exp = now + cfg.access_token_ttl;
        let sub = match p.account {
            Some(a) => a.id.to_string(),
            None => p.client.client_id.clone(),
        };
        let mut at = Map::new();
        at.insert("iss".into(), json!(cfg.issuer));
        at.insert("sub".into(), json!(sub));
        at.insert("aud".into(), json!(cfg.issuer));
        at.insert("client_id".into(), json!(p.client.client_id));
        at.insert("scope".into(), json!(p.grant.scope));
        at.insert("jti".into(), json!(jti));
        at.insert("iat".into(), json!(now.timestamp()));
        at.insert("exp".into(), json!(exp.timestamp()));
        if let Some(t) = p.grant.auth_time {
            at.insert("auth_time".into(), json!(t.timestamp()));
        }
        // A user's token names its grant, which a check reads (client
        // credentials have a transient grant that is not stored).
        if p.grant.user_id.is_some() {
            at.insert(GRANT_ID_CLAIM.into(), json!(p.grant.id.to_string()));
        }
        at.extend(p.extra);
        let access_token = self
            .sign_jwt(cfg.access_token_alg, ACCESS_TOKEN_TYP, at)
            .await?;

        let id_token = match p.account {
            Some(account) if scopes.iter().any(|s| s == "openid") => {
                // The client's registered algorithm; `at_hash` follows the key that signs.
                let key = self.signing_key(p.client.id_token_alg()).await?;
                let mut id = Map::new();
                id.insert("iss".into(), json!(cfg.issuer));
                id.insert("sub".into(), json!(account.id.to_string()));
                id.insert("aud".into(), json!(p.client.client_id));
                id.insert("iat".into(), json!(now.timestamp()));
                id.insert("exp".into(), json!((now + cfg.id_token_ttl).timestamp()));
                if let Some(t) = p.grant.auth_time {
                    id.insert("auth_time".into(), json!(t.timestamp()));
                }
                if let Some(n) = p.nonce {
                    id.insert("nonce".into(), json!(n));
                }
                if !p.grant.amr.is_empty() {
                    id.insert("amr".into(), json!(p.grant.amr));
                }
                if let Some(acr) = &p.grant.acr {
                    id.insert("acr".into(), json!(acr));
                }
                if let Some(sid) = &p.grant.sid {
                    id.insert("sid".into(), json!(sid));
                }
                if let Some(idp) = &p.grant.idp {
                    id.insert("idp".into(), json!(idp));
                }
                id.insert("at_hash".into(), json!(at_hash(&access_token, key.alg)));
                id.extend(user_claims(
                    account,
                    &scopes,
                    p.grant.claims.as_ref(),
                    "id_token",
                ));
                id.extend(self.groups_claim_for(p.client, account.id).await?);
                Some(sign_with(&key, "JWT", id)?)
            }
            _ => None,
        };

        let refresh = match p.refresh {
            Refresh::None => None,
            Refresh::New if !p.client.allows_grant(GRANT_REFRESH_TOKEN) => None,
            how => Some(self.new_refresh_token(p.grant, p.client, how, now).await?),
        };
        Ok(TokenResponse {
            access_token,
            token_type: "Bearer",
            expires_in: cfg.access_token_ttl.num_seconds(),
            refresh_token: refresh,
            id_token,
            scope: p.grant.scope.clone(),
        })
    }

    /// A new refresh token of `grant`, saved (as a family's first, or as the
    /// successor of the one `how` rotates).
    async fn new_refresh_token(
        &self,
        grant: &Grant,
        client: &Client,
        how: Refresh<'_>,
        now: DateTime<Utc>,
    ) -> Result<String, OAuthError> {
        let token = random_token(32);
        let record = RefreshToken {
            token_hash: self.hasher.hash("refresh", &token),
            grant_id: grant.id,
            client_id: client.client_id.clone(),
            created_at: now,
            expires_at: now + self.config.refresh_token_ttl,
            consumed_at: None,
        };
        let Refresh::Rotate(old) = how else {
            self.store.save_refresh_token(&record).await?;
            return Ok(token);
        };
        match self.store.rotate_refresh_token(old, &record, now).await? {
            RefreshUse::Rotated(_) => Ok(token),
            RefreshUse::Reused(r) => Err(self.refresh_reused(&r, now).await),
            RefreshUse::NotFound => Err(OAuthError::invalid_grant("The refresh token is invalid.")),
        }
    }

    /// The account behind a grant, only while it may still receive tokens.
    pub(crate) async fn live_account(&self, grant: &Grant) -> Result<Option<Account>, OAuthError> {
        match grant.user_id {
            None => Ok(None),
            Some(uid) => match self.store.find_account(uid).await? {
                Some(a) if a.enabled => Ok(Some(a)),
                _ => Err(OAuthError::invalid_grant(
                    "The user of this grant can no longer sign in.",
                )),
            },
        }
    }
}
