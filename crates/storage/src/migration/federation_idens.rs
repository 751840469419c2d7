//! Table and column names added by `m20261121_000003_federation`.

use sea_orm_migration::prelude::*;

/// The column federation adds to `sessions`.
#[derive(DeriveIden)]
pub(super) enum Sessions {
    Table,
    Idp,
}

/// The column federation adds to `grants`.
#[derive(DeriveIden)]
pub(super) enum Grants {
    Table,
    Idp,
}

#[derive(DeriveIden)]
pub(super) enum IdentityProviders {
    Table,
    Id,
    DisplayName,
    Issuer,
    ClientId,
    ClientSecret,
    Scopes,
    ClaimsMapping,
    Enabled,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(super) enum IdentityProviderDomains {
    Table,
    Domain,
    IdpId,
}

#[derive(DeriveIden)]
pub(super) enum FederationFlows {
    Table,
    Id,
    StateHash,
    IdpId,
    Purpose,
    BindingHash,
    Nonce,
    PkceVerifier,
    Status,
    Result,
    CreatedAt,
    ExpiresAt,
}
