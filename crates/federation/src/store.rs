//! The repositories federation needs; `portico-storage` implements them.

use crate::model::{FederationFlow, IdentityProvider, UpstreamIdentity};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::audit::AuditEntry;
use uuid::Uuid;

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// A domain is already served by another IdP.
    #[error("the domain {0} is already served by another identity provider")]
    DomainTaken(String),
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

#[async_trait]
pub trait IdpRepo: Send + Sync {
    /// Stores a new IdP with its domains and the audit entry, in one
    /// transaction; a domain another IdP serves is `DomainTaken`.
    async fn create_idp(&self, idp: &IdentityProvider, audit: &AuditEntry) -> StoreResult<()>;
    async fn find_idp(&self, id: Uuid) -> StoreResult<Option<IdentityProvider>>;
    /// Every IdP, oldest first.
    async fn list_idps(&self) -> StoreResult<Vec<IdentityProvider>>;
    /// Replaces the IdP (domains included) and writes the audit entry, in one
    /// transaction; `false` when it does not exist. A domain another IdP
    /// serves is `DomainTaken`.
    async fn update_idp(&self, idp: &IdentityProvider, audit: &AuditEntry) -> StoreResult<bool>;
    /// Deletes the IdP, its domains and its flows and writes the audit entry,
    /// in one transaction; `false` when it did not exist.
    async fn delete_idp(&self, id: Uuid, audit: &AuditEntry) -> StoreResult<bool>;
    /// The IdP serving this (lowercase) domain, enabled or not.
    async fn find_idp_by_domain(&self, domain: &str) -> StoreResult<Option<IdentityProvider>>;
    /// The IdP whose issuer is exactly this, if any.
    async fn find_idp_by_issuer(&self, issuer: &str) -> StoreResult<Option<IdentityProvider>>;
}

#[async_trait]
pub trait FlowRepo: Send + Sync {
    async fn create_flow(&self, flow: &FederationFlow) -> StoreResult<()>;
    /// Atomically moves the pending, unexpired flow with this state hash to
    /// `returned` and returns it; `None` for an unknown, used or expired state.
    /// Exactly one caller wins for a given state.
    async fn consume_flow_state(
        &self,
        state_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<Option<FederationFlow>>;
    /// Records the verified identity (`returned` → `completed`).
    async fn complete_flow(&self, id: Uuid, result: &UpstreamIdentity) -> StoreResult<()>;
    async fn find_flow(&self, id: Uuid) -> StoreResult<Option<FederationFlow>>;
    /// Atomically moves a completed, unexpired flow to `claimed`; `true` for
    /// the one caller that did.
    async fn claim_flow(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<bool>;
}
