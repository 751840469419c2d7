//! Bounded growth and shared limits (issue 10): `leases` (one row per
//! cluster-wide job; the clean-up worker holds `cleanup`), `rate_limits`
//! (fixed-window counters every node shares: failed passwords per account and
//! per client address, the lock row of one-time code sending), the mail
//! lane (`mail_outbox.lane`: one-time codes ahead of bulk invitations), and
//! the indexes the clean-up's range deletes need.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index, index_on, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Leases {
    Table,
    Name,
    Holder,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum RateLimits {
    Table,
    Key,
    WindowStart,
    Hits,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum MailOutbox {
    Table,
    Lane,
    Status,
    NextAttemptAt,
}

#[derive(DeriveIden)]
enum Interactions {
    Table,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum Sessions {
    Table,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AuthCodes {
    Table,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum AccessTokens {
    Table,
    ExpiresAt,
}

#[derive(DeriveIden)]
enum RefreshTokens {
    Table,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
enum OneTimeCodes {
    Table,
    ExpiresAt,
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index(
            "idx_rate_limits_expires_at",
            RateLimits::Table,
            RateLimits::ExpiresAt,
        ),
        index(
            "idx_interactions_expires_at",
            Interactions::Table,
            Interactions::ExpiresAt,
        ),
        index(
            "idx_sessions_expires_at",
            Sessions::Table,
            Sessions::ExpiresAt,
        ),
        index(
            "idx_auth_codes_expires_at",
            AuthCodes::Table,
            AuthCodes::ExpiresAt,
        ),
        index(
            "idx_access_tokens_expires_at",
            AccessTokens::Table,
            AccessTokens::ExpiresAt,
        ),
        index(
            "idx_refresh_tokens_expires_at",
            RefreshTokens::Table,
            RefreshTokens::ExpiresAt,
        ),
        index(
            "idx_refresh_tokens_consumed_at",
            RefreshTokens::Table,
            RefreshTokens::ConsumedAt,
        ),
        index(
            "idx_one_time_codes_expires_at",
            OneTimeCodes::Table,
            OneTimeCodes::ExpiresAt,
        ),
        index_on(
            "idx_mail_outbox_lane_due",
            MailOutbox::Table,
            [
                MailOutbox::Status,
                MailOutbox::Lane,
                MailOutbox::NextAttemptAt,
            ],
        ),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(
            table(Leases::Table)
                .col(text(Leases::Name).primary_key())
                .col(text(Leases::Holder))
                .col(timestamp_with_time_zone(Leases::ExpiresAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table(RateLimits::Table)
                .col(text(RateLimits::Key).primary_key())
                .col(timestamp_with_time_zone(RateLimits::WindowStart))
                .col(integer(RateLimits::Hits))
                .col(timestamp_with_time_zone(RateLimits::ExpiresAt))
                .to_owned(),
        )
        .await?;
        // 0 = urgent (one-time codes, security notices), 1 = bulk (invitations).
        m.alter_table(
            Table::alter()
                .table(MailOutbox::Table)
                .add_column(small_integer(MailOutbox::Lane).default(1))
                .to_owned(),
        )
        .await?;
        for i in indexes() {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
