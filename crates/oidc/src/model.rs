//! The authorization server's records. Storage persists them; nothing here does IO.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Whether a client can keep a secret (RFC 6749 §2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ClientType {
    Confidential,
    Public,
}

/// How a client authenticates at the token endpoint (OIDC Discovery `token_endpoint_auth_methods_supported`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum AuthMethod {
    ClientSecretBasic,
    ClientSecretPost,
    None,
}

impl AuthMethod {
    pub fn as_str(self) -> &'static str {
        match self {
            AuthMethod::ClientSecretBasic => "client_secret_basic",
            AuthMethod::ClientSecretPost => "client_secret_post",
            AuthMethod::None => "none",
        }
    }
}

pub const GRANT_AUTHORIZATION_CODE: &str = "authorization_code";
pub const GRANT_REFRESH_TOKEN: &str = "refresh_token";
pub const GRANT_CLIENT_CREDENTIALS: &str = "client_credentials";

/// A registered application (OIDC client).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Client {
    pub id: Uuid,
    pub client_id: String,
    /// Keyed hash of the secret; `None` for public clients.
    pub secret_hash: Option<String>,
    pub display_name: String,
    pub client_type: ClientType,
    pub auth_method: AuthMethod,
    pub redirect_uris: Vec<String>,
    pub post_logout_redirect_uris: Vec<String>,
    pub grant_types: Vec<String>,
    pub backchannel_logout_uri: Option<String>,
    /// Every sign-in to this app needs a second factor (`requireMfa`).
    pub require_mfa: bool,
    /// One of Portico's own clients (the portal, account pages): no consent.
    pub first_party: bool,
    /// `/authorize` requires PKCE (`requirePkce`, default on; always on for
    /// public clients).
    pub require_pkce: bool,
    /// Admin API permissions granted to this client through `client_credentials`.
    pub permissions: Vec<String>,
    /// Admin API permissions the app may use on behalf of a signed-in user
    /// (Graph's delegated permissions), asked as scopes at `/authorize`; the
    /// admin API bounds them by the user's own role (`server::api::delegated`).
    #[serde(default)]
    pub delegated_permissions: Vec<String>,
    /// Only users assigned to the app, directly or through a group, may sign
    /// in to it (Graph's `appRoleAssignmentRequired`). Never on first-party clients.
    #[serde(default)]
    pub app_role_assignment_required: bool,
    /// Which of the user's groups the `groups` claim carries.
    #[serde(default)]
    pub group_membership_claims: GroupMembershipClaims,
    /// OIDC third-party initiated login (`initiate_login_uri`): where My Apps
    /// launches the app.
    #[serde(default)]
    pub initiate_login_uri: Option<String>,
    /// The app's logo (an https URL), shown on My Apps.
    #[serde(default)]
    pub logo_uri: Option<String>,
    /// `id_token_signed_response_alg` (OIDC Dynamic Registration §2);
    /// `None` is the default, RS256.
    pub id_token_signed_response_alg: Option<crate::keys::SigningAlg>,
    pub created_at: DateTime<Utc>,
}

/// Which groups an app's tokens name in the `groups` claim (Entra's
/// `groupMembershipClaims`): none, security groups only, or all groups.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum GroupMembershipClaims {
    #[default]
    None,
    SecurityGroup,
    All,
}

impl GroupMembershipClaims {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::None => "None",
            Self::SecurityGroup => "SecurityGroup",
            Self::All => "All",
        }
    }
    pub fn parse(s: &str) -> Option<Self> {
        [Self::None, Self::SecurityGroup, Self::All]
            .into_iter()
            .find(|v| v.as_str() == s)
    }
}

impl Client {
    /// What the audit log records of an application (never its secret).
    pub fn audit_view(&self) -> serde_json::Value {
        serde_json::json!({
            "displayName": self.display_name,
            "clientType": self.client_type,
            "tokenEndpointAuthMethod": self.auth_method.as_str(),
            "redirectUris": self.redirect_uris,
            "postLogoutRedirectUris": self.post_logout_redirect_uris,
            "grantTypes": self.grant_types,
            "backchannelLogoutUri": self.backchannel_logout_uri,
            "requireMfa": self.require_mfa,
            "requirePkce": self.require_pkce,
            "permissions": self.permissions,
            "appRoleAssignmentRequired": self.app_role_assignment_required,
            "groupMembershipClaims": self.group_membership_claims.as_str(),
            "initiateLoginUri": self.initiate_login_uri,
            "logoUri": self.logo_uri,
            "idTokenSignedResponseAlg": self.id_token_signed_response_alg.map(|a| a.as_str()),
        })
    }

    /// The algorithm this client's ID tokens (and logout tokens) are signed with.
    pub fn id_token_alg(&self) -> crate::keys::SigningAlg {
        self.id_token_signed_response_alg
            .unwrap_or(crate::keys::SigningAlg::Rs256)
    }

    pub fn allows_grant(&self, grant: &str) -> bool {
        self.grant_types.iter().any(|g| g == grant)
    }
}

