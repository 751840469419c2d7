//! The directory audit log: entries are written by the repositories inside the
//! transaction of the change they describe (never on their own), and read by
//! [`AuditRepo`] newest first.

use super::{db_err, from_json, page_limit, to_json};
use crate::Storage;
use crate::entity::directory_audits;
use async_trait::async_trait;
use portico_directory::audit::{AuditQuery, AuditRepo};
use portico_directory::{AuditEntry, DirectoryError};
use sea_orm::ActiveValue::Set;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};

fn to_row(a: &AuditEntry) -> Result<directory_audits::ActiveModel, DirectoryError> {
    Ok(directory_audits::ActiveModel {
        id: Set(a.id),
        at: Set(a.at),
        actor: Set(to_json(&a.actor)?),
        activity: Set(a.activity.clone()),
        category: Set(a.category.clone()),
        target_type: Set(a.target_type.clone()),
        target_id: Set(a.target_id.clone()),
        target_name: Set(a.target_name.clone()),
        before: Set(a.before.clone()),
        after: Set(a.after.clone()),
    })
}

fn from_row(m: directory_audits::Model) -> Result<AuditEntry, DirectoryError> {
    Ok(AuditEntry {
        id: m.id,
        at: m.at,
        actor: from_json(m.actor)?,
        activity: m.activity,
        category: m.category,
        target_type: m.target_type,
        target_id: m.target_id,
        target_name: m.target_name,
        // Some drivers hand back a JSON null for a NULL column.
        before: m.before.filter(|v| !v.is_null()),
        after: m.after.filter(|v| !v.is_null()),
    })
}

/// Inserts `entries` on `db` (the caller's transaction), in one statement.
pub(crate) async fn insert_audits<C: ConnectionTrait>(
    db: &C,
    entries: &[AuditEntry],
) -> Result<(), DirectoryError> {
    write_audits(db, entries).await.map_err(db_err)
}

/// [`insert_audits`] for the stores of other crates (applications, trusted
/// IdPs, signing keys), whose errors are not the directory's.
pub(crate) async fn write_audits<C: ConnectionTrait>(
    db: &C,
    entries: &[AuditEntry],
) -> Result<(), DbErr> {
    if entries.is_empty() {
        return Ok(());
    }
    let rows = entries
        .iter()
        .map(to_row)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| DbErr::Custom(e.to_string()))?;
    directory_audits::Entity::insert_many(rows)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

#[async_trait]
impl AuditRepo for Storage {
    /// Ids are UUIDv7, so `ORDER BY id DESC` is newest first and `id < before`
    /// is a stable keyset page even when entries share a timestamp.
    async fn list_audits(&self, q: &AuditQuery) -> Result<Vec<AuditEntry>, DirectoryError> {
        let mut find = directory_audits::Entity::find();
        if let Some(t) = &q.target_id {
            find = find.filter(directory_audits::Column::TargetId.eq(t.as_str()));
        }
        if let Some(a) = &q.activity {
            find = find.filter(directory_audits::Column::Activity.eq(a.as_str()));
        }
        if let Some(b) = q.before {
            find = find.filter(directory_audits::Column::Id.lt(b));
        }
        find.order_by_desc(directory_audits::Column::Id)
            .limit(page_limit(q.limit))
            .all(self.db())
            .await
            .map_err(db_err)?
            .into_iter()
            .map(from_row)
            .collect()
    }
}
