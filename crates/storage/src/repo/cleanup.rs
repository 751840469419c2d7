//! Deleting what has expired, in batches, and the lease that makes one node
//! of the cluster do it.
//!
//! What goes, and when (`now` from the caller's clock):
//!
//! | table | deleted when |
//! |---|---|
//! | `interactions` | `expires_at` passed (each holds a whole authorization request) |
//! | `sessions` | `expires_at` passed; ended like a sign-out, so the apps they signed in to get a back-channel logout token |
//! | `auth_codes` | `expires_at` more than [`CODE_GRACE`] ago (a replay inside it is still recognized) |
//! | `revoked_access_tokens` | `expires_at` passed (the JWT is dead too) |
//! | `refresh_tokens` | `expires_at` passed, or consumed (rotated, revoked) more than [`REFRESH_GRACE`] ago |
//! | `one_time_codes` | `expires_at` more than [`ONE_TIME_CODE_KEEP`] ago (they count towards the hourly send limit) |
//! | `federation_flows` | `expires_at` passed (used or not: state, nonce, PKCE verifier) |
//! | `mfa_failures` | older than [`MFA_FAILURE_KEEP`] (the lockout window is minutes) |
//! | `rate_limits` | the window ended |
//! | `passkey_ceremonies` | `expires_at` passed (single-use WebAuthn challenges) |
//! | `grants` | older than [`GRANT_KEEP`], with no code or refresh token left and no live session of its `sid` (the link back-channel logout follows) |
//! | `backchannel_logouts` | delivered or given up more than [`BACKCHANNEL_KEEP`] ago (a due one always finishes after its last try) |
//!
//! Each statement deletes at most [`BATCH`] rows (`DELETE … WHERE pk IN
//! (SELECT pk … LIMIT n)`, portable), and a table is visited until a batch
//! comes back short, so no statement holds locks for long.

use crate::Storage;
use crate::entity::{
    auth_codes, backchannel_logouts, federation_flows, grants, interactions, leases, mfa_failures,
    one_time_codes, passkey_ceremonies, rate_limits, refresh_tokens, revoked_access_tokens,
    sessions,
};
use crate::repo::backchannel::end_sessions;
use chrono::{DateTime, TimeDelta, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict, Query, SelectStatement};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, DbErr, EntityTrait, QueryFilter, QuerySelect,
    QueryTrait,
};

/// Rows one statement deletes at most.
pub const BATCH: u64 = 1_000;
/// How long a spent or expired authorization code is kept.
pub const CODE_GRACE: TimeDelta = TimeDelta::hours(1);
/// How long a rotated or revoked refresh token is kept, so that presenting it
/// again is recognized as reuse (and revokes its family) rather than unknown.
pub const REFRESH_GRACE: TimeDelta = TimeDelta::days(7);
/// How long an expired one-time code is kept (the send limit counts an hour).
pub const ONE_TIME_CODE_KEEP: TimeDelta = TimeDelta::hours(1);
/// How long a finished back-channel logout delivery is kept (to look into).
pub const BACKCHANNEL_KEEP: TimeDelta = TimeDelta::days(1);
/// A grant is never deleted younger than this, whatever is left of it: longer
/// than any access token or code lives (so a self-contained token is never
/// checked against a grant that is gone), and longer than the moment between
/// creating a grant and saving its first tokens.
pub const GRANT_KEEP: TimeDelta = TimeDelta::days(1);
/// How long a wrong second-factor code is remembered.
pub const MFA_FAILURE_KEEP: TimeDelta = TimeDelta::days(1);

/// Grants older than [`GRANT_KEEP`] that nothing refers to any more: no code
/// or refresh token (correlated `NOT EXISTS`, portable),
/// and no live session with their `sid`.
fn spent_grants(now: DateTime<Utc>) -> Condition {
    let grant_id = || Expr::col((grants::Entity, grants::Column::Id));
    let none_in = |q: SelectStatement| Expr::exists(q).not();
    Condition::all()
        .add(grants::Column::CreatedAt.lt(now - GRANT_KEEP))
        .add(none_in(
            Query::select()
                .expr(Expr::val(1))
                .from(auth_codes::Entity)
                .and_where(
                    Expr::col((auth_codes::Entity, auth_codes::Column::GrantId)).eq(grant_id()),
                )
                .to_owned(),
        ))
        .add(none_in(
            Query::select()
                .expr(Expr::val(1))
                .from(refresh_tokens::Entity)
                .and_where(
                    Expr::col((refresh_tokens::Entity, refresh_tokens::Column::GrantId))
                        .eq(grant_id()),
                )
                .to_owned(),
        ))
        .add(none_in(
            Query::select()
                .expr(Expr::val(1))
                .from(sessions::Entity)
                .and_where(
                    Expr::col((sessions::Entity, sessions::Column::Sid))
                        .eq(Expr::col((grants::Entity, grants::Column::Sid))),
                )
                .to_owned(),
        ))
}

