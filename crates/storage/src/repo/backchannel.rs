//! `BackchannelStore` and the one helper every session ending goes through:
//! [`end_sessions`] queues a logout token per (application, session) for the
//! applications the session signed in to, then deletes the sessions, on the
//! caller's connection (a transaction, so both happen or neither).

use super::internal;
use crate::Storage;
use crate::entity::{backchannel_logouts as bl, clients, grants, sessions};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_oidc::backchannel::{BackchannelStore, DeliveryOutcome, LogoutDelivery};
use portico_oidc::store::StoreResult;
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use std::collections::{BTreeSet, HashMap};
use uuid::Uuid;

const DUE: i16 = 0;
const DELIVERED: i16 = 1;
const GIVEN_UP: i16 = 2;
/// Stored error text is cut to this many characters.
const ERROR_MAX: usize = 500;

/// Ends the sessions matching `which`, queueing their back-channel logouts
/// first; how many ended. Run it inside a write transaction.
pub(crate) async fn end_sessions<C: ConnectionTrait>(
    db: &C,
    which: Condition,
    now: DateTime<Utc>,
) -> Result<u64, DbErr> {
    let ended: Vec<(String, Uuid)> = sessions::Entity::find()
        .select_only()
        .columns([sessions::Column::Sid, sessions::Column::UserId])
        .filter(which.clone())
        .into_tuple()
        .all(db)
        .await?;
    if !ended.is_empty() {
        queue_logouts(db, &ended, now).await?;
        sessions::Entity::delete_many()
            .filter(which)
            .exec(db)
            .await?;
    }
    Ok(ended.len() as u64)
}

/// One delivery per (application with a back-channel URI, ended session)
/// among the grants that carry the session's `sid`.
async fn queue_logouts<C: ConnectionTrait>(
    db: &C,
    ended: &[(String, Uuid)],
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let sids: Vec<&str> = ended.iter().map(|(s, _)| s.as_str()).collect();
    let signed_in: BTreeSet<(String, String)> = grants::Entity::find()
        .select_only()
        .columns([grants::Column::ClientId, grants::Column::Sid])
        .filter(grants::Column::Sid.is_in(sids))
        .into_tuple::<(String, String)>()
        .all(db)
        .await?
        .into_iter()
        .collect();
    if signed_in.is_empty() {
        return Ok(());
    }
    let client_ids: BTreeSet<&str> = signed_in.iter().map(|(c, _)| c.as_str()).collect();
    let uris: HashMap<String, String> = clients::Entity::find()
        .select_only()
        .columns([
            clients::Column::ClientId,
            clients::Column::BackchannelLogoutUri,
        ])
        .filter(clients::Column::ClientId.is_in(client_ids))
        .into_tuple::<(String, Option<String>)>()
        .all(db)
        .await?
        .into_iter()
        .filter_map(|(c, u)| u.filter(|u| !u.is_empty()).map(|u| (c, u)))
        .collect();
    let users: HashMap<&str, Uuid> = ended.iter().map(|(s, u)| (s.as_str(), *u)).collect();
    let rows: Vec<bl::ActiveModel> = signed_in
        .iter()
        .filter_map(|(client_id, sid)| {
            let uri = uris.get(client_id)?;
            let user = users.get(sid.as_str())?;
            Some(bl::ActiveModel {
                id: Set(Uuid::now_v7()),
                client_id: Set(client_id.clone()),
                logout_uri: Set(uri.clone()),
                sub: Set(user.to_string()),
                sid: Set(sid.clone()),
                status: Set(DUE),
                attempts: Set(0),
                next_attempt_at: Set(now),
                last_error: Set(None),
                created_at: Set(now),
                finished_at: Set(None),
            })
        })
        .collect();
    if !rows.is_empty() {
        bl::Entity::insert_many(rows)
            .exec_without_returning(db)
            .await?;
    }
    Ok(())
}

#[async_trait]
impl BackchannelStore for Storage {
    async fn due_logouts(
        &self,
        now: DateTime<Utc>,
        limit: u64,
    ) -> StoreResult<Vec<LogoutDelivery>> {
        let rows = bl::Entity::find()
            .filter(bl::Column::Status.eq(DUE))
            .filter(bl::Column::NextAttemptAt.lte(now))
            .order_by_asc(bl::Column::NextAttemptAt)
            .limit(limit)
            .all(self.db())
            .await
            .map_err(internal)?;
        Ok(rows
            .into_iter()
            .map(|m| LogoutDelivery {
                id: m.id,
                client_id: m.client_id,
                logout_uri: m.logout_uri,
                sub: m.sub,
                sid: m.sid,
                attempts: m.attempts,
            })
            .collect())
    }

    async fn record_logout_attempt(
        &self,
        id: Uuid,
        outcome: &DeliveryOutcome,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let cut = |e: &str| e.chars().take(ERROR_MAX).collect::<String>();
        let mut update = bl::Entity::update_many()
            .col_expr(bl::Column::Attempts, Expr::col(bl::Column::Attempts).add(1))
            .filter(bl::Column::Id.eq(id));
        update = match outcome {
            DeliveryOutcome::Delivered => update
                .col_expr(bl::Column::Status, Expr::value(DELIVERED))
                .col_expr(bl::Column::FinishedAt, Expr::value(now)),
            DeliveryOutcome::Retry { at, error } => update
                .col_expr(bl::Column::NextAttemptAt, Expr::value(*at))
                .col_expr(bl::Column::LastError, Expr::value(cut(error))),
            DeliveryOutcome::GaveUp { error } => update
                .col_expr(bl::Column::Status, Expr::value(GIVEN_UP))
                .col_expr(bl::Column::FinishedAt, Expr::value(now))
                .col_expr(bl::Column::LastError, Expr::value(cut(error))),
        };
        update.exec(self.db()).await.map_err(internal)?;
        Ok(())
    }
}
