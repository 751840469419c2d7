//! Table and column names added by `m20261205_000004_sign_ins`.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
pub(super) enum SignIns {
    Table,
    Id,
    CreatedAt,
    UserId,
    UserPrincipalName,
    UserDisplayName,
    ClientId,
    AppDisplayName,
    HomeIdp,
    IpAddress,
    UserAgent,
    Steps,
    Amr,
    Acr,
    Result,
    FailureReason,
    FailureMessage,
    CorrelationId,
}
