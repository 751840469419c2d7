//! The repository traits the authorization server needs. `portico-storage`
//! implements them; tests and benchmarks use the same implementations.

use crate::interaction::Interaction;
use crate::model::*;
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::audit::AuditEntry;
use uuid::Uuid;

/// A storage failure; the detail is logged, never shown.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("conflict: {0}")]
    Conflict(String),
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait ClientStore: Send + Sync {
    async fn find_client(&self, client_id: &str) -> StoreResult<Option<Client>>;
    async fn find_client_by_id(&self, id: Uuid) -> StoreResult<Option<Client>>;
    async fn list_clients(&self) -> StoreResult<Vec<Client>>;
    /// Inserts the client and its audit entry in one transaction (`None` only
    /// for Portico's own clients, created at first start).
    async fn create_client(&self, client: &Client, audit: Option<&AuditEntry>) -> StoreResult<()>;
    /// Writes the client and its audit entry in one transaction.
    async fn update_client(&self, client: &Client, audit: Option<&AuditEntry>) -> StoreResult<()>;
    /// Deletes the client, revokes every grant issued to it and writes the
    /// audit entry, in one transaction.
    async fn delete_client(
        &self,
        id: Uuid,
        now: DateTime<Utc>,
        audit: &AuditEntry,
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait KeyStore: Send + Sync {
    async fn list_keys(&self) -> StoreResult<Vec<SigningKey>>;
    /// Inserts `new`, sets `expires_at` on the keys it supersedes and writes
    /// the audit entry, in one transaction.
    async fn rotate_keys(
        &self,
        new: &SigningKey,
        retire: &[(String, DateTime<Utc>)],
        audit: &AuditEntry,
    ) -> StoreResult<()>;
    /// Inserts the first key of its algorithm unless one exists; returns false
    /// when another node won the race.
    async fn insert_first_key(&self, key: &SigningKey) -> StoreResult<bool>;
    /// A counter every change of the keys above moves (rotation, first key):
    /// a node reloads its keys when it has moved.
    async fn keys_version(&self) -> StoreResult<i64>;
}

#[async_trait]
pub trait InteractionStore: Send + Sync {
    async fn create_interaction(&self, i: &Interaction) -> StoreResult<()>;
    async fn find_interaction(&self, id: &str) -> StoreResult<Option<Interaction>>;
    async fn update_interaction(&self, i: &Interaction) -> StoreResult<()>;
    /// Deletes it; returns false if it was already gone (a concurrent resume).
    async fn delete_interaction(&self, id: &str) -> StoreResult<bool>;
}

#[async_trait]
pub trait SessionStore: Send + Sync {
    async fn create_session(&self, s: &Session) -> StoreResult<()>;
    async fn find_session(&self, id_hash: &str) -> StoreResult<Option<Session>>;
    /// Deletes the session and queues a back-channel logout to each application
    /// it signed in to that registered a URI, in one transaction.
    async fn end_session(&self, id_hash: &str, now: DateTime<Utc>) -> StoreResult<()>;
}

#[async_trait]
pub trait ConsentStore: Send + Sync {
    async fn find_consent(&self, user_id: Uuid, client_id: &str) -> StoreResult<Option<Consent>>;
    async fn save_consent(&self, c: &Consent) -> StoreResult<()>;
    /// The user's consents, by application.
    async fn list_consents(&self, user_id: Uuid) -> StoreResult<Vec<Consent>>;
    /// Deletes the consent and, in the same transaction, revokes the user's
    /// grants at that application with their access and refresh tokens.
    /// `false` when there was no consent.
    async fn revoke_consent(
        &self,
        user_id: Uuid,
        client_id: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<bool>;
}

#[async_trait]
pub trait GrantStore: Send + Sync {
    /// Saves a new grant and its code in one transaction.
    async fn create_grant_with_code(&self, grant: &Grant, code: &AuthCode) -> StoreResult<()>;
    async fn create_grant(&self, grant: &Grant) -> StoreResult<()>;
    async fn find_grant(&self, id: Uuid) -> StoreResult<Option<Grant>>;
    /// The grant and its user's account (`None` for a client's grant or a
    /// deleted user), for checking a user's access token (`access.rs`). May
    /// answer from a per-node cache: a change made on another node is seen
    /// within `storage::cache::CHANGE_BOUND`, one made on this node at once.
    async fn find_grant_with_account(
        &self,
        id: Uuid,
    ) -> StoreResult<Option<(Grant, Option<Account>)>>;
    /// The code, used or not, without changing it.
    async fn find_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>>;
    /// Marks the code used, atomically: exactly one caller ever gets `Redeemed`.
    async fn consume_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<CodeRedemption>;
    /// Revokes the grant and every access and refresh token of it.
    async fn revoke_grant(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()>;
    /// Saves a refresh token (access tokens are not stored: `access.rs`).
    async fn save_refresh_token(&self, refresh: &RefreshToken) -> StoreResult<()>;
    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>>;
    /// Marks the refresh token used and saves its successor `next`, in one
    /// transaction: exactly one caller ever gets `Rotated`, and only that
    /// caller's `next` is saved (a rotation never leaves the family without
    /// a usable token, nor with two).
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next: &RefreshToken,
        now: DateTime<Utc>,
    ) -> StoreResult<RefreshUse>;
    /// Records the access token `jti` of `client_id` as revoked on its own
    /// (RFC 7009) until `expires_at`, when the token dies anyway; a second
    /// revocation keeps the first. Every node sees it within
    /// `storage::cache::CHANGE_BOUND`.
    async fn revoke_access_token(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()>;
    /// Whether the access token `jti` was revoked on its own. May answer from
    /// a per-node cache, never staler than `storage::cache::CHANGE_BOUND`.
    async fn access_token_revoked(&self, jti: &str) -> StoreResult<bool>;
}

/// How the provider learns about users. The directory owns users; storage
/// answers this from the same tables.
#[async_trait]
pub trait AccountStore: Send + Sync {
    async fn find_account(&self, user_id: Uuid) -> StoreResult<Option<Account>>;
}

/// Who changed a tenant setting, and how: storage writes it to the directory
/// audit log in the transaction of the change (category `Policy`).
#[derive(Debug, Clone)]
pub struct SettingsChange {
    pub at: DateTime<Utc>,
    /// `User` or `Application`, as the audit log names actors.
    pub actor_kind: &'static str,
    pub actor_id: String,
    pub actor_name: String,
    pub activity: &'static str,
    pub before: serde_json::Value,
    pub after: serde_json::Value,
}

/// The settings the sign-in policy reads: the tenant's authentication policy
/// and each trusted IdP's `mfaTrust` (which federation's admin model edits).
#[async_trait]
pub trait PolicyStore: Send + Sync {
    /// The tenant's authentication policy; the defaults when never set.
    async fn authentication_policy(&self) -> StoreResult<portico_policy::TenantSettings>;
    /// Brings this node's copy of the settings up to the database (one
    /// read), so the next `authentication_policy` is current: a PATCH calls
    /// it before merging into what is stored.
    async fn catch_up_settings(&self) -> StoreResult<()>;
    /// Saves the policy and the audit entry describing the change, in one transaction.
    async fn save_authentication_policy(
        &self,
        p: &portico_policy::TenantSettings,
        change: &SettingsChange,
    ) -> StoreResult<()>;
    /// Home-realm discovery: the id of the enabled trusted IdP serving this email domain.
    async fn idp_for_domain(&self, domain: &str) -> StoreResult<Option<String>>;
    /// `mfaTrust` of the enabled trusted IdP with this issuer.
    async fn mfa_trust(&self, issuer: &str) -> StoreResult<Option<portico_policy::MfaTrust>>;
    /// Whether the invitation domains policy refuses this guest's address now
    /// (`blockedDomains`, or missing from a non-empty `allowedDomains`).
    async fn guest_domain_blocked(&self, email: &str) -> StoreResult<bool>;
}

/// What the provider reads of groups and app role assignments (the
/// directory owns them; storage answers from the same tables).
#[async_trait]
pub trait GroupStore: Send + Sync {
    /// The ids of the groups `user_id` is a direct member of, ascending;
    /// with `security_only`, security groups only. For the `groups` claim
    /// and conditional access (`Storage::user_group_ids` is the one query).
    async fn user_group_ids(&self, user_id: Uuid, security_only: bool) -> StoreResult<Vec<Uuid>>;
    /// Whether `user_id` is assigned to the application `resource_id`
    /// (its `Client::id`), directly or through a group it is a direct member of.
    async fn is_assigned(&self, resource_id: Uuid, user_id: Uuid) -> StoreResult<bool>;
}

/// Everything the authorization server persists.
pub trait OidcStore:
    ClientStore
    + KeyStore
    + InteractionStore
    + SessionStore
    + ConsentStore
    + GrantStore
    + AccountStore
    + PolicyStore
    + crate::backchannel::BackchannelStore
    + crate::signin_log::SignInLog
    + GroupStore
    + crate::conditional_access::ConditionalAccessStore
{
}

impl<T> OidcStore for T where
    T: ClientStore
        + KeyStore
        + InteractionStore
        + SessionStore
        + ConsentStore
        + GrantStore
        + AccountStore
        + PolicyStore
        + crate::backchannel::BackchannelStore
        + crate::signin_log::SignInLog
        + GroupStore
        + crate::conditional_access::ConditionalAccessStore
{
}
