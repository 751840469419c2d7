//! Users' second factors ([`MfaRepo`]). The single-use rules are conditional
//! UPDATEs whose row count decides, so they hold across nodes sharing the
//! database: a TOTP step is used only if it is later than the last one used,
//! a recovery code only if it is still unused. Confirming an app, replacing
//! recovery codes and deleting methods are one transaction with their audit
//! entry; a used recovery code also queues its email in that transaction.

use super::audit::insert_audits;
use super::outbox::enqueue_mail;
use super::{db_err, micros};
use crate::Storage;
use crate::entity::{mfa_failures, mfa_recovery_codes, mfa_totp_methods};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_directory::mfa::{
    ComposeRecoveryCodeUse, MfaRepo, NewPasskey, RecentFailures, StoredCeremony, StoredPasskey,
    StoredRecoveryCode, StoredTotp, TotpConfirmation,
};
use portico_directory::{AuditEntry, DirectoryError};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

fn totp_from_row(m: mfa_totp_methods::Model) -> StoredTotp {
    StoredTotp {
        id: m.id,
        user_id: m.user_id,
        secret_sealed: m.secret_sealed,
        created_at: m.created_at,
        confirmed_at: m.confirmed_at,
        last_used_step: m.last_used_step,
    }
}

fn code_row(c: &StoredRecoveryCode) -> mfa_recovery_codes::ActiveModel {
    mfa_recovery_codes::ActiveModel {
        id: Set(c.id),
        user_id: Set(c.user_id),
        code_hash: Set(c.code_hash.clone()),
        created_at: Set(micros(c.created_at)),
        used_at: Set(c.used_at.map(micros)),
    }
}

/// Deletes the user's recovery codes and inserts `codes`, on the caller's transaction.
pub(super) async fn put_recovery_codes<C: ConnectionTrait>(
    db: &C,
    user_id: Uuid,
    codes: &[StoredRecoveryCode],
) -> Result<(), DirectoryError> {
    mfa_recovery_codes::Entity::delete_many()
        .filter(mfa_recovery_codes::Column::UserId.eq(user_id))
        .exec(db)
        .await
        .map_err(db_err)?;
    if !codes.is_empty() {
        mfa_recovery_codes::Entity::insert_many(codes.iter().map(code_row))
            .exec_without_returning(db)
            .await
            .map_err(db_err)?;
    }
    Ok(())
}

async fn unused_codes<C: ConnectionTrait>(db: &C, user_id: Uuid) -> Result<u32, DirectoryError> {
    let n = mfa_recovery_codes::Entity::find()
        .filter(mfa_recovery_codes::Column::UserId.eq(user_id))
        .filter(mfa_recovery_codes::Column::UsedAt.is_null())
        .count(db)
        .await
        .map_err(db_err)?;
    Ok(u32::try_from(n).unwrap_or(u32::MAX))
}

