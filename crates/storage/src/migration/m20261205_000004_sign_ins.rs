//! The sign-in log (`portico_oidc::signin_log`): one row per sign-in, written
//! once and never updated.
//!
//! Ids are UUID v7, so `ORDER BY id DESC` is newest first and `id < before` is
//! the keyset page. Each filter the admin API and the portal offer (user,
//! application, result) has an index that ends in `id`, so a filtered page is
//! one index range scan in order, with no sort. No foreign key to `users`: the
//! log outlives the users it names (a deleted user's sign-ins stay readable).
//!
//! Portable DDL only.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index_on, table};
use super::sign_in_idens::SignIns as S;

#[derive(DeriveMigrationName)]
pub struct Migration;

fn sign_ins() -> TableCreateStatement {
    table(S::Table)
        .col(uuid(S::Id).primary_key())
        .col(timestamp_with_time_zone(S::CreatedAt))
        .col(uuid_null(S::UserId))
        .col(text_null(S::UserPrincipalName))
        .col(text_null(S::UserDisplayName))
        .col(text(S::ClientId))
        .col(text(S::AppDisplayName))
        .col(text_null(S::HomeIdp))
        .col(text_null(S::IpAddress))
        .col(text_null(S::UserAgent))
        .col(json(S::Steps))
        .col(json(S::Amr))
        .col(text_null(S::Acr))
        .col(text(S::Result))
        .col(text_null(S::FailureReason))
        .col(text_null(S::FailureMessage))
        .col(text(S::CorrelationId))
        .to_owned()
}

fn indexes() -> Vec<IndexCreateStatement> {
    vec![
        index_on("idx_sign_ins_user_id", S::Table, [S::UserId, S::Id]),
        index_on("idx_sign_ins_client_id", S::Table, [S::ClientId, S::Id]),
        index_on("idx_sign_ins_result", S::Table, [S::Result, S::Id]),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing, on SQLite too (its DDL is transactional).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.create_table(sign_ins()).await?;
        for i in indexes() {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
