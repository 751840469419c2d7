//! Table and column names of the initial schema (`m20261121_000001_initial`).

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub(super) enum Users {
    Table,
    Id,
    DisplayName,
    Mail,
    UserType,
    AccountEnabled,
    IsAdmin,
    PasswordHash,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
pub(super) enum Clients {
    Table,
    Id,
    ClientId,
    SecretHash,
    DisplayName,
    ClientType,
    AuthMethod,
    RedirectUris,
    PostLogoutRedirectUris,
    GrantTypes,
    BackchannelLogoutUri,
    Permissions,
    CreatedAt,
}

#[derive(DeriveIden)]
pub(super) enum SigningKeys {
    Table,
    Kid,
    Alg,
    PrivatePem,
    CreatedAt,
    ActivatesAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
pub(super) enum Interactions {
    Table,
    Id,
    Data,
    ExpiresAt,
}

#[derive(DeriveIden)]
pub(super) enum Sessions {
    Table,
    IdHash,
    Sid,
    UserId,
    AuthTime,
    Amr,
    CreatedAt,
    ExpiresAt,
}

#[derive(DeriveIden)]
pub(super) enum Consents {
    Table,
    UserId,
    ClientId,
    Scopes,
    GrantedAt,
}

#[derive(DeriveIden)]
pub(super) enum Grants {
    Table,
    Id,
    ClientId,
    UserId,
    Scope,
    AuthTime,
    Amr,
    Sid,
    Claims,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
pub(super) enum AuthCodes {
    Table,
    CodeHash,
    GrantId,
    ClientId,
    RedirectUri,
    Nonce,
    CodeChallenge,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
pub(super) enum RefreshTokens {
    Table,
    TokenHash,
    GrantId,
    ClientId,
    CreatedAt,
    ExpiresAt,
    ConsumedAt,
}

#[derive(DeriveIden)]
pub(super) enum AccessTokens {
    Table,
    Jti,
    GrantId,
    ClientId,
    UserId,
    Scope,
    ExpiresAt,
    RevokedAt,
}

#[derive(DeriveIden)]
pub(super) enum ServerSecrets {
    Table,
    Name,
    Value,
}
