//! Self-contained access tokens (issue 11): an access token is no longer
//! stored when it is issued (the JWT carries what a check needs: its client,
//! its user and grant); only an access token revoked on its own (RFC 7009) is
//! written, as a `revoked_access_tokens` row kept until the token expires.
//!
//! The revoked rows of `access_tokens` move there, then the table
//! goes. A user's token issued before this migration names no grant and is
//! refused from now on (its app refreshes or signs in again, as after any
//! `invalid_token`); a `client_credentials` token keeps working, and stays
//! revoked if it was.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index, table};
use super::idens::AccessTokens;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum RevokedAccessTokens {
    Table,
    Jti,
    ClientId,
    ExpiresAt,
    RevokedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table(RevokedAccessTokens::Table)
                .col(text(RevokedAccessTokens::Jti).primary_key())
                .col(text(RevokedAccessTokens::ClientId))
                .col(timestamp_with_time_zone(RevokedAccessTokens::ExpiresAt))
                .col(timestamp_with_time_zone(RevokedAccessTokens::RevokedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index(
            "idx_revoked_access_tokens_expires_at",
            RevokedAccessTokens::Table,
            RevokedAccessTokens::ExpiresAt,
        ))
        .await?;
        let carry = Query::insert()
            .into_table(RevokedAccessTokens::Table)
            .columns([
                RevokedAccessTokens::Jti,
                RevokedAccessTokens::ClientId,
                RevokedAccessTokens::ExpiresAt,
                RevokedAccessTokens::RevokedAt,
            ])
            .select_from(
                Query::select()
                    .columns([
                        AccessTokens::Jti,
                        AccessTokens::ClientId,
                        AccessTokens::ExpiresAt,
                        AccessTokens::RevokedAt,
                    ])
                    .from(AccessTokens::Table)
                    .and_where(Expr::col(AccessTokens::RevokedAt).is_not_null())
                    .to_owned(),
            )
            .map_err(|e| DbErr::Migration(e.to_string()))?
            .to_owned();
        m.exec_stmt(carry).await?;
        m.drop_table(Table::drop().table(AccessTokens::Table).to_owned())
            .await
    }
}
