//! The sign-in pipeline (issue 9): what an authentication consisted of
//! (`sessions.detail`: its steps and the home IdP's assertion), the `acr` a
//! grant's tokens carry, per-application `require_mfa` and `first_party`,
//! per-IdP `mfa_trust`, and the tenant's settings (one JSON document per name).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Sessions {
    Table,
    Detail,
}

#[derive(DeriveIden)]
enum Grants {
    Table,
    Acr,
}

#[derive(DeriveIden)]
enum Clients {
    Table,
    RequireMfa,
    FirstParty,
}

#[derive(DeriveIden)]
enum IdentityProviders {
    Table,
    MfaTrust,
}

#[derive(DeriveIden)]
enum TenantSettings {
    Table,
    Name,
    Value,
    UpdatedAt,
}

/// SQLite adds one column per `ALTER TABLE`, so each column is its own statement.
fn columns() -> Vec<TableAlterStatement> {
    vec![
        Table::alter()
            .table(Sessions::Table)
            .add_column(json_null(Sessions::Detail))
            .to_owned(),
        Table::alter()
            .table(Grants::Table)
            .add_column(text_null(Grants::Acr))
            .to_owned(),
        Table::alter()
            .table(Clients::Table)
            .add_column(boolean(Clients::RequireMfa).default(false))
            .to_owned(),
        Table::alter()
            .table(Clients::Table)
            .add_column(boolean(Clients::FirstParty).default(false))
            .to_owned(),
        Table::alter()
            .table(IdentityProviders::Table)
            .add_column(json_null(IdentityProviders::MfaTrust))
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
        m.create_table(
            table(TenantSettings::Table)
                .col(text(TenantSettings::Name).primary_key())
                .col(json(TenantSettings::Value))
                .col(timestamp_with_time_zone(TenantSettings::UpdatedAt))
                .to_owned(),
        )
        .await?;
        Ok(())
    }
}
