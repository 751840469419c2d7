//! The UserInfo endpoint (OIDC Core §5.3): GET or POST, the access token in the
//! `Authorization: Bearer` header or (POST only) the `access_token` form field,
//! never both (RFC 6750 §2). Claims follow the token's scopes and the `claims`
//! request parameter's `userinfo` member.

use crate::Provider;
use crate::claims::user_claims;
use crate::error::OAuthError;
use serde_json::{Map, Value, json};

impl Provider {
    pub async fn userinfo(&self, token: &str) -> Result<Map<String, Value>, OAuthError> {
        let valid = self.check_access_token(token).await?;
        if !valid.scopes().contains(&"openid") {
            return Err(OAuthError::new(
                "insufficient_scope",
                "The token lacks the openid scope.",
            ));
        }
        let account = valid
            .account
            .as_ref()
            .ok_or_else(|| OAuthError::invalid_token("This token has no user."))?;
        let claims_param = valid.grant.as_ref().and_then(|g| g.claims.as_ref());
        let scopes: Vec<String> = valid.scopes().iter().map(|s| s.to_string()).collect();
        let mut out = Map::new();
        out.insert("sub".into(), json!(account.id.to_string()));
        out.extend(user_claims(account, &scopes, claims_param, "userinfo"));
        if let Some(client) = self.store.find_client(&valid.record.client_id).await? {
            out.extend(self.groups_claim_for(&client, account.id).await?);
        }
        Ok(out)
    }
}