/// How many rows one clean-up deleted, per table, in the order visited.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PurgeReport {
    pub deleted: Vec<(&'static str, u64)>,
}

impl PurgeReport {
    pub fn total(&self) -> u64 {
        self.deleted.iter().map(|(_, n)| n).sum()
    }
    /// Rows deleted from `table`.
    pub fn of(&self, table: &str) -> u64 {
        self.deleted
            .iter()
            .filter(|(t, _)| *t == table)
            .map(|(_, n)| n)
            .sum()
    }
}

impl Storage {
    /// Deletes the rows of `E` matching `cond`, [`BATCH`] at a time.
    async fn purge<E>(&self, pk: E::Column, cond: Condition) -> Result<u64, DbErr>
    where
        E: EntityTrait,
    {
        let mut total = 0;
        loop {
            let batch = E::find()
                .select_only()
                .column(pk)
                .filter(cond.clone())
                .limit(BATCH)
                .into_query();
            let res = E::delete_many()
                .filter(pk.in_subquery(batch))
                .exec(self.db())
                .await?;
            total += res.rows_affected;
            if res.rows_affected < BATCH {
                return Ok(total);
            }
        }
    }

    /// An expired session ends as a signed-out one does (OpenID Back-Channel
    /// Logout 1.0 §2.7: the OP tells the RPs when a session ends), through
    /// [`end_sessions`], [`BATCH`] sessions per transaction.
    async fn end_expired_sessions(&self, now: DateTime<Utc>) -> Result<u64, DbErr> {
        let mut total = 0;
        loop {
            let batch: Vec<String> = sessions::Entity::find()
                .select_only()
                .column(sessions::Column::IdHash)
                .filter(sessions::Column::ExpiresAt.lt(now))
                .limit(BATCH)
                .into_tuple()
                .all(self.db())
                .await?;
            let selected = batch.len() as u64;
            if selected == 0 {
                return Ok(total);
            }
            let tx = self.write_tx().await?;
            // Checked again inside the transaction: another node may have
            // ended some of them, or a sign-in extended one.
            let which = Condition::all()
                .add(sessions::Column::IdHash.is_in(batch))
                .add(sessions::Column::ExpiresAt.lt(now));
            total += end_sessions(&tx, which, now).await?;
            tx.commit().await?;
            if selected < BATCH {
                return Ok(total);
            }
        }
    }

    /// Deletes everything expired at `now` (see the module's table).
    pub async fn purge_expired(&self, now: DateTime<Utc>) -> anyhow::Result<PurgeReport> {
        let mut r = PurgeReport::default();
        let n = self
            .purge::<interactions::Entity>(
                interactions::Column::Id,
                Condition::all().add(interactions::Column::ExpiresAt.lt(now)),
            )
            .await?;
        r.deleted.push(("interactions", n));
        let n = self.end_expired_sessions(now).await?;
        r.deleted.push(("sessions", n));
        let n = self
            .purge::<auth_codes::Entity>(
                auth_codes::Column::CodeHash,
                Condition::all().add(auth_codes::Column::ExpiresAt.lt(now - CODE_GRACE)),
            )
            .await?;
        r.deleted.push(("auth_codes", n));
        let n = self
            .purge::<revoked_access_tokens::Entity>(
                revoked_access_tokens::Column::Jti,
                Condition::all().add(revoked_access_tokens::Column::ExpiresAt.lt(now)),
            )
            .await?;
        r.deleted.push(("revoked_access_tokens", n));
        let n = self
            .purge::<refresh_tokens::Entity>(
                refresh_tokens::Column::TokenHash,
                Condition::any()
                    .add(refresh_tokens::Column::ExpiresAt.lt(now))
                    .add(refresh_tokens::Column::ConsumedAt.lt(now - REFRESH_GRACE)),
            )
            .await?;
        r.deleted.push(("refresh_tokens", n));
        let n = self
            .purge::<one_time_codes::Entity>(
                one_time_codes::Column::Id,
                Condition::all()
                    .add(one_time_codes::Column::ExpiresAt.lt(now - ONE_TIME_CODE_KEEP)),
            )
            .await?;
        r.deleted.push(("one_time_codes", n));
        let n = self
            .purge::<federation_flows::Entity>(
                federation_flows::Column::Id,
                Condition::all().add(federation_flows::Column::ExpiresAt.lt(now)),
            )
            .await?;
        r.deleted.push(("federation_flows", n));
        let n = self
            .purge::<mfa_failures::Entity>(
                mfa_failures::Column::Id,
                Condition::all().add(mfa_failures::Column::FailedAt.lt(now - MFA_FAILURE_KEEP)),
            )
            .await?;
        r.deleted.push(("mfa_failures", n));
        let n = self
            .purge::<rate_limits::Entity>(
                rate_limits::Column::Key,
                Condition::all().add(rate_limits::Column::ExpiresAt.lte(now)),
            )
            .await?;
        r.deleted.push(("rate_limits", n));
        let n = self
            .purge::<passkey_ceremonies::Entity>(
                passkey_ceremonies::Column::Id,
                Condition::all().add(passkey_ceremonies::Column::ExpiresAt.lt(now)),
            )
            .await?;
        r.deleted.push(("passkey_ceremonies", n));
        let n = self
            .purge::<backchannel_logouts::Entity>(
                backchannel_logouts::Column::Id,
                Condition::all()
                    .add(backchannel_logouts::Column::FinishedAt.lt(now - BACKCHANNEL_KEEP)),
            )
            .await?;
        r.deleted.push(("backchannel_logouts", n));
        // Last: the tables above may have just let go of a grant's last row.
        let n = self
            .purge::<grants::Entity>(grants::Column::Id, spent_grants(now))
            .await?;
        r.deleted.push(("grants", n));
        Ok(r)
    }

