//! `KeyStore`: JWT signing keys, the private PEM sealed under the master key.

use super::audit::write_audits;
use super::{internal, is_serialization_failure};
use crate::entity::signing_keys;
use crate::sealing::signing_key_context;
use crate::{Storage, cache};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_core::audit::AuditEntry;
use portico_oidc::model::SigningKey;
use portico_oidc::store::{KeyStore, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseTransaction, DbErr, EntityTrait, IsolationLevel, PaginatorTrait,
    QueryFilter, QueryOrder, TransactionOptions, TransactionTrait,
};

/// How often `insert_first_key` retries after losing a serializable race on PostgreSQL.
const FIRST_KEY_ATTEMPTS: usize = 20;

impl Storage {
    /// The row of `k`, its private key sealed under the master key.
    fn key_to_row(&self, k: &SigningKey) -> anyhow::Result<signing_keys::ActiveModel> {
        Ok(signing_keys::ActiveModel {
            kid: Set(k.kid.clone()),
            alg: Set(k.alg.clone()),
            private_pem: Set(self.seal(&signing_key_context(&k.kid), &k.private_pem)?),
            created_at: Set(k.created_at),
            activates_at: Set(k.activates_at),
            expires_at: Set(k.expires_at),
        })
    }

    fn key_from_row(&self, m: signing_keys::Model) -> anyhow::Result<SigningKey> {
        Ok(SigningKey {
            private_pem: self.open(&signing_key_context(&m.kid), &m.private_pem)?,
            kid: m.kid,
            alg: m.alg,
            created_at: m.created_at,
            activates_at: m.activates_at,
            expires_at: m.expires_at,
        })
    }

    /// The transaction for "insert unless the table is empty": IMMEDIATE on
    /// SQLite (one writer at a time), SERIALIZABLE on PostgreSQL (a concurrent
    /// count-then-insert fails with a serialization error instead of both
    /// inserting).
    async fn first_key_tx(&self) -> Result<DatabaseTransaction, DbErr> {
        if self.is_postgres() {
            self.db()
                .begin_with_options(TransactionOptions {
                    isolation_level: Some(IsolationLevel::Serializable),
                    ..Default::default()
                })
                .await
        } else {
            self.write_tx().await
        }
    }

    /// Inserts `row` unless a key of its algorithm exists (one first key per
    /// algorithm, whichever node gets there first).
    async fn try_insert_first_key(
        &self,
        row: signing_keys::ActiveModel,
        alg: &str,
    ) -> Result<bool, DbErr> {
        let tx = self.first_key_tx().await?;
        let same_alg = signing_keys::Entity::find().filter(signing_keys::Column::Alg.eq(alg));
        if same_alg.count(&tx).await? > 0 {
            return Ok(false);
        }
        signing_keys::Entity::insert(row)
            .exec_without_returning(&tx)
            .await?;
        cache::bump(&tx, cache::KEYS).await?;
        tx.commit().await?;
        Ok(true)
    }
}

#[async_trait]
impl KeyStore for Storage {
    async fn list_keys(&self) -> StoreResult<Vec<SigningKey>> {
        let rows = signing_keys::Entity::find()
            .order_by_asc(signing_keys::Column::CreatedAt)
            .order_by_asc(signing_keys::Column::Kid)
            .all(self.db())
            .await
            .map_err(internal)?;
        let keys = rows.into_iter().map(|r| self.key_from_row(r));
        Ok(keys.collect::<anyhow::Result<_>>()?)
    }

    async fn rotate_keys(
        &self,
        new: &SigningKey,
        retire: &[(String, DateTime<Utc>)],
        audit: &AuditEntry,
    ) -> StoreResult<()> {
        let row = self.key_to_row(new)?;
        let tx = self.write_tx().await.map_err(internal)?;
        signing_keys::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        for (kid, expires_at) in retire {
            signing_keys::Entity::update_many()
                .col_expr(signing_keys::Column::ExpiresAt, Expr::value(*expires_at))
                .filter(signing_keys::Column::Kid.eq(kid.as_str()))
                .exec(&tx)
                .await
                .map_err(internal)?;
        }
        write_audits(&tx, std::slice::from_ref(audit))
            .await
            .map_err(internal)?;
        cache::bump(&tx, cache::KEYS).await.map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    async fn keys_version(&self) -> StoreResult<i64> {
        self.caches
            .keys_reads
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        cache::version(self.db(), cache::KEYS)
            .await
            .map_err(internal)
    }

    async fn insert_first_key(&self, key: &SigningKey) -> StoreResult<bool> {
        let row = self.key_to_row(key)?;
        let mut attempt = 1;
        loop {
            match self.try_insert_first_key(row.clone(), &key.alg).await {
                Ok(inserted) => return Ok(inserted),
                Err(e) if is_serialization_failure(&e) && attempt < FIRST_KEY_ATTEMPTS => {
                    // Back off a little more each time, so racing nodes on a
                    // busy machine stop colliding instead of using up their tries.
                    tokio::time::sleep(std::time::Duration::from_millis(5 * attempt as u64)).await;
                    attempt += 1
                }
                Err(e) => return Err(internal(e)),
            }
        }
    }
}
