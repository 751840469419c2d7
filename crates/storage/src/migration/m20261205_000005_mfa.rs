//! MFA (issue 5): users' authenticator apps (TOTP, the secret sealed), their
//! recovery codes (keyed hashes) and the wrong codes counted for the lockout.
//!
//! Portable DDL only: every row cascades from its user, and every lookup the
//! repository makes has an index. Table and column names live here: no other
//! migration refers to them.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;

use super::helpers::{cascade, index, index_on, table};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Users {
    Table,
    Id,
}

#[derive(DeriveIden)]
enum MfaTotpMethods {
    Table,
    Id,
    UserId,
    SecretSealed,
    CreatedAt,
    ConfirmedAt,
    LastUsedStep,
}

#[derive(DeriveIden)]
enum MfaRecoveryCodes {
    Table,
    Id,
    UserId,
    CodeHash,
    CreatedAt,
    UsedAt,
}

#[derive(DeriveIden)]
enum MfaFailures {
    Table,
    Id,
    UserId,
    Ip,
    FailedAt,
}

fn tables() -> Vec<TableCreateStatement> {
    use MfaFailures as F;
    use MfaRecoveryCodes as R;
    use MfaTotpMethods as T;
    vec![
        table(T::Table)
            .col(uuid(T::Id).primary_key())
            .col(uuid(T::UserId))
            .col(text(T::SecretSealed))
            .col(timestamp_with_time_zone(T::CreatedAt))
            .col(timestamp_with_time_zone_null(T::ConfirmedAt))
            .col(big_integer_null(T::LastUsedStep))
            .foreign_key(&mut cascade(
                "fk_mfa_totp_methods_user",
                T::Table,
                T::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
        table(R::Table)
            .col(uuid(R::Id).primary_key())
            .col(uuid(R::UserId))
            .col(text(R::CodeHash))
            .col(timestamp_with_time_zone(R::CreatedAt))
            .col(timestamp_with_time_zone_null(R::UsedAt))
            .foreign_key(&mut cascade(
                "fk_mfa_recovery_codes_user",
                R::Table,
                R::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
        table(F::Table)
            .col(uuid(F::Id).primary_key())
            .col(uuid(F::UserId))
            .col(text(F::Ip))
            .col(timestamp_with_time_zone(F::FailedAt))
            .foreign_key(&mut cascade(
                "fk_mfa_failures_user",
                F::Table,
                F::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    use MfaFailures as F;
    use MfaRecoveryCodes as R;
    use MfaTotpMethods as T;
    vec![
        index("idx_mfa_totp_methods_user_id", T::Table, T::UserId),
        index_on(
            "idx_mfa_recovery_codes_user_hash",
            R::Table,
            [R::UserId, R::CodeHash],
        ),
        index_on(
            "idx_mfa_failures_user_time",
            F::Table,
            [F::UserId, F::FailedAt],
        ),
        index_on("idx_mfa_failures_ip_time", F::Table, [F::Ip, F::FailedAt]),
        // The purge of old failures.
        index("idx_mfa_failures_failed_at", F::Table, F::FailedAt),
    ]
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    /// All or nothing, on SQLite too (its DDL is transactional).
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        for t in tables() {
            m.create_table(t).await?;
        }
        for i in indexes() {
            m.create_index(i).await?;
        }
        Ok(())
    }
}
