//! Revoking grant families: the grant and its refresh tokens. Its access tokens
//! are not stored; they die with the grant (`oidc::access`).

use crate::entity::{grants, refresh_tokens};
use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query, SimpleExpr};
use sea_orm::{ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, QueryFilter};
use uuid::Uuid;

/// Which grants to revoke.
pub(crate) enum Grants<'a> {
    One(Uuid),
    OfUser(Uuid),
    OfClient(&'a str),
    /// One user's grants at one application (a consent revoked).
    OfUserAtClient(Uuid, &'a str),
}

impl Grants<'_> {
    fn cond(&self) -> Condition {
        match self {
            Grants::One(id) => Condition::all().add(grants::Column::Id.eq(*id)),
            Grants::OfUser(u) => Condition::all().add(grants::Column::UserId.eq(*u)),
            Grants::OfClient(c) => Condition::all().add(grants::Column::ClientId.eq(*c)),
            Grants::OfUserAtClient(u, c) => Condition::all()
                .add(grants::Column::UserId.eq(*u))
                .add(grants::Column::ClientId.eq(*c)),
        }
    }

    /// A filter on a token table's `grant_id` column matching these grants.
    fn token_filter<C: ColumnTrait>(&self, grant_id: C) -> SimpleExpr {
        match self {
            Grants::One(id) => grant_id.eq(*id),
            _ => grant_id.in_subquery(
                Query::select()
                    .column(grants::Column::Id)
                    .from(grants::Entity)
                    .cond_where(self.cond())
                    .to_owned(),
            ),
        }
    }
}

/// Sets `revoked_at` on the grants and `consumed_at` on
/// their refresh tokens, leaving earlier timestamps alone (idempotent). Run it
/// inside a write transaction.
pub(crate) async fn revoke_grants<C: ConnectionTrait>(
    db: &C,
    which: Grants<'_>,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    grants::Entity::update_many()
        .col_expr(grants::Column::RevokedAt, Expr::value(now))
        .filter(which.cond())
        .filter(grants::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    refresh_tokens::Entity::update_many()
        .col_expr(refresh_tokens::Column::ConsumedAt, Expr::value(now))
        .filter(which.token_filter(refresh_tokens::Column::GrantId))
        .filter(refresh_tokens::Column::ConsumedAt.is_null())
        .exec(db)
        .await?;
    Ok(())
}
