//! `ConditionalAccessStore`: policies and named locations as Graph JSON
//! documents. Each change and its directory audit entry (category `Policy`,
//! with the actor) are written in one transaction, with a bump of the
//! `conditional_access` counter: sign-ins read both lists from this node's
//! copy (`cache::Caches::conditional_access`), at most `cache::CHANGE_BOUND`
//! behind a change made on another node.

use super::audit::insert_audits;
use super::internal;
use crate::Storage;
use crate::entity::{conditional_access_policies as policies, named_locations as locations};
use async_trait::async_trait;
use portico_directory::{Actor, ActorKind, AuditEntry};
use portico_oidc::conditional_access::{CaChange, ConditionalAccessStore};
use portico_oidc::store::{StoreError, StoreResult};
use portico_policy::conditional_access::{NamedLocation, Policy};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, QueryOrder};
use uuid::Uuid;

const CATEGORY_POLICY: &str = "Policy";

/// The policies and the named locations, each in id order.
#[derive(Default)]
pub(crate) struct CaDocuments {
    policies: Vec<Policy>,
    locations: Vec<NamedLocation>,
}

fn audit(c: &CaChange) -> AuditEntry {
    let actor = Actor {
        kind: if c.change.actor_kind == "User" {
            ActorKind::User
        } else {
            ActorKind::Application
        },
        id: c.change.actor_id.clone(),
        display_name: c.change.actor_name.clone(),
    };
    let mut e = AuditEntry::new(
        c.change.at,
        &actor,
        c.change.activity,
        CATEGORY_POLICY,
        c.target_kind,
        &c.target_id,
        &c.target_name,
    );
    if !c.change.before.is_null() {
        e = e.before(c.change.before.clone());
    }
    if !c.change.after.is_null() {
        e = e.after(c.change.after.clone());
    }
    e
}

fn uuid_of(id: &str) -> StoreResult<Uuid> {
    Uuid::parse_str(id).map_err(|e| StoreError::Internal(e.into()))
}

fn json_err(e: serde_json::Error) -> StoreError {
    StoreError::Internal(e.into())
}

/// Each stored Graph JSON document, read back.
fn parse_all<T: serde::de::DeserializeOwned>(
    bodies: impl Iterator<Item = serde_json::Value>,
) -> StoreResult<Vec<T>> {
    bodies
        .map(|b| serde_json::from_value(b).map_err(json_err))
        .collect()
}

fn dir_err(e: portico_directory::DirectoryError) -> StoreError {
    StoreError::Internal(anyhow::anyhow!("{e}"))
}

impl Storage {
    /// Upserts `row` on its id and records the audit entry, in one transaction.
    async fn save_document<E, A>(
        &self,
        row: A,
        columns: Vec<E::Column>,
        change: &CaChange,
    ) -> StoreResult<()>
    where
        E: EntityTrait,
        A: sea_orm::ActiveModelTrait<Entity = E> + Send,
        E::Column: sea_orm::IntoIdentity + Copy,
    {
        let tx = self.write_tx().await.map_err(internal)?;
        let pk = columns[0];
        E::insert(row)
            .on_conflict(
                OnConflict::column(pk)
                    .update_columns(columns[1..].iter().copied())
                    .to_owned(),
            )
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        insert_audits(&tx, &[audit(change)])
            .await
            .map_err(dir_err)?;
        self.commit_ca_change(tx).await
    }

    async fn delete_document<E: EntityTrait>(
        &self,
        id: Uuid,
        change: &CaChange,
    ) -> StoreResult<bool>
    where
        <E::PrimaryKey as sea_orm::PrimaryKeyTrait>::ValueType: From<Uuid>,
    {
        let tx = self.write_tx().await.map_err(internal)?;
        let gone = E::delete_by_id(id).exec(&tx).await.map_err(internal)?;
        if gone.rows_affected == 0 {
            return Ok(false);
        }
        insert_audits(&tx, &[audit(change)])
            .await
            .map_err(dir_err)?;
        self.commit_ca_change(tx).await?;
        Ok(true)
    }

    /// Commits a change of a policy or location with a bump of their counter.
    async fn commit_ca_change(&self, tx: sea_orm::DatabaseTransaction) -> StoreResult<()> {
        self.commit_change(tx, &self.caches.conditional_access)
            .await
            .map_err(internal)
    }

    /// This node's copy of every policy and location.
    async fn ca_documents(&self) -> StoreResult<std::sync::Arc<CaDocuments>> {
        let load = async {
            let policies = policies::Entity::find()
                .order_by_asc(policies::Column::Id)
                .all(self.db())
                .await
                .map_err(internal)?;
            let locations = locations::Entity::find()
                .order_by_asc(locations::Column::Id)
                .all(self.db())
                .await
                .map_err(internal)?;
            Ok(CaDocuments {
                policies: parse_all(policies.into_iter().map(|r| r.body))?,
                locations: parse_all(locations.into_iter().map(|r| r.body))?,
            })
        };
        self.snapshot(&self.caches.conditional_access, internal, load)
            .await
    }
}

#[async_trait]
impl ConditionalAccessStore for Storage {
    async fn list_ca_policies(&self) -> StoreResult<Vec<Policy>> {
        Ok(self.ca_documents().await?.policies.clone())
    }

    async fn list_named_locations(&self) -> StoreResult<Vec<NamedLocation>> {
        Ok(self.ca_documents().await?.locations.clone())
    }

    async fn catch_up_ca(&self) -> StoreResult<()> {
        self.catch_up(&self.caches.conditional_access)
            .await
            .map_err(internal)
    }

    async fn save_ca_policy(&self, p: &Policy, change: &CaChange) -> StoreResult<()> {
        use policies::Column as C;
        let row = policies::ActiveModel {
            id: Set(uuid_of(&p.id)?),
            display_name: Set(p.display_name.clone()),
            state: Set(p.state.as_str().to_string()),
            body: Set(serde_json::to_value(p).map_err(json_err)?),
            created_at: Set(p.created_date_time.unwrap_or(change.change.at)),
            modified_at: Set(p.modified_date_time),
        };
        self.save_document(
            row,
            vec![C::Id, C::DisplayName, C::State, C::Body, C::ModifiedAt],
            change,
        )
        .await
    }

    async fn delete_ca_policy(&self, id: &str, change: &CaChange) -> StoreResult<bool> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(false);
        };
        self.delete_document::<policies::Entity>(id, change).await
    }

    async fn save_named_location(&self, l: &NamedLocation, change: &CaChange) -> StoreResult<()> {
        use locations::Column as C;
        let row = locations::ActiveModel {
            id: Set(uuid_of(&l.id)?),
            display_name: Set(l.display_name.clone()),
            body: Set(serde_json::to_value(l).map_err(json_err)?),
            created_at: Set(l.created_date_time.unwrap_or(change.change.at)),
            modified_at: Set(l.modified_date_time),
        };
        self.save_document(
            row,
            vec![C::Id, C::DisplayName, C::Body, C::ModifiedAt],
            change,
        )
        .await
    }

    async fn delete_named_location(&self, id: &str, change: &CaChange) -> StoreResult<bool> {
        let Ok(id) = Uuid::parse_str(id) else {
            return Ok(false);
        };
        self.delete_document::<locations::Entity>(id, change).await
    }
}
