//! Conditional access (issue 13): `conditional_access_policies` and
//! `named_locations`, each row a Graph JSON document (`body`) with its id,
//! name and times as columns; and the sign-in log's new columns: the claimed
//! device platform, the country of the IP address, and each policy's result
//! (`applied_ca_policies`, Graph's `appliedConditionalAccessPolicies`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::table;
use super::sign_in_idens::SignIns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ConditionalAccessPolicies {
    Table,
    Id,
    DisplayName,
    State,
    Body,
    CreatedAt,
    ModifiedAt,
}

#[derive(DeriveIden)]
enum NamedLocations {
    Table,
    Id,
    DisplayName,
    Body,
    CreatedAt,
    ModifiedAt,
}

#[derive(DeriveIden)]
enum SignInColumns {
    Platform,
    Country,
    AppliedCaPolicies,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use ConditionalAccessPolicies as P;
        use NamedLocations as L;
        m.create_table(
            table(P::Table)
                .col(uuid(P::Id).primary_key())
                .col(text(P::DisplayName))
                .col(text(P::State))
                .col(json(P::Body))
                .col(timestamp_with_time_zone(P::CreatedAt))
                .col(timestamp_with_time_zone_null(P::ModifiedAt))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table(L::Table)
                .col(uuid(L::Id).primary_key())
                .col(text(L::DisplayName))
                .col(json(L::Body))
                .col(timestamp_with_time_zone(L::CreatedAt))
                .col(timestamp_with_time_zone_null(L::ModifiedAt))
                .to_owned(),
        )
        .await?;
        // SQLite adds one column per ALTER TABLE.
        for col in [
            text_null(SignInColumns::Platform),
            text_null(SignInColumns::Country),
            json_null(SignInColumns::AppliedCaPolicies),
        ] {
            m.alter_table(
                Table::alter()
                    .table(SignIns::Table)
                    .add_column(col)
                    .to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}
