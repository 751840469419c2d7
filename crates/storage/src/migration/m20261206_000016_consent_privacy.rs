//! Consent per privacy statement version (issue 12): a consent remembers the
//! organization's privacy statement version it was given under, so a new
//! version asks again (`PORTICO_PRIVACY_VERSION`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Consents {
    Table,
    PrivacyVersion,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Consents::Table)
                .add_column(text_null(Consents::PrivacyVersion))
                .to_owned(),
        )
        .await
    }
}
