//! Email one-time codes. [`Storage::check`] decides every attempt with one
//! conditional UPDATE on a live code (not consumed, attempts left, not
//! expired), so under any concurrency exactly one right answer is accepted and
//! no wrong answer goes uncounted.

use crate::Storage;
use crate::entity::one_time_codes::{self, Column};
use crate::repo::db_err;
use crate::repo::outbox::enqueue_mail;
use crate::repo::rate_limits::hit_on;
use chrono::{DateTime, Utc};
use portico_core::OutgoingMail;
use portico_directory::DirectoryError;
use portico_directory::invitations::{CodeCheck, OneTimeCode};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter};
use subtle::ConstantTimeEq;
use uuid::Uuid;

fn to_row(c: &OneTimeCode) -> one_time_codes::ActiveModel {
    one_time_codes::ActiveModel {
        id: Set(c.id),
        purpose: Set(c.purpose.clone()),
        subject: Set(c.subject.clone()),
        email: Set(c.email.clone()),
        code_hash: Set(c.code_hash.clone()),
        binding_hash: Set(c.binding_hash.clone()),
        attempts: Set(c.attempts),
        created_at: Set(c.created_at),
        expires_at: Set(c.expires_at),
        consumed_at: Set(c.consumed_at),
    }
}

pub(super) fn from_row(m: one_time_codes::Model) -> OneTimeCode {
    OneTimeCode {
        id: m.id,
        purpose: m.purpose,
        subject: m.subject,
        email: m.email,
        code_hash: m.code_hash,
        binding_hash: m.binding_hash,
        attempts: m.attempts,
        created_at: m.created_at,
        expires_at: m.expires_at,
        consumed_at: m.consumed_at,
    }
}

/// The code may still be tried at `now`.
fn live(id: Uuid, max_attempts: i32, now: DateTime<Utc>) -> Condition {
    Condition::all()
        .add(Column::Id.eq(id))
        .add(Column::ConsumedAt.is_null())
        .add(Column::Attempts.lt(max_attempts))
        .add(Column::ExpiresAt.gt(now))
}

impl Storage {
    pub(super) async fn insert_code(
        &self,
        c: &OneTimeCode,
        mail: &OutgoingMail,
    ) -> Result<(), DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        one_time_codes::Entity::insert(to_row(c))
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        enqueue_mail(&tx, mail).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)
    }

    /// The send limit, atomically on both backends: the transaction first
    /// touches the address's row in `rate_limits` (an upsert), which
    /// serializes senders to one address (SQLite: `BEGIN IMMEDIATE` holds the
    /// write lock; PostgreSQL: the row lock, held to commit). Only then are
    /// the codes of the last hour counted, and the new one written or not.
    pub(super) async fn insert_code_within_limit(
        &self,
        c: &OneTimeCode,
        mail: &OutgoingMail,
        since: DateTime<Utc>,
        limit: u64,
    ) -> Result<bool, DirectoryError> {
        let tx = self.write_tx().await.map_err(db_err)?;
        let lock = format!("code-send:{}", c.email);
        hit_on(&tx, &lock, c.created_at, chrono::Duration::hours(1))
            .await
            .map_err(db_err)?;
        let sent = one_time_codes::Entity::find()
            .filter(Column::Email.eq(c.email.as_str()))
            .filter(Column::CreatedAt.gte(since))
            .count(&tx)
            .await
            .map_err(db_err)?;
        if sent >= limit {
            tx.rollback().await.map_err(db_err)?;
            return Ok(false);
        }
        one_time_codes::Entity::insert(to_row(c))
            .exec_without_returning(&tx)
            .await
            .map_err(db_err)?;
        enqueue_mail(&tx, mail).await.map_err(db_err)?;
        tx.commit().await.map_err(db_err)?;
        Ok(true)
    }

    pub(super) async fn count_codes(
        &self,
        email: &str,
        since: DateTime<Utc>,
    ) -> Result<u64, DirectoryError> {
        one_time_codes::Entity::find()
            .filter(Column::Email.eq(email))
            .filter(Column::CreatedAt.gte(since))
            .count(self.db())
            .await
            .map_err(db_err)
    }

    /// An unknown code is `Spent`: like a used one, all the caller can do is
    /// send a new one. The hashes are compared in constant time; the UPDATE
    /// then re-checks liveness, and its row count decides.
    pub(super) async fn check(
        &self,
        id: Uuid,
        code_hash: &str,
        max_attempts: i32,
        now: DateTime<Utc>,
    ) -> Result<CodeCheck, DirectoryError> {
        let Some(code) = one_time_codes::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(db_err)?
        else {
            return Ok(CodeCheck::Spent);
        };
        let is_live =
            code.consumed_at.is_none() && code.attempts < max_attempts && now < code.expires_at;
        if !is_live {
            return Ok(CodeCheck::Spent);
        }
        let right: bool = code.code_hash.as_bytes().ct_eq(code_hash.as_bytes()).into();
        if right {
            let res = one_time_codes::Entity::update_many()
                .col_expr(Column::ConsumedAt, Expr::value(now))
                .filter(live(id, max_attempts, now))
                .exec(self.db())
                .await
                .map_err(db_err)?;
            return Ok(if res.rows_affected == 1 {
                CodeCheck::Accepted
            } else {
                CodeCheck::Spent
            });
        }
        let plus_one: SimpleExpr = Expr::col(Column::Attempts).add(1);
        let counted = one_time_codes::Entity::update_many()
            .col_expr(Column::Attempts, plus_one)
            .filter(live(id, max_attempts, now))
            .exec_with_returning(self.db())
            .await
            .map_err(db_err)?;
        Ok(match counted.first() {
            Some(c) => CodeCheck::Wrong {
                attempts_left: std::cmp::max(max_attempts - c.attempts, 0),
            },
            None => CodeCheck::Spent,
        })
    }
}
