//! Token introspection (RFC 7662) and revocation (RFC 7009). Introspection
//! requires a confidential client; revocation also serves public clients, which
//! identify themselves with `client_id` (RFC 7009 §2.1). A client may only see
//! or revoke its own tokens. Unknown,
//! expired, revoked or foreign tokens introspect as `{"active": false}`.
//! Revoking a refresh token revokes its whole grant; revoking an access token
//! revokes that token.

use crate::Provider;
use crate::error::OAuthError;
use crate::model::Client;
use serde_json::{Map, Value, json};

fn looks_like_jwt(t: &str) -> bool {
    t.split('.').count() == 3
}

impl Provider {
    pub async fn introspect(
        &self,
        client: &Client,
        token: &str,
    ) -> Result<Map<String, Value>, OAuthError> {
        let inactive = || {
            let mut m = Map::new();
            m.insert("active".into(), json!(false));
            m
        };
        let now = self.clock.now();
        if looks_like_jwt(token) {
            let Ok(valid) = self.check_access_token(token).await else {
                return Ok(inactive());
            };
            if valid.record.client_id != client.client_id {
                return Ok(inactive());
            }
            let mut m = Map::new();
            m.insert("active".into(), json!(true));
            m.insert("token_type".into(), json!("access_token"));
            for k in [
                "scope",
                "client_id",
                "sub",
                "exp",
                "iat",
                "iss",
                "aud",
                "jti",
                "auth_time",
                "roles",
            ] {
                if let Some(v) = valid.claims.get(k) {
                    m.insert(k.into(), v.clone());
                }
            }
            return Ok(m);
        }
        let hash = self.hasher.hash("refresh", token);
        let Some(r) = self.store.find_refresh_token(&hash).await? else {
            return Ok(inactive());
        };
        if r.client_id != client.client_id || r.consumed_at.is_some() || r.expires_at <= now {
            return Ok(inactive());
        }
        let Some(grant) = self
            .store
            .find_grant(r.grant_id)
            .await?
            .filter(|g| g.revoked_at.is_none())
        else {
            return Ok(inactive());
        };
        let mut m = Map::new();
        m.insert("active".into(), json!(true));
        m.insert("token_type".into(), json!("refresh_token"));
        m.insert("scope".into(), json!(grant.scope));
        m.insert("client_id".into(), json!(r.client_id));
        if let Some(u) = grant.user_id {
            m.insert("sub".into(), json!(u.to_string()));
        }
        m.insert("exp".into(), json!(r.expires_at.timestamp()));
        m.insert("iat".into(), json!(r.created_at.timestamp()));
        m.insert("iss".into(), json!(self.config.issuer));
        Ok(m)
    }

    pub async fn revoke(
        &self,
        client: &Client,
        token: &str,
        hint: Option<&str>,
    ) -> Result<(), OAuthError> {
        if let Some(h) = hint
            && h != "access_token"
            && h != "refresh_token"
        {
            return Err(OAuthError::new(
                "unsupported_token_type",
                "token_type_hint must be access_token or refresh_token.",
            ));
        }
        let now = self.clock.now();
        if looks_like_jwt(token) {
            // An invalid or expired token needs no revocation (RFC 7009 §2.2).
            if let Ok(claims) = self
                .verify_own_jwt(token, Some(crate::tokens::ACCESS_TOKEN_TYP), true)
                .await
                && let Some(jti) = claims.get("jti").and_then(Value::as_str)
                && let Some(exp) = claims.get("exp").and_then(Value::as_i64)
                && let Some(expires_at) = chrono::DateTime::from_timestamp(exp, 0)
                && expires_at > now
            {
                if claims.get("client_id").and_then(Value::as_str) != Some(&client.client_id) {
                    return Err(OAuthError::unauthorized_client(
                        "The token was issued to another client.",
                    ));
                }
                self.store
                    .revoke_access_token(jti, &client.client_id, expires_at, now)
                    .await?;
            }
            return Ok(());
        }
        let hash = self.hasher.hash("refresh", token);
        if let Some(r) = self.store.find_refresh_token(&hash).await? {
            if r.client_id != client.client_id {
                return Err(OAuthError::unauthorized_client(
                    "The token was issued to another client.",
                ));
            }
            self.store.revoke_grant(r.grant_id, now).await?;
        }
        Ok(())
    }
}
