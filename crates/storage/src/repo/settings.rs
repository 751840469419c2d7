//! Tenant-wide settings documents in `tenant_settings` (one JSON value per
//! name): the authentication policy (`policy.rs`) and the external
//! collaboration settings (`CollaborationRepo`, here). A change and its audit
//! entry are written in one transaction, with a bump of the `tenant_settings`
//! counter: each node reads the documents whole from its cache
//! (`cache::Caches::settings`), at most `cache::CHANGE_BOUND` behind a change
//! made on another node.

use super::audit::insert_audits;
use super::db_err;
use crate::Storage;
use crate::entity::tenant_settings;
use async_trait::async_trait;
use portico_directory::collaboration::{CollaborationPolicy, CollaborationRepo};
use portico_directory::{AuditEntry, DirectoryError};
use sea_orm::ActiveValue::Set;
use sea_orm::EntityTrait;
use sea_orm::sea_query::OnConflict;

const COLLABORATION_POLICY: &str = "collaborationPolicy";

impl Storage {
    /// The stored document `name`, if any, from this node's copy of them all.
    pub(crate) async fn load_setting(
        &self,
        name: &str,
    ) -> Result<Option<serde_json::Value>, DirectoryError> {
        let load = async {
            Ok(tenant_settings::Entity::find()
                .all(self.db())
                .await
                .map_err(db_err)?
                .into_iter()
                .map(|r| (r.name, r.value))
                .collect())
        };
        let all = self.snapshot(&self.caches.settings, db_err, load).await?;
        Ok(all.get(name).cloned())
    }

    /// Replaces the document `name` and records `audit`, in one transaction.
    pub(crate) async fn save_setting(
        &self,
        name: &str,
        value: serde_json::Value,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let row = tenant_settings::ActiveModel {
            name: Set(name.to_string()),
            value: Set(value),
            updated_at: Set(audit.at),
        };
        tenant_settings::Entity::insert(row)
            .on_conflict(
                OnConflict::column(tenant_settings::Column::Name)
                    .update_columns([
                        tenant_settings::Column::Value,
                        tenant_settings::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        self.commit_change(tx, &self.caches.settings)
            .await
            .map_err(db_err)
    }
}

#[async_trait]
impl CollaborationRepo for Storage {
    async fn collaboration_policy(&self) -> Result<CollaborationPolicy, DirectoryError> {
        match self.load_setting(COLLABORATION_POLICY).await? {
            None => Ok(CollaborationPolicy::default()),
            Some(v) => serde_json::from_value(v).map_err(|e| DirectoryError::Internal(e.into())),
        }
    }

    async fn catch_up_collaboration_policy(&self) -> Result<(), DirectoryError> {
        self.catch_up(&self.caches.settings).await.map_err(db_err)
    }

    async fn save_collaboration_policy(
        &self,
        p: &CollaborationPolicy,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let value = serde_json::to_value(p).map_err(|e| DirectoryError::Internal(e.into()))?;
        self.save_setting(COLLABORATION_POLICY, value, audit).await
    }
}
