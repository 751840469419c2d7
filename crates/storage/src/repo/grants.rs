//! `GrantStore`: grants, authorization codes, access and refresh tokens.

use super::internal;
use super::revoke::{Grants, revoke_grants};
use super::tokens::*;
use crate::Storage;
use crate::entity::{access_tokens, auth_codes, grants, refresh_tokens};
use async_trait::async_trait;
use chrono::{DateTime, Utc};
use portico_oidc::model::{
    AccessTokenRecord, AuthCode, CodeRedemption, Grant, RefreshToken, RefreshUse,
};
use portico_oidc::store::{GrantStore, StoreResult};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use uuid::Uuid;

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
        tx.commit().await.map_err(internal)
    }

    async fn save_tokens(
        &self,
        access: &AccessTokenRecord,
        refresh: Option<&RefreshToken>,
    ) -> StoreResult<()> {
        let tx = self.write_tx().await.map_err(internal)?;
        access_tokens::Entity::insert(access_to_row(access))
            .exec_without_returning(&tx)
            .await
            .map_err(internal)?;
        if let Some(r) = refresh {
            refresh_tokens::Entity::insert(refresh_to_row(r))
                .exec_without_returning(&tx)
                .await
                .map_err(internal)?;
        }
        tx.commit().await.map_err(internal)
    }

    async fn find_refresh_token(&self, token_hash: &str) -> StoreResult<Option<RefreshToken>> {
        let row = refresh_tokens::Entity::find_by_id(token_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(row.map(refresh_from_row))
    }

    /// Same pattern as [`Self::consume_code`].
    async fn consume_refresh_token(
        &self,
        token_hash: &str,
        now: DateTime<Utc>,
    ) -> StoreResult<RefreshUse> {
        let won = refresh_tokens::Entity::update_many()
            .col_expr(refresh_tokens::Column::ConsumedAt, Expr::value(now))
            .filter(refresh_tokens::Column::TokenHash.eq(token_hash))
            .filter(refresh_tokens::Column::ConsumedAt.is_null())
            .exec_with_returning(self.db())
            .await
            .map_err(internal)?;
        if let Some(m) = won.into_iter().next() {
            return Ok(RefreshUse::Rotated(refresh_from_row(m)));
        }
        let row = refresh_tokens::Entity::find_by_id(token_hash)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(match row {
            None => RefreshUse::NotFound,
            Some(m) => RefreshUse::Reused(refresh_from_row(m)),
        })
    }

    async fn find_access_token(&self, jti: &str) -> StoreResult<Option<AccessTokenRecord>> {
        let row = access_tokens::Entity::find_by_id(jti)
            .one(self.db())
            .await
            .map_err(internal)?;
        Ok(row.map(access_from_row))
    }

    async fn revoke_access_token(&self, jti: &str, now: DateTime<Utc>) -> StoreResult<()> {
        access_tokens::Entity::update_many()
            .col_expr(access_tokens::Column::RevokedAt, Expr::value(now))
            .filter(access_tokens::Column::Jti.eq(jti))
            .filter(access_tokens::Column::RevokedAt.is_null())
            .exec(self.db())
            .await
            .map_err(internal)?;
        Ok(())
    }
}
