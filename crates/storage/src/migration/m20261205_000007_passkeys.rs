//! Passkeys (issue 9): users' WebAuthn credentials and the ceremonies in
//! flight between the options a browser is given and its answer.
//!
//! `passkey_credentials` keeps webauthn-rs's credential as JSON (public key,
//! signature counter, backup flags) with the counter beside it; the
//! credential id is unique across all users (WebAuthn §7.1 step 22: a
//! credential registered to one account is never accepted for another).
//! `passkey_ceremonies` rows are single use (deleted by the answer) and
//! expire after five minutes; they are bound to the interaction or the
//! account session that asked, and to the user when known. Keeping the
//! state here, not in memory, lets the answer reach any node.
//!
//! Portable DDL only; every row cascades from its user.

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
enum PasskeyCredentials {
    Table,
    Id,
    UserId,
    CredentialId,
    Name,
    Credential,
    Counter,
    Aaguid,
    CreatedAt,
    LastUsedAt,
}

#[derive(DeriveIden)]
enum PasskeyCeremonies {
    Table,
    Id,
    UserId,
    Binding,
    Kind,
    State,
    CreatedAt,
    ExpiresAt,
}

fn tables() -> Vec<TableCreateStatement> {
    use PasskeyCeremonies as C;
    use PasskeyCredentials as P;
    vec![
        table(P::Table)
            .col(uuid(P::Id).primary_key())
            .col(uuid(P::UserId))
            .col(text(P::CredentialId))
            .col(text(P::Name))
            .col(text(P::Credential))
            .col(big_integer(P::Counter))
            .col(text_null(P::Aaguid))
            .col(timestamp_with_time_zone(P::CreatedAt))
            .col(timestamp_with_time_zone_null(P::LastUsedAt))
            .foreign_key(&mut cascade(
                "fk_passkey_credentials_user",
                P::Table,
                P::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
        table(C::Table)
            .col(uuid(C::Id).primary_key())
            .col(uuid_null(C::UserId))
            .col(text(C::Binding))
            .col(text(C::Kind))
            .col(text(C::State))
            .col(timestamp_with_time_zone(C::CreatedAt))
            .col(timestamp_with_time_zone(C::ExpiresAt))
            .foreign_key(&mut cascade(
                "fk_passkey_ceremonies_user",
                C::Table,
                C::UserId,
                Users::Table,
                Users::Id,
            ))
            .to_owned(),
    ]
}

fn indexes() -> Vec<IndexCreateStatement> {
    use PasskeyCeremonies as C;
    use PasskeyCredentials as P;
    vec![
        index("idx_passkey_credentials_user_id", P::Table, P::UserId),
        Index::create()
            .if_not_exists()
            .name("idx_passkey_credentials_credential_id")
            .table(P::Table)
            .col(P::CredentialId)
            .unique()
            .to_owned(),
        index_on(
            "idx_passkey_ceremonies_binding",
            C::Table,
            [C::Binding, C::Kind],
        ),
        // The purge of expired ceremonies.
        index("idx_passkey_ceremonies_expires_at", C::Table, C::ExpiresAt),
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