    /// Takes or renews the lease `name` for `holder` until `now + ttl`, in one
    /// conditional statement: `INSERT … ON CONFLICT (name) DO UPDATE … WHERE
    /// holder = :holder OR expires_at <= :now`. It succeeds (true) when the
    /// row was free, already ours, or its holder let it run out; two nodes
    /// asking at once cannot both succeed, on SQLite or PostgreSQL.
    pub async fn try_lease(
        &self,
        name: &str,
        holder: &str,
        now: DateTime<Utc>,
        ttl: TimeDelta,
    ) -> anyhow::Result<bool> {
        use leases::Column;
        let row = leases::ActiveModel {
            name: Set(name.to_owned()),
            holder: Set(holder.to_owned()),
            expires_at: Set(now + ttl),
        };
        let takeover = Condition::any()
            .add(Expr::col((leases::Entity, Column::Holder)).eq(holder))
            .add(Expr::col((leases::Entity, Column::ExpiresAt)).lte(now));
        let n = leases::Entity::insert(row)
            .on_conflict(
                OnConflict::column(Column::Name)
                    .update_columns([Column::Holder, Column::ExpiresAt])
                    .action_cond_where(takeover)
                    .to_owned(),
            )
            .exec_without_returning(self.db())
            .await?;
        Ok(n == 1)
    }

    /// Who holds the lease `name` at `now`, if anyone.
    pub async fn lease_holder(
        &self,
        name: &str,
        now: DateTime<Utc>,
    ) -> anyhow::Result<Option<String>> {
        Ok(leases::Entity::find_by_id(name)
            .one(self.db())
            .await?
            .filter(|l| l.expires_at > now)
            .map(|l| l.holder))
    }

    /// Rows per table the clean-up visits (operations and tests).
    pub async fn row_counts(&self) -> anyhow::Result<Vec<(&'static str, u64)>> {
        use sea_orm::PaginatorTrait;
        let db = self.db();
        Ok(vec![
            (
                "interactions",
                interactions::Entity::find().count(db).await?,
            ),
            ("sessions", sessions::Entity::find().count(db).await?),
            ("grants", grants::Entity::find().count(db).await?),
            ("auth_codes", auth_codes::Entity::find().count(db).await?),
            (
                "revoked_access_tokens",
                revoked_access_tokens::Entity::find().count(db).await?,
            ),
            (
                "refresh_tokens",
                refresh_tokens::Entity::find().count(db).await?,
            ),
            (
                "one_time_codes",
                one_time_codes::Entity::find().count(db).await?,
            ),
            (
                "federation_flows",
                federation_flows::Entity::find().count(db).await?,
            ),
            (
                "mfa_failures",
                mfa_failures::Entity::find().count(db).await?,
            ),
            ("rate_limits", rate_limits::Entity::find().count(db).await?),
            (
                "backchannel_logouts",
                backchannel_logouts::Entity::find().count(db).await?,
            ),
        ])
    }
}
