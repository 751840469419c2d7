//! `portico_mail::MailQueue` over `mail_outbox`.
//!
//! A claim sets `locked_until`; a message is claimable when it is pending, due
//! (`next_attempt_at <= now`) and unclaimed or its claim ran out. Two workers
//! never claim the same message at once:
//! * PostgreSQL: the candidate rows are selected `FOR UPDATE SKIP LOCKED`, so a
//!   concurrent claimer skips them instead of waiting, and they are marked in
//!   the same transaction; once it commits, the new `locked_until` excludes them.
//! * SQLite: the select and the mark run under `BEGIN IMMEDIATE`, which
//!   serializes claimers on the write lock.

use super::outbox::mail_from_row;
use crate::Storage;
use crate::entity::mail_outbox::{self, Column};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_mail::{MailQueue, MailStatus, QueuedMail};
use sea_orm::sea_query::{Expr, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, Condition, EntityTrait, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
    Select,
};
use uuid::Uuid;

const NO_TIME: Option<DateTime<Utc>> = None;

fn pending() -> sea_orm::sea_query::SimpleExpr {
    Column::Status.eq(MailStatus::Pending.as_str())
}

/// Attempts are counted in `u32` by the worker and stored as `INTEGER`.
fn attempts_col(attempts: u32) -> i32 {
    i32::try_from(attempts).unwrap_or(i32::MAX)
}

/// The messages a claim at `now` may take: the urgent lane first (a one-time
/// code is never stuck behind a bulk import's invitations), then oldest due
/// first. On PostgreSQL
/// rows locked by another claimer's transaction are skipped, not waited for.
fn due(now: DateTime<Utc>, limit: u32, postgres: bool) -> Select<mail_outbox::Entity> {
    let free = Condition::any()
        .add(Column::LockedUntil.is_null())
        .add(Column::LockedUntil.lte(now));
    let due = mail_outbox::Entity::find()
        .filter(pending())
        .filter(Column::NextAttemptAt.lte(now))
        .filter(free)
        .order_by_asc(Column::Lane)
        .order_by_asc(Column::NextAttemptAt)
        .order_by_asc(Column::Id)
        .limit(u64::from(limit));
    if postgres {
        due.lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
    } else {
        due
    }
}

#[async_trait]
impl MailQueue for Storage {
    async fn claim_due_mail(
        &self,
        now: DateTime<Utc>,
        lease_until: DateTime<Utc>,
        limit: u32,
    ) -> anyhow::Result<Vec<QueuedMail>> {
        let tx = self.write_tx().await?;
        let rows = due(now, limit, self.is_postgres()).all(&tx).await?;
        if rows.is_empty() {
            return Ok(vec![]);
        }
        mail_outbox::Entity::update_many()
            .col_expr(Column::LockedUntil, Expr::value(lease_until))
            .filter(Column::Id.is_in(rows.iter().map(|r| r.id)))
            .exec(&tx)
            .await?;
        tx.commit().await?;
        rows.iter()
            .map(|r| {
                Ok(QueuedMail {
                    mail: mail_from_row(r)?,
                    attempts: u32::try_from(r.attempts).unwrap_or(0),
                })
            })
            .collect()
    }

    async fn mark_mail_sent(&self, id: Uuid, now: DateTime<Utc>) -> anyhow::Result<()> {
        mail_outbox::Entity::update_many()
            .col_expr(Column::Status, Expr::value(MailStatus::Sent.as_str()))
            .col_expr(Column::SentAt, Expr::value(now))
            .col_expr(Column::LockedUntil, Expr::value(NO_TIME))
            .filter(Column::Id.eq(id))
            // The first final status wins: a worker whose lease ran out
            // cannot turn another worker's `sent` back into a retry.
            .filter(pending())
            .exec(self.db())
            .await?;
        Ok(())
    }

    async fn schedule_mail_retry(
        &self,
        id: Uuid,
        attempts: u32,
        next_attempt_at: DateTime<Utc>,
        error: &str,
    ) -> anyhow::Result<()> {
        mail_outbox::Entity::update_many()
            .col_expr(Column::Attempts, Expr::value(attempts_col(attempts)))
            .col_expr(Column::NextAttemptAt, Expr::value(next_attempt_at))
            .col_expr(Column::LockedUntil, Expr::value(NO_TIME))
            .col_expr(Column::LastError, Expr::value(error))
            .filter(Column::Id.eq(id))
            // The first final status wins: a worker whose lease ran out
            // cannot turn another worker's `sent` back into a retry.
            .filter(pending())
            .exec(self.db())
            .await?;
        Ok(())
    }

    async fn mark_mail_failed(&self, id: Uuid, attempts: u32, error: &str) -> anyhow::Result<()> {
        mail_outbox::Entity::update_many()
            .col_expr(Column::Status, Expr::value(MailStatus::Failed.as_str()))
            .col_expr(Column::Attempts, Expr::value(attempts_col(attempts)))
            .col_expr(Column::LockedUntil, Expr::value(NO_TIME))
            .col_expr(Column::LastError, Expr::value(error))
            .filter(Column::Id.eq(id))
            // The first final status wins: a worker whose lease ran out
            // cannot turn another worker's `sent` back into a retry.
            .filter(pending())
            .exec(self.db())
            .await?;
        Ok(())
    }

    async fn count_mail(&self, status: MailStatus) -> anyhow::Result<u64> {
        Ok(mail_outbox::Entity::find()
            .filter(Column::Status.eq(status.as_str()))
            .count(self.db())
            .await?)
    }

    async fn next_mail_due(&self) -> anyhow::Result<Option<DateTime<Utc>>> {
        Ok(mail_outbox::Entity::find()
            .select_only()
            .column(Column::NextAttemptAt)
            .filter(pending())
            .order_by_asc(Column::NextAttemptAt)
            .into_tuple::<DateTime<Utc>>()
            .one(self.db())
            .await?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sea_orm::{DbBackend, QueryTrait};

    #[test]
    fn postgres_claims_skip_locked_rows_and_sqlite_relies_on_begin_immediate() {
        let now = chrono::DateTime::UNIX_EPOCH;
        let pg = due(now, 5, true).build(DbBackend::Postgres).to_string();
        assert!(pg.ends_with("FOR UPDATE SKIP LOCKED"), "{pg}");
        let lite = due(now, 5, false).build(DbBackend::Sqlite).to_string();
        assert!(!lite.contains("FOR UPDATE"), "{lite}");
    }
}