async fn failure_times<C: ConnectionTrait>(
    db: &C,
    filter: Condition,
    since: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<DateTime<Utc>>, DirectoryError> {
    let rows = mfa_failures::Entity::find()
        .filter(filter)
        .filter(mfa_failures::Column::FailedAt.gt(since))
        .order_by_desc(mfa_failures::Column::FailedAt)
        .limit(u64::from(limit))
        .all(db)
        .await
        .map_err(db_err)?;
    Ok(rows.into_iter().map(|r| r.failed_at).collect())
}

#[async_trait]
impl MfaRepo for Storage {
    async fn find_totps(&self, user_id: Uuid) -> Result<Vec<StoredTotp>, DirectoryError> {
        let rows = mfa_totp_methods::Entity::find()
            .filter(mfa_totp_methods::Column::UserId.eq(user_id))
            .order_by_asc(mfa_totp_methods::Column::Id)
            .all(self.db())
            .await
            .map_err(db_err)?;
        Ok(rows.into_iter().map(totp_from_row).collect())
    }

    async fn save_pending_totp(&self, t: &StoredTotp) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        mfa_totp_methods::Entity::delete_many()
            .filter(mfa_totp_methods::Column::UserId.eq(t.user_id))
            .filter(mfa_totp_methods::Column::ConfirmedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        let row = mfa_totp_methods::ActiveModel {
            id: Set(t.id),
            user_id: Set(t.user_id),
            secret_sealed: Set(t.secret_sealed.clone()),
            created_at: Set(micros(t.created_at)),
            confirmed_at: Set(t.confirmed_at.map(micros)),
            last_used_step: Set(t.last_used_step),
        };
        mfa_totp_methods::Entity::insert(row)
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    async fn confirm_totp(&self, c: &TotpConfirmation) -> Result<bool, DirectoryError> {
        use mfa_totp_methods::Column;
        let tx = self.write_tx().await.map_err(db_err)?;
        let confirmed = mfa_totp_methods::Entity::update_many()
            .col_expr(Column::ConfirmedAt, Expr::value(micros(c.at)))
            .col_expr(Column::LastUsedStep, Expr::value(c.step))
            .filter(Column::Id.eq(c.totp_id))
            .filter(Column::UserId.eq(c.user_id))
            .filter(Column::ConfirmedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if confirmed.rows_affected != 1 {
            // Dropping the transaction rolls it back; nothing was changed.
            return Ok(false);
        }
        mfa_totp_methods::Entity::delete_many()
            .filter(Column::UserId.eq(c.user_id))
            .filter(Column::Id.ne(c.totp_id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        put_recovery_codes(&tx, c.user_id, &c.recovery_codes).await?;
        insert_audits(&tx, std::slice::from_ref(&c.audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    /// RFC 6238 §5.2: the verifier must not accept the second attempt of the
    /// same OTP. `last_used_step < step` also refuses an earlier step once a
    /// later one was used, so steps only move forward.
    async fn consume_totp_step(&self, id: Uuid, step: i64) -> Result<bool, DirectoryError> {
        use mfa_totp_methods::Column;
        let res = mfa_totp_methods::Entity::update_many()
            .col_expr(Column::LastUsedStep, Expr::value(step))
            .filter(Column::Id.eq(id))
            .filter(Column::ConfirmedAt.is_not_null())
            .filter(
                Condition::any()
                    .add(Column::LastUsedStep.is_null())
                    .add(Column::LastUsedStep.lt(step)),
            )
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(res.rows_affected == 1)
    }

    async fn count_recovery_codes_left(&self, user_id: Uuid) -> Result<u32, DirectoryError> {
        unused_codes(self.db(), user_id).await
    }

    async fn replace_recovery_codes(
        &self,
        user_id: Uuid,
        codes: &[StoredRecoveryCode],
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        put_recovery_codes(&tx, user_id, codes).await?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn consume_recovery_code(
        &self,
        user_id: Uuid,
        code_hash: &str,
        at: DateTime<Utc>,
        compose: &ComposeRecoveryCodeUse<'_>,
    ) -> Result<Option<u32>, DirectoryError> {
        use mfa_recovery_codes::Column;
        let tx = self.write_tx().await.map_err(db_err)?;
        let used = mfa_recovery_codes::Entity::update_many()
            .col_expr(Column::UsedAt, Expr::value(micros(at)))
            .filter(Column::UserId.eq(user_id))
            .filter(Column::CodeHash.eq(code_hash))
            .filter(Column::UsedAt.is_null())
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if used.rows_affected != 1 {
            return Ok(None);
        }
        let left = unused_codes(&tx, user_id).await?;
        let r = compose(left);
        enqueue_mail(&tx, &r.mail).await.map_err(db_err)?;
        insert_audits(&tx, std::slice::from_ref(&r.audit)).await?;
        tx.commit().await.map_err(db_err)?;
        Ok(Some(left))
    }

    async fn delete_methods(
        &self,
        user_id: Uuid,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        mfa_totp_methods::Entity::delete_many()
            .filter(mfa_totp_methods::Column::UserId.eq(user_id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        super::passkeys::delete_all(&tx, user_id).await?;
        put_recovery_codes(&tx, user_id, &[]).await?;
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn delete_totps(
        &self,
        user_id: Uuid,
        with_recovery_codes: bool,
        audit: &AuditEntry,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        mfa_totp_methods::Entity::delete_many()
            .filter(mfa_totp_methods::Column::UserId.eq(user_id))
            .exec(&tx)
            .await
            .map_err(db_err)?;
        if with_recovery_codes {
            put_recovery_codes(&tx, user_id, &[]).await?;
        }
        insert_audits(&tx, std::slice::from_ref(audit)).await?;
        tx.commit().await.map_err(db_err)
    }

    async fn find_passkeys(&self, user_id: Uuid) -> Result<Vec<StoredPasskey>, DirectoryError> {
        super::passkeys::find(self, user_id).await
    }

    async fn find_passkey_by_credential_id(
        &self,
        credential_id: &str,
    ) -> Result<Option<StoredPasskey>, DirectoryError> {
        super::passkeys::find_by_credential_id(self, credential_id).await
    }

    async fn add_passkey(&self, r: &NewPasskey) -> Result<bool, DirectoryError> {
        super::passkeys::add(self, r).await
    }

    async fn record_passkey_use(
        &self,
        id: Uuid,
        credential: &str,
        counter: i64,
        at: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        super::passkeys::record_use(self, id, credential, counter, at).await
    }

    async fn rename_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        name: &str,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        super::passkeys::rename(self, user_id, id, name, audit).await
    }

    async fn delete_passkey(
        &self,
        user_id: Uuid,
        id: Uuid,
        with_recovery_codes: bool,
        audit: &AuditEntry,
    ) -> Result<bool, DirectoryError> {
        super::passkeys::delete(self, user_id, id, with_recovery_codes, audit).await
    }

    async fn save_ceremony(&self, c: &StoredCeremony) -> Result<(), DirectoryError> {
        super::passkeys::save_ceremony(self, c).await
    }

    async fn consume_ceremony(
        &self,
        id: Uuid,
        binding: &str,
        kind: &str,
    ) -> Result<Option<StoredCeremony>, DirectoryError> {
        super::passkeys::consume_ceremony(self, id, binding, kind).await
    }

    async fn record_failure(
        &self,
        user_id: Uuid,
        ip: &str,
        at: DateTime<Utc>,
        purge_before: DateTime<Utc>,
    ) -> Result<(), DirectoryError> {
        mfa_failures::Entity::delete_many()
            .filter(mfa_failures::Column::FailedAt.lt(purge_before))
            .exec(self.db())
            .await
            .map_err(db_err)?;
        let row = mfa_failures::ActiveModel {
            id: Set(Uuid::now_v7()),
            user_id: Set(user_id),
            ip: Set(ip.to_owned()),
            failed_at: Set(micros(at)),
        };
        mfa_failures::Entity::insert(row)
            .exec_without_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }

    async fn recent_failures(
        &self,
        user_id: Uuid,
        ip: &str,
        since: DateTime<Utc>,
        limit: u32,
    ) -> Result<RecentFailures, DirectoryError> {
        let by_user = Condition::all().add(mfa_failures::Column::UserId.eq(user_id));
        let by_ip = Condition::all().add(mfa_failures::Column::Ip.eq(ip));
        Ok(RecentFailures {
            by_user: failure_times(self.db(), by_user, since, limit).await?,
            by_ip: failure_times(self.db(), by_ip, since, limit).await?,
        })
    }
}
