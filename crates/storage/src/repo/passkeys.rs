//! Passkeys and their ceremonies, for [`portico_directory::mfa::MfaRepo`]
//! (called from `mfa.rs`, which holds the trait's one impl block). A
//! credential id belongs to one user (unique index); a ceremony is taken out
//! by one DELETE whose row count decides, so an answer is accepted once, on
//! whichever node it reaches.

use super::audit::insert_audits;
use super::{db_err, is_unique_violation, micros};
use crate::Storage;
use crate::entity::{passkey_ceremonies, passkey_credentials};
use chrono::{DateTime, Utc};
use portico_directory::mfa::{NewPasskey, StoredCeremony, StoredPasskey};
use portico_directory::{AuditEntry, DirectoryError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use uuid::Uuid;

fn from_row(m: passkey_credentials::Model) -> StoredPasskey {
    StoredPasskey {
        id: m.id,
        user_id: m.user_id,
        credential_id: m.credential_id,
        name: m.name,
        credential: m.credential,
        counter: m.counter,
        aaguid: m.aaguid,
        created_at: m.created_at,
        last_used_at: m.last_used_at,
    }
}

pub(super) async fn delete_all<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
) -> Result<(), DirectoryError> {
    passkey_credentials::Entity::delete_many()
        .filter(passkey_credentials::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(super) async fn find(s: &Storage, user_id: Uuid) -> Result<Vec<StoredPasskey>, DirectoryError> {
    let rows = passkey_credentials::Entity::find()
        .filter(passkey_credentials::Column::UserId.eq(user_id))
        .order_by_asc(passkey_credentials::Column::Id)
        .all(s.db())
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(from_row).collect())
}

pub(super) async fn find_by_credential_id(
    s: &Storage,
    credential_id: &str,
) -> Result<Option<StoredPasskey>, DirectoryError> {
    let row = passkey_credentials::Entity::find()
        .filter(passkey_credentials::Column::CredentialId.eq(credential_id))
        .one(s.db())
        .await
        .map_err(db_err)?;
    Ok(row.map(from_row))
}

pub(super) async fn add(s: &Storage, r: &NewPasskey) -> Result<bool, DirectoryError> {
    let p = &r.passkey;
    let tx = s.write_tx().await.map_err(db_err)?;
    let row = passkey_credentials::ActiveModel {
        id: Set(p.id),
        user_id: Set(p.user_id),
        credential_id: Set(p.credential_id.clone()),
        name: Set(p.name.clone()),
        credential: Set(p.credential.clone()),
        counter: Set(p.counter),
        aaguid: Set(p.aaguid.clone()),
        created_at: Set(micros(p.created_at)),
        last_used_at: Set(p.last_used_at.map(micros)),
    };
    match passkey_credentials::Entity::insert(row)
        .exec_without_returning(&tx)
        .await
    {
        Ok(_) => {}
        // Registered already (to this user or another): nothing is written.
        Err(e) if is_unique_violation(&e) => return Ok(false),
        Err(e) => return Err(db_err(e)),
    }
    if let Some(codes) = &r.recovery_codes {
        super::mfa::put_recovery_codes(&tx, p.user_id, codes).await?;
    }
    insert_audits(&tx, std::slice::from_ref(&r.audit)).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(super) async fn record_use(
    s: &Storage,
    id: Uuid,
    credential: &str,
    counter: i64,
    at: DateTime<Utc>,
) -> Result<(), DirectoryError> {
    use passkey_credentials::Column;
    passkey_credentials::Entity::update_many()
        .col_expr(Column::Credential, Expr::value(credential))
        .col_expr(Column::Counter, Expr::value(counter))
        .col_expr(Column::LastUsedAt, Expr::value(micros(at)))
        .filter(Column::Id.eq(id))
        .exec(s.db())
        .await
        .map_err(db_err)?;
    Ok(())
}

pub(super) async fn rename(
    s: &Storage,
    user_id: Uuid,
    id: Uuid,
    name: &str,
    audit: &AuditEntry,
) -> Result<bool, DirectoryError> {
    use passkey_credentials::Column;
    let tx = s.write_tx().await.map_err(db_err)?;
    let res = passkey_credentials::Entity::update_many()
        .col_expr(Column::Name, Expr::value(name))
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec(&tx)
        .await
        .map_err(db_err)?;
    if res.rows_affected != 1 {
        return Ok(false);
    }
    insert_audits(&tx, std::slice::from_ref(audit)).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(super) async fn delete(
    s: &Storage,
    user_id: Uuid,
    id: Uuid,
    with_recovery_codes: bool,
    audit: &AuditEntry,
) -> Result<bool, DirectoryError> {
    use passkey_credentials::Column;
    let tx = s.write_tx().await.map_err(db_err)?;
    let res = passkey_credentials::Entity::delete_many()
        .filter(Column::Id.eq(id))
        .filter(Column::UserId.eq(user_id))
        .exec(&tx)
        .await
        .map_err(db_err)?;
    if res.rows_affected != 1 {
        return Ok(false);
    }
    if with_recovery_codes {
        super::mfa::put_recovery_codes(&tx, user_id, &[]).await?;
    }
    insert_audits(&tx, std::slice::from_ref(audit)).await?;
    tx.commit().await.map_err(db_err)?;
    Ok(true)
}

pub(super) async fn save_ceremony(s: &Storage, c: &StoredCeremony) -> Result<(), DirectoryError> {
    use passkey_ceremonies::Column;
    let tx = s.write_tx().await.map_err(db_err)?;
    passkey_ceremonies::Entity::delete_many()
        .filter(Column::ExpiresAt.lt(micros(c.created_at)))
        .exec(&tx)
        .await
        .map_err(db_err)?;
    // One ceremony per page at a time: asking again replaces the last one.
    passkey_ceremonies::Entity::delete_many()
        .filter(Column::Binding.eq(c.binding.as_str()))
        .filter(Column::Kind.eq(c.kind.as_str()))
        .exec(&tx)
        .await
        .map_err(db_err)?;
    let row = passkey_ceremonies::ActiveModel {
        id: Set(c.id),
        user_id: Set(c.user_id),
        binding: Set(c.binding.clone()),
        kind: Set(c.kind.clone()),
        state: Set(c.state.clone()),
        created_at: Set(micros(c.created_at)),
        expires_at: Set(micros(c.expires_at)),
    };
    passkey_ceremonies::Entity::insert(row)
        .exec_without_returning(&tx)
        .await
        .map_err(db_err)?;
    tx.commit().await.map_err(db_err)
}

pub(super) async fn consume_ceremony(
    s: &Storage,
    id: Uuid,
    binding: &str,
    kind: &str,
) -> Result<Option<StoredCeremony>, DirectoryError> {
    use passkey_ceremonies::Column;
    let Some(row) = passkey_ceremonies::Entity::find_by_id(id)
        .filter(Column::Binding.eq(binding))
        .filter(Column::Kind.eq(kind))
        .one(s.db())
        .await
        .map_err(db_err)?
    else {
        return Ok(None);
    };
    let taken = passkey_ceremonies::Entity::delete_many()
        .filter(Column::Id.eq(id))
        .exec(s.db())
        .await
        .map_err(db_err)?;
    if taken.rows_affected != 1 {
        // Another request took it first.
        return Ok(None);
    }
    Ok(Some(StoredCeremony {
        id: row.id,
        user_id: row.user_id,
        binding: row.binding,
        kind: row.kind,
        state: row.state,
        created_at: row.created_at,
        expires_at: row.expires_at,
    }))
}
