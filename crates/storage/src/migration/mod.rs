//! Schema migrations, applied by [`crate::Storage::migrate`].
//!
//! One file per migration: `DeriveMigrationName` takes the migration's name from
//! its file name. Only portable DDL (sea-query schema builders, no triggers, no
//! sequences) so the same migrations run on SQLite, PostgreSQL and
//! PostgreSQL-compatible distributed databases.

use sea_orm_migration::prelude::*;

mod federation_idens;
mod guest_idens;
mod helpers;
mod idens;
mod m20261121_000001_initial;
mod m20261121_000002_guests;
mod m20261121_000003_federation;
mod m20261205_000004_sign_ins;
mod m20261205_000005_mfa;
mod m20261205_000006_sign_in_pipeline;
mod m20261205_000007_passkeys;
mod m20261205_000008_bounded_growth;
mod m20261205_000009_least_privilege;
mod m20261206_000011_backchannel_logout;
mod m20261206_000013_conditional_access;
mod m20261206_000014_groups_assignments;
mod m20261206_000015_perf;
mod m20261206_000016_consent_privacy;
mod m20261206_000019_sign_in_policy_results;
mod m20261206_000020_group_join_requests;
mod m20261206_000021_revoked_access_tokens;
mod sign_in_idens;

pub(crate) use m20261206_000019_sign_in_policy_results::backfill as backfill_sign_in_policy_results;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261121_000001_initial::Migration),
            Box::new(m20261121_000002_guests::Migration),
            Box::new(m20261121_000003_federation::Migration),
            Box::new(m20261205_000004_sign_ins::Migration),
            Box::new(m20261205_000005_mfa::Migration),
            Box::new(m20261205_000006_sign_in_pipeline::Migration),
            Box::new(m20261205_000007_passkeys::Migration),
            Box::new(m20261205_000008_bounded_growth::Migration),
            Box::new(m20261205_000009_least_privilege::Migration),
            Box::new(m20261206_000011_backchannel_logout::Migration),
            Box::new(m20261206_000013_conditional_access::Migration),
            Box::new(m20261206_000014_groups_assignments::Migration),
            Box::new(m20261206_000015_perf::Migration),
            Box::new(m20261206_000016_consent_privacy::Migration),
            Box::new(m20261206_000019_sign_in_policy_results::Migration),
            Box::new(m20261206_000020_group_join_requests::Migration),
            Box::new(m20261206_000021_revoked_access_tokens::Migration),
        ]
    }
}
