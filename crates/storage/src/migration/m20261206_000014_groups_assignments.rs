//! Groups and app role assignments (issue 12): `groups` (Graph's group:
//! display name, description, `securityEnabled`), `group_memberships` (a
//! user is a `member` or an `owner` of a group; one row each), and
//! `app_role_assignments` (a user or a group may use an application; the
//! default app role, the all-zero GUID), and `app_owners` (users who manage
//! who may use an application, from My Apps). Applications get
//! `app_role_assignment_required`, `group_membership_claims` (which groups
//! the `groups` claim carries), `initiate_login_uri` (OIDC third-party
//! initiated login, My Apps' launch link) and `logo_uri`.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{index_on, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Groups {
    Table,
    Id,
    DisplayName,
    Description,
    SecurityEnabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum GroupMemberships {
    Table,
    GroupId,
    Relation,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AppRoleAssignments {
    Table,
    Id,
    ResourceId,
    PrincipalId,
    PrincipalType,
    AppRoleId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum AppOwners {
    Table,
    ResourceId,
    UserId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    AppRoleAssignmentRequired,
    GroupMembershipClaims,
    InitiateLoginUri,
    LogoUri,
}

/// SQLite adds one column per `ALTER TABLE`, so each column is its own statement.
fn columns() -> Vec<TableAlterStatement> {
    let alter = |c: &mut ColumnDef| {
        Table::alter()
            .table(Clients::Table)
            .add_column(c)
            .to_owned()
    };
    vec![
        alter(boolean(Clients::AppRoleAssignmentRequired).default(false)),
        alter(text(Clients::GroupMembershipClaims).default("None")),
        alter(&mut text_null(Clients::InitiateLoginUri)),
        alter(&mut text_null(Clients::LogoUri)),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use AppRoleAssignments as A;
        use GroupMemberships as M;
        m.create_table(
            table(Groups::Table)
                .col(uuid(Groups::Id).primary_key())
                .col(text(Groups::DisplayName))
                .col(text_null(Groups::Description))
                .col(boolean(Groups::SecurityEnabled))
                .col(timestamp_with_time_zone(Groups::CreatedAt))
                .col(timestamp_with_time_zone(Groups::UpdatedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table(M::Table)
                .col(uuid(M::GroupId))
                .col(text(M::Relation))
                .col(uuid(M::UserId))
                .col(timestamp_with_time_zone(M::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(M::GroupId)
                        .col(M::Relation)
                        .col(M::UserId),
                )
                .to_owned(),
        )
        .await?;
        // A user's groups (the `groups` claim, memberOf, assignments through groups).
        m.create_index(index_on(
            "idx_group_memberships_user",
            M::Table,
            [M::UserId, M::Relation],
        ))
        .await?;
        m.create_table(
            table(A::Table)
                .col(uuid(A::Id).primary_key())
                .col(uuid(A::ResourceId))
                .col(uuid(A::PrincipalId))
                .col(text(A::PrincipalType))
                .col(uuid(A::AppRoleId))
                .col(timestamp_with_time_zone(A::CreatedAt))
                .to_owned(),
        )
        .await?;
        // One assignment of a role per principal and application.
        m.create_index(
            index_on(
                "idx_app_role_assignments_unique",
                A::Table,
                [A::ResourceId, A::PrincipalId, A::AppRoleId],
            )
            .unique()
            .to_owned(),
        )
        .await?;
        m.create_index(index_on(
            "idx_app_role_assignments_principal",
            A::Table,
            [A::PrincipalId],
        ))
        .await?;
        m.create_table(
            table(AppOwners::Table)
                .col(uuid(AppOwners::ResourceId))
                .col(uuid(AppOwners::UserId))
                .col(timestamp_with_time_zone(AppOwners::CreatedAt))
                .primary_key(
                    Index::create()
                        .col(AppOwners::ResourceId)
                        .col(AppOwners::UserId),
                )
                .to_owned(),
        )
        .await?;
        // The applications a user owns (My Apps).
        m.create_index(index_on(
            "idx_app_owners_user",
            AppOwners::Table,
            [AppOwners::UserId],
        ))
        .await?;
        for a in columns() {
            m.alter_table(a).await?;
        }
        Ok(())
    }
}
