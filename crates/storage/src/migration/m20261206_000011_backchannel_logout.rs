//! Back-channel logout (issue 10): `backchannel_logouts`, the durable outbox
//! of logout tokens to send. A row per (application, session) is written in
//! the transaction that ends the session; the delivery worker works through
//! the due rows (`status` 0) and marks each delivered (1) or given up (2);
//! the clean-up deletes finished rows. `grants.sid` gets an index: a
//! session's applications are found through it.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index, index_on, table};
use super::idens::Grants;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum BackchannelLogouts {
    Table,
    Id,
    ClientId,
    LogoutUri,
    Sub,
    Sid,
    Status,
    Attempts,
    NextAttemptAt,
    LastError,
    CreatedAt,
    FinishedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use BackchannelLogouts as B;
        m.create_table(
            table(B::Table)
                .col(uuid(B::Id).primary_key())
                .col(text(B::ClientId))
                .col(text(B::LogoutUri))
                .col(text(B::Sub))
                .col(text(B::Sid))
                .col(small_integer(B::Status))
                .col(integer(B::Attempts))
                .col(timestamp_with_time_zone(B::NextAttemptAt))
                .col(text_null(B::LastError))
                .col(timestamp_with_time_zone(B::CreatedAt))
                .col(timestamp_with_time_zone_null(B::FinishedAt))
                .to_owned(),
        )
        .await?;
        m.create_index(index_on(
            "idx_backchannel_logouts_due",
            B::Table,
            [B::Status, B::NextAttemptAt],
        ))
        .await?;
        m.create_index(index(
            "idx_backchannel_logouts_finished",
            B::Table,
            B::FinishedAt,
        ))
        .await?;
        // Which applications a session signed in to: its grants, by `sid`.
        m.create_index(index("idx_grants_sid", Grants::Table, Grants::Sid))
            .await
    }
}