/// The result of a user's authentication, carried from the UI to the tokens.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Authentication {
    pub user_id: Uuid,
    /// When the first factor was performed.
    pub auth_time: DateTime<Utc>,
    /// Authentication Methods References (RFC 8176), e.g. `["pwd"]`, as
    /// `portico_policy::assurance` derives them from the steps.
    pub amr: Vec<String>,
    /// The home IdP's issuer when a guest signed in there (the `idp` claim).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idp: Option<String>,
    #[serde(default, flatten)]
    pub detail: AuthDetail,
}

/// How an authentication came about: its steps, what a home IdP asserted,
/// and the `acr` that follows. Kept with the session so a later sign-in can
/// rely on a remembered second factor, and recorded in the sign-in log.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AuthDetail {
    #[serde(default)]
    pub steps: Vec<portico_policy::DoneStep>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub upstream: Option<UpstreamAssertion>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub acr: Option<String>,
}

/// What a home IdP said about its own sign-in (its ID token's `amr`, `acr`, `auth_time`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct UpstreamAssertion {
    #[serde(default)]
    pub amr: Vec<String>,
    #[serde(default)]
    pub acr: Option<String>,
    #[serde(default)]
    pub auth_time: Option<DateTime<Utc>>,
}

/// A browser's single sign-on session at Portico.
#[derive(Debug, Clone)]
pub struct Session {
    /// Keyed hash of the cookie value.
    pub id_hash: String,
    /// The public session id put in ID tokens (`sid`).
    pub sid: String,
    pub auth: Authentication,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

/// What a user agreed to share with a client.
#[derive(Debug, Clone)]
pub struct Consent {
    pub user_id: Uuid,
    pub client_id: String,
    pub scopes: Vec<String>,
    pub granted_at: DateTime<Utc>,
    /// The privacy statement version the user agreed under (`None`: none set).
    pub privacy_version: Option<String>,
}

/// One authorization: the family that a code, its access tokens and its refresh tokens belong to.
/// Revoking the grant revokes every token of the family.
#[derive(Debug, Clone)]
pub struct Grant {
    pub id: Uuid,
    pub client_id: String,
    pub user_id: Option<Uuid>,
    pub scope: String,
    pub auth_time: Option<DateTime<Utc>>,
    pub amr: Vec<String>,
    /// `https://refeds.org/profile/mfa` or `…/sfa`: what was performed.
    pub acr: Option<String>,
    /// The home IdP's issuer, for guests who signed in there.
    pub idp: Option<String>,
    pub sid: Option<String>,
    /// The `claims` request parameter (OIDC Core §5.5), kept for userinfo and refreshed ID tokens.
    pub claims: Option<serde_json::Value>,
    pub created_at: DateTime<Utc>,
    pub revoked_at: Option<DateTime<Utc>>,
}

/// An authorization code, stored hashed.
#[derive(Debug, Clone)]
pub struct AuthCode {
    pub code_hash: String,
    pub grant_id: Uuid,
    pub client_id: String,
    pub redirect_uri: String,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// What happened when a code was presented.
#[derive(Debug)]
pub enum CodeRedemption {
    /// First presentation: the caller owns the code now.
    Redeemed(AuthCode),
    /// Presented before: a replay (RFC 6749 §4.1.2 says revoke what it issued).
    AlreadyUsed(AuthCode),
    NotFound,
}

/// A refresh token, stored hashed; each use consumes it and issues the next one.
#[derive(Debug, Clone)]
pub struct RefreshToken {
    pub token_hash: String,
    pub grant_id: Uuid,
    pub client_id: String,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    pub consumed_at: Option<DateTime<Utc>>,
}

/// What happened when a refresh token was presented.
#[derive(Debug)]
pub enum RefreshUse {
    Rotated(RefreshToken),
    /// Presented after it was already rotated: someone replayed it (RFC 9700 §4.14.2).
    Reused(RefreshToken),
    NotFound,
}

/// What a JWT access token stands for, read from its claims (access tokens
/// are not stored: `access.rs`).
#[derive(Debug, Clone)]
pub struct AccessTokenRecord {
    pub jti: String,
    pub grant_id: Option<Uuid>,
    pub client_id: String,
    pub user_id: Option<Uuid>,
    pub scope: String,
    pub expires_at: DateTime<Utc>,
    /// Always `None` for a token that passed the check (kept for callers).
    pub revoked_at: Option<DateTime<Utc>>,
}

/// A signing key. The private key is a PKCS#8 PEM.
#[derive(Clone)]
pub struct SigningKey {
    pub kid: String,
    pub alg: String,
    pub private_pem: String,
    pub created_at: DateTime<Utc>,
    /// Signing starts here; the key is published from `created_at` on.
    pub activates_at: DateTime<Utc>,
    /// Removed from the JWKS after this (every token it signed has expired).
    pub expires_at: Option<DateTime<Utc>>,
}

impl std::fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SigningKey")
            .field("kid", &self.kid)
            .field("alg", &self.alg)
            .field("activates_at", &self.activates_at)
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// The account facts the provider needs about a user to issue tokens.
#[derive(Debug, Clone)]
pub struct Account {
    pub id: Uuid,
    pub enabled: bool,
    pub display_name: String,
    pub email: Option<String>,
    pub email_verified: bool,
    /// `Member` or `Guest`.
    pub user_type: String,
    /// Second factors the user has registered.
    pub has_totp: bool,
    pub has_passkey: bool,
}
