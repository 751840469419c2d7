//! `grant_type=client_credentials` (RFC 6749 §4.4). Rules:
//! - only confidential clients registered for this grant;
//! - `scope` names admin permissions (Microsoft Graph names, e.g.
//!   `User.ReadWrite.All`); each must be granted to the client; none asked
//!   means all it has. They are carried in the `roles` claim, as Graph does
//!   for application permissions;
//! - no refresh token and no ID token (§4.4.3).

use super::TokenForm;
use super::issue::{IssueParams, Refresh, TokenResponse};
use crate::Provider;
use crate::error::OAuthError;
use crate::model::{Client, ClientType, GRANT_CLIENT_CREDENTIALS, Grant};
use serde_json::{Map, json};
use uuid::Uuid;

impl Provider {
    pub(crate) async fn grant_client_credentials(
        &self,
        client: &Client,
        form: &TokenForm,
    ) -> Result<TokenResponse, OAuthError> {
        if client.client_type != ClientType::Confidential
            || !client.allows_grant(GRANT_CLIENT_CREDENTIALS)
        {
            return Err(OAuthError::unauthorized_client(
                "This application may not use the client_credentials grant.",
            ));
        }
        let roles: Vec<String> = match form.get("scope") {
            None => client.permissions.clone(),
            Some(s) => {
                let asked: Vec<String> = s
                    .split(' ')
                    .filter(|x| !x.is_empty())
                    .map(str::to_string)
                    .collect();
                if let Some(bad) = asked.iter().find(|a| !client.permissions.contains(a)) {
                    return Err(OAuthError::invalid_scope(format!(
                        "The scope {bad} is not granted to this application."
                    )));
                }
                asked
            }
        };
        // A transient grant: it only carries the scope into the token. It is not
        // stored and the token names no grant (issue.rs); such a token lives
        // while its client does (access.rs).
        let now = self.clock.now();
        let grant = Grant {
            id: Uuid::now_v7(),
            client_id: client.client_id.clone(),
            user_id: None,
            scope: roles.join(" "),
            auth_time: None,
            amr: vec![],
            acr: None,
            idp: None,
            sid: None,
            claims: None,
            created_at: now,
            revoked_at: None,
        };
        let mut extra = Map::new();
        extra.insert("roles".into(), json!(roles));
        self.issue_tokens(IssueParams {
            client,
            grant: &grant,
            account: None,
            nonce: None,
            refresh: Refresh::None,
            extra,
        })
        .await
    }
}
