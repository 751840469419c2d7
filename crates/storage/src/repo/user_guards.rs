//! The checks a user write makes inside its own transaction, so that two
//! concurrent writes cannot both pass a check that only one may pass:
//! - `If-Match`: the row is still the version the caller read;
//! - the last active administrator: a change (or a delete) that takes an
//!   active administrator away needs another one to stay.
//!
//! On PostgreSQL the active administrators' rows are locked first, always
//! in id order (`SELECT … ORDER BY id FOR UPDATE`), then the user's row:
//! every writer takes the locks in the same order, so two admins disabling
//! each other wait for one another instead of deadlocking, and the second
//! one re-reads the first one's committed row (READ COMMITTED re-checks a
//! locked row's `WHERE`) and finds nobody else. On SQLite the IMMEDIATE
//! write transaction already admits one writer at a time.

use super::db_err;
use super::user_rows::with_identities;
use crate::Storage;
use crate::entity::users;
use chrono::{DateTime, Utc};
use portico_directory::{DirectoryError, User, UserChange, last_admin};
use sea_orm::{
    ColumnTrait, Condition, DatabaseTransaction, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

impl Storage {
    /// The active administrators' ids, locked on PostgreSQL.
    async fn lock_active_admins(
        &self,
        tx: &DatabaseTransaction,
        now: DateTime<Utc>,
    ) -> Result<Vec<Uuid>, DirectoryError> {
        let mut q = users::Entity::find()
            .select_only()
            .column(users::Column::Id)
            .filter(users::Column::IsAdmin.eq(true))
            .filter(users::Column::AccountEnabled.eq(true))
            .filter(
                Condition::any()
                    .add(users::Column::AccessExpiresAt.is_null())
                    .add(users::Column::AccessExpiresAt.gt(now)),
            )
            .order_by_asc(users::Column::Id);
        if self.is_postgres() {
            q = q.lock_exclusive();
        }
        q.into_tuple::<Uuid>().all(tx).await.map_err(db_err)
    }

    /// The user as it is now, its row locked on PostgreSQL.
    async fn lock_user(&self, tx: &DatabaseTransaction, id: Uuid) -> Result<User, DirectoryError> {
        let mut q = users::Entity::find_by_id(id);
        if self.is_postgres() {
            q = q.lock_exclusive();
        }
        let row = q
            .one(tx)
            .await
            .map_err(db_err)?
            .ok_or(DirectoryError::NotFound)?;
        with_identities(tx, vec![row])
            .await?
            .into_iter()
            .next()
            .ok_or(DirectoryError::NotFound)
    }

    /// Refuses `c` when the user is no longer the version the caller named,
    /// or when it would take away the last active administrator.
    pub(crate) async fn check_change(
        &self,
        tx: &DatabaseTransaction,
        id: Uuid,
        c: &UserChange,
    ) -> Result<(), DirectoryError> {
        let now = c.updated_at;
        let admins = self.lock_active_admins(tx, now).await?;
        let before = self.lock_user(tx, id).await?;
        if c.if_match
            .as_deref()
            .is_some_and(|tag| !before.matches_etag(tag))
        {
            return Err(DirectoryError::Stale);
        }
        if before.loses_admin(&c.apply_to(&before), now) && admins.iter().all(|a| *a == id) {
            return Err(last_admin());
        }
        Ok(())
    }

    /// Refuses deleting the last active administrator.
    pub(crate) async fn check_delete(
        &self,
        tx: &DatabaseTransaction,
        id: Uuid,
        now: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        let admins = self.lock_active_admins(tx, now).await?;
        if admins.contains(&id) && admins.len() == 1 {
            return Err(last_admin());
        }
        Ok(())
    }
}
