//! Least privilege and the last protocol gaps (issue 10): per-application
//! `require_pkce` (on by default, OAuth 2.1 / RFC 9700 §2.1.1); the "Guest
//! Inviter" role; whether a user's address was proven (`email_verified`:
//! guests who accepted an invitation proved their mailbox; nobody else has
//! yet).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    RequirePkce,
}

#[derive(DeriveIden)]
enum Users {
    Table,
    GuestInviter,
    EmailVerified,
    ExternalUserState,
}

/// SQLite adds one column per `ALTER TABLE`, so each column is its own statement.
fn columns() -> Vec<TableAlterStatement> {
    vec![
        Table::alter()
            .table(Clients::Table)
            .add_column(boolean(Clients::RequirePkce).default(true))
            .to_owned(),
        Table::alter()
            .table(Users::Table)
            .add_column(boolean(Users::GuestInviter).default(false))
            .to_owned(),
        Table::alter()
            .table(Users::Table)
            .add_column(boolean(Users::EmailVerified).default(false))
            .to_owned(),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for a in columns() {
            m.alter_table(a).await?;
        }
        // Accepting an invitation always proved the invited mailbox.
        m.exec_stmt(
            Query::update()
                .table(Users::Table)
                .value(Users::EmailVerified, true)
                .and_where(Expr::col(Users::ExternalUserState).eq("Accepted"))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
