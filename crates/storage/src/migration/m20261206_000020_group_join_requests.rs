//! Join requests and delegated permissions (issue 12):
//! - `group_join_requests`: a user asks to join an application's self-service
//!   group; its owners approve or decline. One **pending** request per user
//!   and group (a partial unique index; decided requests stay as history).
//! - `invitations.granted_group_id`: the group an app owner's invitation from
//!   My Apps adds the guest to (Graph has no such field; shown as
//!   `grantedGroup`).
//! - `clients.delegated_permissions`: the admin API permissions an
//!   application may use on behalf of a signed-in user (a JSON array of
//!   Graph names; the user's own role still bounds them).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index_on, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum GroupJoinRequests {
    Table,
    Id,
    GroupId,
    UserId,
    State,
    CreatedAt,
    DecidedAt,
    DecidedBy,
}

#[derive(DeriveIden)]
enum Invitations {
    Table,
    GrantedGroupId,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    DelegatedPermissions,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use GroupJoinRequests as J;
        m.create_table(
            table(J::Table)
                .col(uuid(J::Id).primary_key())
                .col(uuid(J::GroupId))
                .col(uuid(J::UserId))
                .col(text(J::State))
                .col(timestamp_with_time_zone(J::CreatedAt))
                .col(timestamp_with_time_zone_null(J::DecidedAt))
                // An `Actor` as JSON.
                .col(json_null(J::DecidedBy))
                .to_owned(),
        )
        .await?;
        // A group's requests, newest first (owners' list, the admin API).
        m.create_index(index_on(
            "idx_group_join_requests_group",
            J::Table,
            [J::GroupId, J::CreatedAt],
        ))
        .await?;
        m.create_index(index_on(
            "idx_group_join_requests_user",
            J::Table,
            [J::UserId],
        ))
        .await?;
        // One pending request per user and group. Partial indexes are the
        // same SQL on SQLite and PostgreSQL.
        m.get_connection()
            .execute_unprepared(
                "CREATE UNIQUE INDEX IF NOT EXISTS idx_group_join_requests_pending \
                 ON group_join_requests (group_id, user_id) WHERE state = 'pending'",
            )
            .await?;
        m.alter_table(
            Table::alter()
                .table(Invitations::Table)
                .add_column(uuid_null(Invitations::GrantedGroupId))
                .to_owned(),
        )
        .await?;
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .add_column(json(Clients::DelegatedPermissions).default("[]"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
