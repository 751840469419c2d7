//! Registering and editing applications (OIDC clients), shared by the admin API
//! and the CLI. Rules:
//! - redirect URIs are absolute, without fragment (RFC 6749 §3.1.2), https, or
//!   http only on loopback (RFC 8252 §7.3, RFC 9700 §2.1);
//! - public clients authenticate with `none` and may not use client credentials;
//!   confidential clients use `client_secret_basic` or `client_secret_post`;
//! - the secret (≥ 256 random bits) is returned once and stored hashed;
//! - PKCE is required by default (OAuth 2.1, RFC 9700 §2.1.1); a confidential
//!   client may opt out with `requirePkce: false`, a public one never.

use crate::Provider;
use crate::keys::SigningAlg;
use crate::model::*;
use crate::store::StoreError;
use portico_core::random_token;
use serde::Deserialize;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum ClientError {
    #[error("{0}")]
    Invalid(String),
    #[error("not found")]
    NotFound,
    #[error(transparent)]
    Store(#[from] StoreError),
}

/// The registration request (admin API body, camelCase as in the API).
#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct NewClient {
    pub display_name: String,
    #[serde(default)]
    pub redirect_uris: Vec<String>,
    #[serde(default)]
    pub post_logout_redirect_uris: Vec<String>,
    pub client_type: ClientType,
    pub token_endpoint_auth_method: Option<AuthMethod>,
    pub grant_types: Option<Vec<String>>,
    pub backchannel_logout_uri: Option<String>,
    /// Every sign-in to this app needs a second factor.
    #[serde(default)]
    pub require_mfa: bool,
    /// `/authorize` requires PKCE; absent means yes.
    #[serde(default)]
    pub require_pkce: Option<bool>,
    /// `id_token_signed_response_alg`: RS256 (absent), or ES256 / EdDSA
    /// when the deployment signs with it.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "camelCase", deny_unknown_fields)]
pub struct ClientPatch {
    pub display_name: Option<String>,
    pub redirect_uris: Option<Vec<String>>,
    pub post_logout_redirect_uris: Option<Vec<String>>,
    pub grant_types: Option<Vec<String>>,
    pub token_endpoint_auth_method: Option<AuthMethod>,
    pub backchannel_logout_uri: Option<String>,
    pub require_mfa: Option<bool>,
    pub require_pkce: Option<bool>,
    pub id_token_signed_response_alg: Option<String>,
}

fn invalid(msg: impl Into<String>) -> ClientError {
    ClientError::Invalid(msg.into())
}

/// A redirect-style URI an admin may register.
pub fn check_registered_uri(field: &str, uri: &str) -> Result<(), ClientError> {
    let u = url::Url::parse(uri)
        .map_err(|_| invalid(format!("{field}: '{uri}' is not an absolute URL.")))?;
    if u.fragment().is_some() || uri.contains('#') {
        return Err(invalid(format!(
            "{field}: '{uri}' must not have a fragment."
        )));
    }
    let loopback = matches!(
        u.host_str(),
        Some("localhost") | Some("127.0.0.1") | Some("[::1]")
    );
    match u.scheme() {
        "https" => Ok(()),
        "http" if loopback => Ok(()),
        "http" => Err(invalid(format!(
            "{field}: '{uri}' must use https (http is allowed on loopback only)."
        ))),
        // Private-use schemes for native apps (RFC 8252 §7.1) must look like reverse DNS.
        s if s.contains('.') => Ok(()),
        _ => Err(invalid(format!(
            "{field}: '{uri}' has an unsupported scheme."
        ))),
    }
}

fn check_shape(c: &Client) -> Result<(), ClientError> {
    if c.display_name.trim().is_empty() {
        return Err(invalid("displayName is required."));
    }
    for g in &c.grant_types {
        if ![
            GRANT_AUTHORIZATION_CODE,
            GRANT_REFRESH_TOKEN,
            GRANT_CLIENT_CREDENTIALS,
        ]
        .contains(&g.as_str())
        {
            return Err(invalid(format!("grantTypes: '{g}' is not supported.")));
        }
    }
    match (c.client_type, c.auth_method) {
        (ClientType::Public, AuthMethod::None) => {}
        (ClientType::Public, _) => {
            return Err(invalid(
                "A public client must use tokenEndpointAuthMethod 'none'.",
            ));
        }
        (ClientType::Confidential, AuthMethod::None) => {
            return Err(invalid(
                "A confidential client must use client_secret_basic or client_secret_post.",
            ));
        }
        _ => {}
    }
    if c.client_type == ClientType::Public && !c.require_pkce {
        return Err(invalid(
            "requirePkce cannot be turned off for a public client.",
        ));
    }
    if c.client_type == ClientType::Public && c.allows_grant(GRANT_CLIENT_CREDENTIALS) {
        return Err(invalid("A public client cannot use client_credentials."));
    }
    if c.allows_grant(GRANT_AUTHORIZATION_CODE) && c.redirect_uris.is_empty() {
        return Err(invalid(
            "redirectUris is required for the authorization_code grant.",
        ));
    }
    for u in &c.redirect_uris {
        check_registered_uri("redirectUris", u)?;
    }
    for u in &c.post_logout_redirect_uris {
        check_registered_uri("postLogoutRedirectUris", u)?;
    }
    if let Some(u) = &c.backchannel_logout_uri {
        check_registered_uri("backchannelLogoutUri", u)?;
    }
    Ok(())
}

impl Provider {
    /// `idTokenSignedResponseAlg` as registered: an algorithm Portico knows
    /// and this deployment signs with, else a clear refusal.
    fn id_token_alg(&self, alg: Option<&str>) -> Result<Option<SigningAlg>, ClientError> {
        let Some(alg) = alg else { return Ok(None) };
        let alg: SigningAlg = alg
            .parse()
            .map_err(|e| invalid(format!("idTokenSignedResponseAlg: {e}.")))?;
        if !self.config.signing_algs.contains(&alg) {
            let enabled: Vec<&str> = self
                .config
                .signing_algs
                .iter()
                .map(|a| a.as_str())
                .collect();
            return Err(invalid(format!(
                "idTokenSignedResponseAlg: {alg} is not enabled on this deployment (it signs with {}; see PORTICO_SIGNING_ALGS).",
                enabled.join(", ")
            )));
        }
        Ok(Some(alg))
    }

    /// Registers a client; returns it and its secret (shown once) for confidential clients.
    pub async fn register_client(
        &self,
        n: NewClient,
        permissions: Vec<String>,
    ) -> Result<(Client, Option<String>), ClientError> {
        let auth_method = n.token_endpoint_auth_method.unwrap_or(match n.client_type {
            ClientType::Public => AuthMethod::None,
            ClientType::Confidential => AuthMethod::ClientSecretBasic,
        });
        let grant_types = n.grant_types.unwrap_or_else(|| {
            vec![
                GRANT_AUTHORIZATION_CODE.to_string(),
                GRANT_REFRESH_TOKEN.to_string(),
            ]
        });
        let id_token_signed_response_alg =
            self.id_token_alg(n.id_token_signed_response_alg.as_deref())?;
        let secret = (n.client_type == ClientType::Confidential).then(|| random_token(32));
        let client = Client {
            id: Uuid::now_v7(),
            client_id: Uuid::new_v4().to_string(),
            secret_hash: secret
                .as_ref()
                .map(|s| self.hasher.hash("client_secret", s)),
            display_name: n.display_name.trim().to_string(),
            client_type: n.client_type,
            auth_method,
            redirect_uris: n.redirect_uris,
            post_logout_redirect_uris: n.post_logout_redirect_uris,
            grant_types,
            backchannel_logout_uri: n.backchannel_logout_uri,
            require_mfa: n.require_mfa,
            first_party: false,
            require_pkce: n.require_pkce.unwrap_or(true),
            permissions,
            id_token_signed_response_alg,
            created_at: self.clock.now(),
        };
        check_shape(&client)?;
        self.store.create_client(&client).await?;
        Ok((client, secret))
    }

    pub async fn update_client(&self, id: Uuid, p: ClientPatch) -> Result<Client, ClientError> {
        let mut c = self
            .store
            .find_client_by_id(id)
            .await?
            .ok_or(ClientError::NotFound)?;
        if let Some(v) = p.display_name {
            c.display_name = v.trim().to_string();
        }
        if let Some(v) = p.redirect_uris {
            c.redirect_uris = v;
        }
        if let Some(v) = p.post_logout_redirect_uris {
            c.post_logout_redirect_uris = v;
        }
        if let Some(v) = p.grant_types {
            c.grant_types = v;
        }
        if let Some(v) = p.token_endpoint_auth_method {
            c.auth_method = v;
        }
        if p.backchannel_logout_uri.is_some() {
            c.backchannel_logout_uri = p.backchannel_logout_uri;
        }
        if let Some(v) = p.require_mfa {
            c.require_mfa = v;
        }
        if let Some(v) = p.require_pkce {
            c.require_pkce = v;
        }
        if let Some(v) = p.id_token_signed_response_alg.as_deref() {
            c.id_token_signed_response_alg = self.id_token_alg(Some(v))?;
        }
        check_shape(&c)?;
        self.store.update_client(&c).await?;
        Ok(c)
    }
}

impl Provider {
    /// Portico's own clients exist from the first start on: `portico` (sign-ins
    /// that end in Portico, such as redemption) and `portico-admin` (the
    /// portal, which signs in through `/authorize` like any app). Their
    /// redirect URIs follow the issuer; an admin's `requireMfa` is kept.
    pub(crate) async fn ensure_first_party_clients(&self) -> Result<(), StoreError> {
        use crate::authorize::{FIRST_PARTY_CLIENT, PORTAL_CLIENT};
        let wanted = [
            (
                FIRST_PARTY_CLIENT,
                "Portico",
                vec![self.config.endpoint("/account/callback")],
            ),
            (
                PORTAL_CLIENT,
                "Portico admin portal",
                vec![self.portal_redirect_uri()],
            ),
        ];
        for (client_id, name, redirect) in wanted {
            match self.store.find_client(client_id).await? {
                Some(mut c) => {
                    if c.redirect_uris != redirect {
                        c.redirect_uris = redirect;
                        self.store.update_client(&c).await?;
                    }
                }
                None => {
                    let c = Client {
                        id: Uuid::now_v7(),
                        client_id: client_id.to_string(),
                        secret_hash: None,
                        display_name: name.to_string(),
                        client_type: ClientType::Public,
                        auth_method: AuthMethod::None,
                        redirect_uris: redirect,
                        post_logout_redirect_uris: vec![],
                        grant_types: vec![GRANT_AUTHORIZATION_CODE.to_string()],
                        backchannel_logout_uri: None,
                        require_mfa: false,
                        first_party: true,
                        require_pkce: true,
                        permissions: vec![],
                        id_token_signed_response_alg: None,
                        created_at: self.clock.now(),
                    };
                    match self.store.create_client(&c).await {
                        // Another node created it first.
                        Ok(()) | Err(StoreError::Conflict(_)) => {}
                        Err(e) => return Err(e),
                    }
                }
            }
        }
        Ok(())
    }

    /// Where the portal receives its authorization code.
    pub fn portal_redirect_uri(&self) -> String {
        self.config.endpoint("/admin/callback")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn registered_uri_table() {
        let ok = |u: &str| check_registered_uri("redirectUris", u).is_ok();
        assert!(ok("https://app.example/cb"));
        assert!(ok("http://127.0.0.1:8000/cb"));
        assert!(ok("http://localhost/cb"));
        assert!(ok("com.example.app:/cb"));
        assert!(!ok("http://app.example/cb"));
        assert!(!ok("https://app.example/cb#x"));
        assert!(!ok("/relative"));
        assert!(!ok("javascript:alert(1)"));
    }
}
