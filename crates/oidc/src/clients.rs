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
use portico_core::audit::{Actor, AuditEntry, CATEGORY_APPLICATIONS};
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
    /// Only assigned users (directly or through a group) may sign in.
    #[serde(default)]
    pub app_role_assignment_required: bool,
    #[serde(default)]
    pub group_membership_claims: Option<GroupMembershipClaims>,
    #[serde(default)]
    pub initiate_login_uri: Option<String>,
    #[serde(default)]
    pub logo_uri: Option<String>,
    /// `id_token_signed_response_alg`: RS256 (absent), or ES256 / EdDSA
    /// when the deployment signs with it.
    #[serde(default)]
    pub id_token_signed_response_alg: Option<String>,
    /// Admin API permissions the app may use for a signed-in user.
    #[serde(default)]
    pub delegated_permissions: Option<Vec<String>>,
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
    pub app_role_assignment_required: Option<bool>,
    pub group_membership_claims: Option<GroupMembershipClaims>,
    /// An empty string clears it.
    pub initiate_login_uri: Option<String>,
    /// An empty string clears it.
    pub logo_uri: Option<String>,
    pub id_token_signed_response_alg: Option<String>,
    /// Admin API permissions the app may use for a signed-in user.
    pub delegated_permissions: Option<Vec<String>>,
}

/// What an application may be granted to act for a signed-in user (Graph's
/// delegated permission names). The user's role still bounds each.
pub const DELEGATED_PERMISSIONS: &[&str] = &[
    "User.Read.All",
    "User.ReadWrite.All",
    "User.Invite.All",
    "Group.Read.All",
    "Group.ReadWrite.All",
    "GroupMember.Read.All",
    "GroupMember.ReadWrite.All",
];

