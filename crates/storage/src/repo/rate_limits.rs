//! [`portico_directory::signin_limits::RateLimitRepo`] over `rate_limits`:
//! one row per key, counted with a single upsert so every node shares it.

use crate::Storage;
use crate::entity::rate_limits::{self, Column, Entity};
use crate::repo::db_err;
use async_trait::async_trait;
use chrono::{DateTime, Duration, Utc};
use portico_directory::DirectoryError;
use portico_directory::signin_limits::RateLimitRepo;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

/// `INSERT … ON CONFLICT (key) DO UPDATE SET hits = CASE WHEN the window
/// ended THEN 1 ELSE hits + 1 END, … RETURNING hits`: one statement, so two
/// nodes counting at once both count (SQLite serializes writers; PostgreSQL
/// locks the row for the update).
pub(crate) async fn hit_on<C: ConnectionTrait>(
    db: &C,
    key: &str,
    now: DateTime<Utc>,
    window: Duration,
) -> Result<u32, DbErr> {
    let ended = Expr::col((Entity, Column::ExpiresAt)).lte(now);
    let fresh = |then: Expr, otherwise: Expr| Expr::case(ended.clone(), then).finally(otherwise);
    let insert = Query::insert()
        .into_table(Entity)
        .columns([
            Column::Key,
            Column::WindowStart,
            Column::Hits,
            Column::ExpiresAt,
        ])
        .values_panic([key.into(), now.into(), 1i32.into(), (now + window).into()])
        .on_conflict(
            OnConflict::column(Column::Key)
                .values([
                    (
                        Column::Hits,
                        fresh(Expr::val(1i32), Expr::col((Entity, Column::Hits)).add(1)).into(),
                    ),
                    (
                        Column::WindowStart,
                        fresh(Expr::val(now), Expr::col((Entity, Column::WindowStart))).into(),
                    ),
                    (
                        Column::ExpiresAt,
                        fresh(
                            Expr::val(now + window),
                            Expr::col((Entity, Column::ExpiresAt)),
                        )
                        .into(),
                    ),
                ])
                .to_owned(),
        )
        .returning_col(Column::Hits)
        .to_owned();
    let row = db
        .query_one(&insert)
        .await?
        .ok_or_else(|| DbErr::Custom("the rate-limit upsert returned no row".into()))?;
    let hits: i32 = row.try_get("", "hits")?;
    Ok(u32::try_from(hits).unwrap_or(0))
}

#[async_trait]
impl RateLimitRepo for Storage {
    async fn hit(
        &self,
        key: &str,
        now: DateTime<Utc>,
        window: Duration,
    ) -> Result<u32, DirectoryError> {
        hit_on(self.db(), key, now, window).await.map_err(db_err)
    }

    async fn hits(&self, key: &str, now: DateTime<Utc>) -> Result<u32, DirectoryError> {
        let row = Entity::find_by_id(key)
            .filter(Column::ExpiresAt.gt(now))
            .one(self.db())
            .await
            .map_err(db_err)?;
        Ok(row.map_or(0, |r| u32::try_from(r.hits).unwrap_or(0)))
    }

    async fn clear(&self, key: &str) -> Result<(), DirectoryError> {
        rate_limits::Entity::delete_by_id(key)
            .exec(self.db())
            .await
            .map_err(db_err)?;
        Ok(())
    }
}
