//! `GrantStore`: grants, authorization codes, refresh tokens and the access
//! tokens revoked on their own.

use super::internal;
use super::revoke::{Grants, revoke_grants};
use super::tokens::*;
use super::users::StoredAccount;
use crate::cache::RevokedSet;
use crate::entity::{auth_codes, grants, refresh_tokens, revoked_access_tokens};
use crate::{Storage, cache};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_oidc::model::{Account, AuthCode, CodeRedemption, Grant, RefreshToken, RefreshUse};
use portico_oidc::store::{GrantStore, StoreResult};
use sea_orm::ActiveValue::Set;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect};
use uuid::Uuid;

/// A grant and its user's account as read, for checking access tokens.
pub(crate) type GrantWithAccount = (Grant, Option<StoredAccount>);

#[async_trait]
impl GrantStore for Storage {
    async fn create_grant_with_code(&self, grant: &Grant, code: &AuthCode) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        grants::Entity::insert(grant_to_row(grant))
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        auth_codes::Entity::insert(code_to_row(code))
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)
    }

    async fn create_grant(&self, grant: &Grant) -> StoreResult<()> {
        grants::Entity::insert(grant_to_row(grant))
            .exec_without_returning(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn find_grant(&self, id: Uuid) -> StoreResult<Option<Grant>> {
        let row = grants::Entity::find_by_id(id)
            .one(self.db())
            .await
            .map_err(internal)?;
        row.map(grant_from_row).transpose()
    }

    async fn find_code(&self, code_hash: &str) -> StoreResult<Option<AuthCode>> {
        let row = auth_codes::Entity::find_by_id(code_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(row.map(code_from_row))
    }

    /// One conditional UPDATE decides the winner; the re-read only classifies.
    async fn consume_code(
        &self,
        code_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<CodeRedemption> {
        // The winner gets its row back from the UPDATE itself; only a loser
        // reads again, to tell a used code from an unknown one.
        let won = auth_codes::Entity::update_many()
            .col_expr(auth_codes::Column::ConsumedAt, Expr::value(now))
            .filter(auth_codes::Column::CodeHash.eq(code_hash))
            .filter(auth_codes::Column::ConsumedAt.is_null())
            .exec_with_returning(self.db())
            .await
            .map_err(internal)?;
        if let Some(m) = won.into_iter().next() {
            return Ok(CodeRedemption::Redeemed(code_from_row(m)));
        }
        let row = auth_codes::Entity::find_by_id(code_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(match row {
            None => CodeRedemption::NotFound,
            Some(m) => CodeRedemption::AlreadyUsed(code_from_row(m)),
        })
    }

    async fn revoke_grant(&self, id: Uuid, now: DateTime<Utc>) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        revoke_grants(&tx, Grants::One(id), now)
            .await
            .map_err(internal)?;
        tx.commit().await.map_err(internal)?;
        self.caches.access_checks.clear();
        Ok(())
    }

    async fn save_refresh_token(&self, refresh: &RefreshToken) -> StoreResult<()> {
        refresh_tokens::Entity::insert(refresh_to_row(refresh))
            .exec_without_returning(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }

    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = refresh_tokens::Entity::find_by_id(token_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(row.map(refresh_from_row))
    }

    /// The pattern of [`Self::consume_code`], with the successor saved in
    /// the winner's transaction.
    async fn rotate_refresh_token(
        &self,
        token_hash: &str,
        next: &RefreshToken,
        now: DateTime<Utc>,
    ) -> StoreResult<RefreshUse> {
        let tx = self.write_tx().await.map_err(internal)?;
        let won = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::ConsumedAt, Expr::value(now))
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .filter(refresh_tokens::Column::ConsumedAt.is_null())
            .exec_with_returning(&tx)
            .await
            .map_err(internal)?;
        if let Some(m) = won.into_iter().next() {
            refresh_tokens::Entity::insert(refresh_to_row(next))
                .exec_without_returning(&tx)
                .await
                .map_err(internal)?;
            tx.commit().await.map_err(internal)?;
            return Ok(RefreshUse::Rotated(refresh_from_row(m)));
        }
        drop(tx);
        let row = refresh_tokens::Entity::find_by_id(token_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(match row {
            None => RefreshUse::NotFound,
            Some(m) => RefreshUse::Reused(refresh_from_row(m)),
        })
    }

    async fn revoke_access_token(
        &self,
        jti: &str,
        client_id: &str,
        expires_at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        let inserted = revoked_access_tokens::Entity::insert(revoked_access_tokens::ActiveModel {
            jti: Set(jti.to_string()),
            client_id: Set(client_id.to_string()),
            expires_at: Set(expires_at),
            revoked_at: Set(now),
        })
        .on_conflict(
            OnConflict::column(revoked_access_tokens::Column::Jti)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&tx)
        .await
        .map_err(internal)?;
        if inserted > 0 {
            cache::bump(&tx, cache::REVOKED_ACCESS_TOKENS)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)?;
        self.caches.revoked_tokens.clear();
        Ok(())
    }

    /// Through this node's `access_checks` cache: an answer read at most
    /// `cache::CHANGE_BOUND` ago, dropped at once by a change made here
    /// (revoking grants, changing or deleting users).
    async fn find_grant_with_account(
        &self,
        id: Uuid,
    ) -> StoreResult<Option<(Grant, Option<Account>)>> {
        let held = &self.caches.access_checks;
        let now = self.now();
        let (hit, stamp) = held.recent(&id, now);
        held.count(hit.is_some());
        let (grant, account) = match hit {
            Some(found) => found,
            None => {
                let Some(grant) = self.find_grant(id).await? else {
                    return Ok(None);
                };
                let account = match grant.user_id {
                    Some(user_id) => self.read_account(user_id).await?,
                    None => None,
                };
                let found = (grant, account);
                held.put_recent(stamp, id, found.clone(), now);
                found
            }
        };
        Ok(Some((grant, account.map(|a| a.at(now)))))
    }

    async fn access_token_revoked(&self, jti: &str) -> StoreResult<bool> {
        let held = &self.caches.revoked_tokens;
        self.check_counter(held).await.map_err(internal)?;
        let (known, stamp) = held.read(|set| match set {
            RevokedSet::Loaded(jtis) => Some(Some(jtis.contains(jti))),
            RevokedSet::Unknown => None,
            RevokedSet::TooMany => Some(None),
        });
        match known {
            Some(Some(revoked)) => return Ok(revoked),
            Some(None) => {}
            None => {
                let jtis: Vec<String> = revoked_access_tokens::Entity::find()
                    .select_only()
                    .column(revoked_access_tokens::Column::Jti)
                    .filter(revoked_access_tokens::Column::ExpiresAt.gt(self.now()))
                    .limit(cache::MAX_REVOKED + 1)
                    .into_tuple()
                    .all(self.db())
                    .await
                    .map_err(internal)?;
                let revoked = jtis.iter().any(|j| j == jti);
                let fits = jtis.len() as u64 <= cache::MAX_REVOKED;
                held.fill(stamp, |set| {
                    *set = if fits {
                        RevokedSet::Loaded(jtis.into_iter().collect())
                    } else {
                        RevokedSet::TooMany
                    }
                });
                if fits {
                    return Ok(revoked);
                }
            }
        }
        Ok(revoked_access_tokens::Entity::find_by_id(jti)
            .one(self.db())
            .await
            .map_err(internal)?
            .is_some())
    }
}
