//! `PolicyStore`: the settings the sign-in policy reads. The tenant's
//! authentication policy is one JSON document in `tenant_settings`; home-realm
//! discovery and `mfaTrust` read the federation tables that
//! `portico-federation`'s admin model writes.

use crate::Storage;
use async_trait::async_trait;
use portico_directory::{Actor, ActorKind, AuditEntry};
use portico_oidc::store::{PolicyStore, SettingsChange, StoreError, StoreResult};
use portico_policy::{MfaTrust, TenantSettings};

fn store_err(e: portico_directory::DirectoryError) -> StoreError {
    StoreError::Internal(anyhow::anyhow!("{e}"))
}

const AUTHENTICATION_POLICY: &str = "authenticationPolicy";
/// Graph's directoryAudit category for policy changes.
const CATEGORY_POLICY: &str = "Policy";

#[async_trait]
impl PolicyStore for Storage {
    async fn guest_domain_blocked(&self, email: &str) -> StoreResult<bool> {
        use portico_directory::collaboration::CollaborationRepo;
        let policy = self
            .collaboration_policy()
            .await
            .map_err(|e| StoreError::Internal(anyhow::anyhow!("{e}")))?;
        Ok(policy.domain_refusal(email).is_some())
    }

    async fn authentication_policy(&self) -> StoreResult<TenantSettings> {
        let value = self
            .load_setting(AUTHENTICATION_POLICY)
            .await
            .map_err(store_err)?;
        match value {
            None => Ok(TenantSettings::default()),
            Some(v) => serde_json::from_value(v).map_err(|e| StoreError::Internal(e.into())),
        }
    }

    async fn catch_up_settings(&self) -> StoreResult<()> {
        self.catch_up(&self.caches.settings)
            .await
            .map_err(|e| StoreError::Internal(e.into()))
    }

    async fn save_authentication_policy(
        &self,
        p: &TenantSettings,
        change: &SettingsChange,
    ) -> StoreResult<()> {
        let actor = Actor {
            kind: if change.actor_kind == "User" {
                ActorKind::User
            } else {
                ActorKind::Application
            },
            id: change.actor_id.clone(),
            display_name: change.actor_name.clone(),
        };
        let audit = AuditEntry::new(
            change.at,
            &actor,
            change.activity,
            CATEGORY_POLICY,
            "Policy",
            AUTHENTICATION_POLICY,
            AUTHENTICATION_POLICY,
        )
        .before(change.before.clone())
        .after(change.after.clone());
        let value = serde_json::to_value(p).map_err(|e| StoreError::Internal(e.into()))?;
        self.save_setting(AUTHENTICATION_POLICY, value, &audit)
            .await
            .map_err(store_err)
    }

    /// From this node's copy of the IdPs (`federation.rs`).
    async fn idp_for_domain(&self, domain: &str) -> StoreResult<Option<String>> {
        let domain = domain.trim().to_lowercase();
        if domain.is_empty() || domain.len() > 253 {
            return Ok(None);
        }
        Ok(self
            .enabled_idp_for_domain(&domain)
            .await
            .map_err(fed_err)?
            .map(|id| id.to_string()))
    }

    /// From this node's copy of the IdPs (`federation.rs`).
    async fn mfa_trust(&self, issuer: &str) -> StoreResult<Option<MfaTrust>> {
        let Some(trust) = self.mfa_trust_of(issuer).await.map_err(fed_err)? else {
            return Ok(None);
        };
        serde_json::from_value(trust)
            .map(Some)
            .map_err(|e| StoreError::Internal(e.into()))
    }
}

fn fed_err(e: portico_federation::StoreError) -> StoreError {
    StoreError::Internal(e.into())
}
