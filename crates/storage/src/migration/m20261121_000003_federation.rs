//! Federation (issue 4): the trusted upstream identity providers, the email
//! domains each one serves (a domain is the primary key, so only one IdP can
//! serve it), the flows that sign in through them, and the `idp` (the home
//! IdP's issuer) of `sessions` and `grants`.
//!
//! Portable DDL only: domains and flows cascade from their IdP, and every
//! lookup the repositories make has an index.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::federation_idens::*;
use super::helpers::{cascade, index, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

/// SQLite adds one column per `ALTER TABLE`, so each column is its own statement.
fn idp_columns() -> Vec<TableAlterStatement> {
    vec![
        Table::alter()
            .table(Sessions::Table)
            .add_column(text_null(Sessions::Idp))
            .to_owned(),
        Table::alter()
            .table(Grants::Table)
            .add_column(text_null(Grants::Idp))
            .to_owned(),
    ]
}

fn tables() -> Vec<TableCreateStatement> {
    use FederationFlows as F;
    use IdentityProviderDomains as D;
    use IdentityProviders as P;
    vec![
        table(P::Table)
            .col(uuid(P::Id).primary_key())
            .col(text(P::DisplayName))
            .col(text_uniq(P::Issuer))
            .col(text(P::ClientId))
            .col(text(P::ClientSecret))
            .col(json(P::Scopes))
            .col(json(P::ClaimsMapping))
            .col(boolean(P::Enabled))
            .col(timestamp_with_time_zone(P::CreatedAt))
            .col(timestamp_with_time_zone(P::UpdatedAt))
            .to_owned(),
        table(D::Table)
            .col(text(D::Domain).primary_key())
            .col(uuid(D::IdpId))
            .foreign_key(&mut cascade(
                "fk_identity_provider_domains_idp",
                D::Table,
                D::IdpId,
                P::Table,
                P::Id,
            ))
            .to_owned(),
        table(F::Table)
            .col(uuid(F::Id).primary_key())
            .col(text_uniq(F::StateHash))
            .col(uuid(F::IdpId))
            .col(json(F::Purpose))
            .col(text(F::BindingHash))
            .col(text(F::Nonce))
            .col(text(F::PkceVerifier))
            .col(text(F::Status))
            .col(json_null(F::Result))
            .col(timestamp_with_time_zone(F::CreatedAt))
            .col(timestamp_with_time_zone(F::ExpiresAt))
            .foreign_key(&mut cascade(
                "fk_federation_flows_idp",
                F::Table,
                F::IdpId,
                P::Table,
                P::Id,
            ))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    use FederationFlows as F;
    use IdentityProviderDomains as D;
    vec![
        index("idx_identity_provider_domains_idp_id", D::Table, D::IdpId),
        index("idx_federation_flows_expires_at", F::Table, F::ExpiresAt),
        // Deleting an IdP deletes its flows.
        index("idx_federation_flows_idp_id", F::Table, F::IdpId),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing, on SQLite too (its DDL is transactional).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for a in idp_columns() {
            m.alter_table(a).await?;
        }
        for t in tables() {
            m.create_table(t).await?;
        }
        for i in indexes() {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
