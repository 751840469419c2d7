//! Sign-ins found by their conditional access results (issue 13): one row per
//! sign-in and policy that applied to it (`success`, `failure`,
//! `reportOnlySuccess`, `reportOnlyFailure`; policies that did not apply or
//! were off are not indexed), so the log can be filtered by a policy's result
//! and read in order from an index. Sign-ins recorded before this migration
//! are indexed from their `applied_ca_policies` JSON.

use sea_orm_migration::prelude::*;
use sea_orm_migration::schema::*;
use sea_orm_migration::sea_orm::DbBackend;

use super::helpers::{cascade, index_on, table};
use super::sign_in_idens::SignIns;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum SignInPolicyResults {
    Table,
    SignInId,
    PolicyId,
    Result,
}

/// Results that say a policy applied (the others are not indexed).
const INDEXED: &str = "('success', 'failure', 'reportOnlySuccess', 'reportOnlyFailure')";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    fn use_transaction(&self) -> Option<bool> {
        Some(true)
    }

    async fn up(&self, m: &SchemaManager) -> Result<(), DbErr> {
        use SignInPolicyResults as R;
        m.create_table(
            table(R::Table)
                .col(uuid(R::SignInId))
                .col(text(R::PolicyId))
                .col(text(R::Result))
                .primary_key(Index::create().col(R::SignInId).col(R::PolicyId))
                .foreign_key(&mut cascade(
                    "fk_sign_in_policy_results_sign_in",
                    R::Table,
                    R::SignInId,
                    SignIns::Table,
                    SignIns::Id,
                ))
                .to_owned(),
        )
        .await?;
        // Any policy with this result, newest sign-in first.
        m.create_index(index_on(
            "idx_sign_in_policy_results_result",
            R::Table,
            [R::Result, R::SignInId],
        ))
        .await?;
        // One policy with this result, newest sign-in first.
        m.create_index(index_on(
            "idx_sign_in_policy_results_policy",
            R::Table,
            [R::PolicyId, R::Result, R::SignInId],
        ))
        .await?;
        m.get_connection()
            .execute_unprepared(&backfill(m.get_database_backend()))
            .await?;
        Ok(())
    }
}

/// Indexes the sign-ins whose records name policies that applied (those
/// recorded before the index existed); rows already indexed are kept.
pub(crate) fn backfill(backend: DbBackend) -> String {
    match backend {
        DbBackend::Postgres => format!(
            "INSERT INTO sign_in_policy_results (sign_in_id, policy_id, result) \
             SELECT s.id, e->>'id', e->>'result' \
             FROM sign_ins s, json_array_elements(CASE \
             WHEN json_typeof(s.applied_ca_policies::json) = 'array' \
             THEN s.applied_ca_policies::json ELSE '[]'::json END) e \
             WHERE s.applied_ca_policies IS NOT NULL \
             AND e->>'id' IS NOT NULL AND e->>'result' IN {INDEXED} \
             ON CONFLICT DO NOTHING"
        ),
        _ => format!(
            "INSERT OR IGNORE INTO sign_in_policy_results (sign_in_id, policy_id, result) \
             SELECT s.id, json_extract(e.value, '$.id'), json_extract(e.value, '$.result') \
             FROM sign_ins s, json_each(s.applied_ca_policies) e \
             WHERE s.applied_ca_policies IS NOT NULL \
             AND json_type(s.applied_ca_policies) = 'array' \
             AND json_extract(e.value, '$.id') IS NOT NULL \
             AND json_extract(e.value, '$.result') IN {INDEXED}"
        ),
    }
}
