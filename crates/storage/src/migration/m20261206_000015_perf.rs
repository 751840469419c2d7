//! Performance (issue 11): an application's `id_token_signed_response_alg`
//! (OpenID Connect Dynamic Registration §2; NULL is the default, RS256), for
//! deployments that also sign with ES256 or EdDSA; `cache_versions`, the
//! change counters that keep the nodes' in-memory caches correct
//! (`storage::cache`).

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::table;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Clients {
    Table,
    IdTokenSignedResponseAlg,
}

#[derive(DeriveIden)]
enum CacheVersions {
    Table,
    Name,
    Version,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        m.alter_table(
            Table::alter()
                .table(Clients::Table)
                .add_column(text_null(Clients::IdTokenSignedResponseAlg))
                .to_owned(),
        )
        .await?;
        m.create_table(
            table(CacheVersions::Table)
                .col(text(CacheVersions::Name).primary_key())
                .col(big_integer(CacheVersions::Version))
                .to_owned(),
        )
        .await
    }
}