fn check_delegated(v: &[String]) -> Result<Vec<String>, ClientError> {
    let mut out: Vec<String> = Vec::new();
    for p in v {
        if !DELEGATED_PERMISSIONS.contains(&p.as_str()) {
            return Err(invalid(format!(
                "delegatedPermissions: '{p}' is not one of {}.",
                DELEGATED_PERMISSIONS.join(", ")
            )));
        }
        if !out.contains(p) {
            out.push(p.clone());
        }
    }
    Ok(out)
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
    // A browser opens these from My Apps: web addresses only (OIDC Core
    // §4 asks https of `initiate_login_uri`; http stays for loopback tests).
    for (field, u) in [
        ("initiateLoginUri", &c.initiate_login_uri),
        ("logoUri", &c.logo_uri),
    ] {
        if let Some(u) = u {
            check_registered_uri(field, u)?;
            if !(u.starts_with("https://") || u.starts_with("http://")) {
                return Err(invalid(format!("{field}: '{u}' must be an https URL.")));
            }
        }
    }
    if c.first_party && !c.delegated_permissions.is_empty() {
        return Err(invalid(
            "Portico's own clients never act on the admin API for a user.",
        ));
    }
    if c.first_party && c.app_role_assignment_required {
        return Err(invalid(
            "Portico's own clients are never gated by assignment.",
        ));
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
        actor: &Actor,
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
            delegated_permissions: check_delegated(&n.delegated_permissions.unwrap_or_default())?,
            app_role_assignment_required: n.app_role_assignment_required,
            group_membership_claims: n.group_membership_claims.unwrap_or_default(),
            initiate_login_uri: n.initiate_login_uri.filter(|u| !u.is_empty()),
            logo_uri: n.logo_uri.filter(|u| !u.is_empty()),
            id_token_signed_response_alg,
            created_at: self.clock.now(),
        };
        check_shape(&client)?;
        let audit = self.application_audit(actor, "Add application", None, Some(&client));
        self.store.create_client(&client, Some(&audit)).await?;
        Ok((client, secret))
    }

    /// Applies `p` and audits the change (before and after) in the same
    /// transaction.
    pub async fn update_client(
        &self,
        id: Uuid,
        p: ClientPatch,
        actor: &Actor,
    ) -> Result<Client, ClientError> {
        let before = self
            .store
            .find_client_by_id(id)
            .await?
            .ok_or(ClientError::NotFound)?;
        let mut c = before.clone();
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
        if let Some(v) = p.app_role_assignment_required {
            c.app_role_assignment_required = v;
        }
        if let Some(v) = p.delegated_permissions {
            c.delegated_permissions = check_delegated(&v)?;
        }
        if let Some(v) = p.group_membership_claims {
            c.group_membership_claims = v;
        }
        if let Some(v) = p.initiate_login_uri {
            c.initiate_login_uri = Some(v).filter(|u| !u.is_empty());
        }
        if let Some(v) = p.logo_uri {
            c.logo_uri = Some(v).filter(|u| !u.is_empty());
        }
        if let Some(v) = p.id_token_signed_response_alg.as_deref() {
            c.id_token_signed_response_alg = self.id_token_alg(Some(v))?;
        }
        check_shape(&c)?;
        let audit = self.application_audit(actor, "Update application", Some(&before), Some(&c));
        self.store.update_client(&c, Some(&audit)).await?;
        Ok(c)
    }

    /// Replaces a confidential client's secret with a new random one, shown
    /// once and stored hashed; the old secret stops working at once (tokens
    /// already issued stay valid). Audited in the same transaction; the audit
    /// names the change, never the secret.
    pub async fn reset_client_secret(
        &self,
        id: Uuid,
        actor: &Actor,
    ) -> Result<(Client, String), ClientError> {
        let before = self
            .store
            .find_client_by_id(id)
            .await?
            .ok_or(ClientError::NotFound)?;
        if before.client_type != ClientType::Confidential || before.first_party {
            return Err(ClientError::Invalid(
                "clientSecret: only a confidential application has a secret to reset".into(),
            ));
        }
        let secret = random_token(32);
        let mut c = before.clone();
        c.secret_hash = Some(self.hasher.hash("client_secret", &secret));
        let mut audit =
            self.application_audit(actor, "Reset application secret", Some(&before), Some(&c));
        if let Some(serde_json::Value::Object(after)) = audit.after.as_mut() {
            after.insert(
                "secretResetDateTime".into(),
                serde_json::json!(self.clock.now()),
            );
        }
        self.store.update_client(&c, Some(&audit)).await?;
        Ok((c, secret))
    }

    /// Deletes the client; its grants are revoked and the deletion audited in
    /// the same transaction.
    pub async fn delete_client(&self, id: Uuid, actor: &Actor) -> Result<(), ClientError> {
        let before = self
            .store
            .find_client_by_id(id)
            .await?
            .ok_or(ClientError::NotFound)?;
        let audit = self.application_audit(actor, "Delete application", Some(&before), None);
        if !self
            .store
            .delete_client(id, self.clock.now(), &audit)
            .await?
        {
            return Err(ClientError::NotFound);
        }
        Ok(())
    }

    /// The audit entry of an application change (`before`/`after`: the
    /// application as it was and is; `None` for create/delete).
    fn application_audit(
        &self,
        actor: &Actor,
        activity: &str,
        before: Option<&Client>,
        after: Option<&Client>,
    ) -> AuditEntry {
        let named = after.or(before);
        let mut e = AuditEntry::new(
            self.clock.now(),
            actor,
            activity,
            CATEGORY_APPLICATIONS,
            "Application",
            named.map(|c| c.client_id.as_str()).unwrap_or_default(),
            named.map(|c| c.display_name.as_str()).unwrap_or_default(),
        );
        e.before = before.map(Client::audit_view);
        e.after = after.map(Client::audit_view);
        e
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
                vec![
                    self.config.endpoint("/account/callback"),
                    self.config.endpoint("/myapps/callback"),
                ],
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
                        self.store.update_client(&c, None).await?;
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
                        delegated_permissions: vec![],
                        app_role_assignment_required: false,
                        group_membership_claims: GroupMembershipClaims::None,
                        initiate_login_uri: None,
                        logo_uri: None,
                        id_token_signed_response_alg: None,
                        created_at: self.clock.now(),
                    };
                    match self.store.create_client(&c, None).await {
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
