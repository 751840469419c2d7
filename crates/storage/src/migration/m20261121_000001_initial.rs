//! The initial schema: directory users, OIDC clients, keys, sessions, consents,
//! grants and their codes and tokens, and shared server secrets.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index, table};
use super::idens::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing, on SQLite too (its DDL is transactional).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        let tables = [
            table(Users::Table)
                .col(uuid(Users::Id).primary_key())
                .col(text(Users::DisplayName))
                .col(text_uniq(Users::Mail))
                .col(text(Users::UserType))
                .col(boolean(Users::AccountEnabled))
                .col(boolean(Users::IsAdmin))
                .col(text_null(Users::PasswordHash))
                .col(timestamp_with_time_zone(Users::CreatedAt))
                .col(timestamp_with_time_zone(Users::UpdatedAt))
                .to_owned(),
            table(Clients::Table)
                .col(uuid(Clients::Id).primary_key())
                .col(text_uniq(Clients::ClientId))
                .col(text_null(Clients::SecretHash))
                .col(text(Clients::DisplayName))
                .col(text(Clients::ClientType))
                .col(text(Clients::AuthMethod))
                .col(json(Clients::RedirectUris))
                .col(json(Clients::PostLogoutRedirectUris))
                .col(json(Clients::GrantTypes))
                .col(text_null(Clients::BackchannelLogoutUri))
                .col(json(Clients::Permissions))
                .col(timestamp_with_time_zone(Clients::CreatedAt))
                .to_owned(),
            table(SigningKeys::Table)
                .col(text(SigningKeys::Kid).primary_key())
                .col(text(SigningKeys::Alg))
                .col(text(SigningKeys::PrivatePem))
                .col(timestamp_with_time_zone(SigningKeys::CreatedAt))
                .col(timestamp_with_time_zone(SigningKeys::ActivatesAt))
                .col(timestamp_with_time_zone_null(SigningKeys::ExpiresAt))
                .to_owned(),
            table(Interactions::Table)
                .col(text(Interactions::Id).primary_key())
                .col(json(Interactions::Data))
                .col(timestamp_with_time_zone(Interactions::ExpiresAt))
                .to_owned(),
            table(Sessions::Table)
                .col(text(Sessions::IdHash).primary_key())
                .col(text_uniq(Sessions::Sid))
                .col(uuid(Sessions::UserId))
                .col(timestamp_with_time_zone(Sessions::AuthTime))
                .col(json(Sessions::Amr))
                .col(timestamp_with_time_zone(Sessions::CreatedAt))
                .col(timestamp_with_time_zone(Sessions::ExpiresAt))
                .to_owned(),
            table(Consents::Table)
                .col(uuid(Consents::UserId))
                .col(text(Consents::ClientId))
                .col(json(Consents::Scopes))
                .col(timestamp_with_time_zone(Consents::GrantedAt))
                .primary_key(
                    Index::create()
                        .col(Consents::UserId)
                        .col(Consents::ClientId),
                )
                .to_owned(),
            table(Grants::Table)
                .col(uuid(Grants::Id).primary_key())
                .col(text(Grants::ClientId))
                .col(uuid_null(Grants::UserId))
                .col(text(Grants::Scope))
                .col(timestamp_with_time_zone_null(Grants::AuthTime))
                .col(json(Grants::Amr))
                .col(text_null(Grants::Sid))
                .col(json_null(Grants::Claims))
                .col(timestamp_with_time_zone(Grants::CreatedAt))
                .col(timestamp_with_time_zone_null(Grants::RevokedAt))
                .to_owned(),
            table(AuthCodes::Table)
                .col(text(AuthCodes::CodeHash).primary_key())
                .col(uuid(AuthCodes::GrantId))
                .col(text(AuthCodes::ClientId))
                .col(text(AuthCodes::RedirectUri))
                .col(text_null(AuthCodes::Nonce))
                .col(text_null(AuthCodes::CodeChallenge))
                .col(timestamp_with_time_zone(AuthCodes::CreatedAt))
                .col(timestamp_with_time_zone(AuthCodes::ExpiresAt))
                .col(timestamp_with_time_zone_null(AuthCodes::ConsumedAt))
                .to_owned(),
            table(RefreshTokens::Table)
                .col(text(RefreshTokens::TokenHash).primary_key())
                .col(uuid(RefreshTokens::GrantId))
                .col(text(RefreshTokens::ClientId))
                .col(timestamp_with_time_zone(RefreshTokens::CreatedAt))
                .col(timestamp_with_time_zone(RefreshTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(RefreshTokens::ConsumedAt))
                .to_owned(),
            table(AccessTokens::Table)
                .col(text(AccessTokens::Jti).primary_key())
                .col(uuid_null(AccessTokens::GrantId))
                .col(text(AccessTokens::ClientId))
                .col(uuid_null(AccessTokens::UserId))
                .col(text(AccessTokens::Scope))
                .col(timestamp_with_time_zone(AccessTokens::ExpiresAt))
                .col(timestamp_with_time_zone_null(AccessTokens::RevokedAt))
                .to_owned(),
            table(ServerSecrets::Table)
                .col(text(ServerSecrets::Name).primary_key())
                .col(text(ServerSecrets::Value))
                .to_owned(),
        ];
        for t in tables {
            m.create_table(t).await?;
        }

        let indexes = [
            index("idx_sessions_user_id", Sessions::Table, Sessions::UserId),
            index("idx_grants_user_id", Grants::Table, Grants::UserId),
            index("idx_grants_client_id", Grants::Table, Grants::ClientId),
            index(
                "idx_auth_codes_grant_id",
                AuthCodes::Table,
                AuthCodes::GrantId,
            ),
            index(
                "idx_refresh_tokens_grant_id",
                RefreshTokens::Table,
                RefreshTokens::GrantId,
            ),
            index(
                "idx_access_tokens_grant_id",
                AccessTokens::Table,
                AccessTokens::GrantId,
            ),
            index(
                "idx_access_tokens_client_id",
                AccessTokens::Table,
                AccessTokens::ClientId,
            ),
            index(
                "idx_consents_client_id",
                Consents::Table,
                Consents::ClientId,
            ),
        ];
        for i in indexes {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
