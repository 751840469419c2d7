//! What the schema asks of PostgreSQL, read back from the catalog after
//! migrating, so a test can hold it to what PostgreSQL-compatible
//! distributed databases (CockroachDB, YugabyteDB) also offer: no
//! sequences (ids are UUIDs or text, so no hot range), no triggers, no
//! stored functions, no extensions, a primary key on every table, and
//! column types from a short list.
//!
//! The statements Portico runs use, besides plain CRUD: transactions
//! (read committed, and serializable where a check and a write must not
//! interleave), `INSERT … ON CONFLICT … DO UPDATE/NOTHING`, `RETURNING`,
//! `SELECT … FOR UPDATE` and `FOR UPDATE SKIP LOCKED` (the mail queue and
//! other job claims). Both distributed databases support each of these;
//! nothing uses `LISTEN/NOTIFY` or advisory locks (leases are rows).

use crate::Storage;
use anyhow::Context;
use sea_orm::{ConnectionTrait, DbBackend, Statement};
use std::collections::BTreeSet;

/// The schema's use of PostgreSQL, from `information_schema` and `pg_catalog`.
#[derive(Debug, Default)]
pub struct SchemaFeatures {
    /// `data_type` of every column, e.g. `uuid`, `text`, `timestamp with time zone`.
    pub column_types: BTreeSet<String>,
    pub sequences: Vec<String>,
    pub triggers: Vec<String>,
    /// Functions and procedures defined in the database's own schemas.
    pub functions: Vec<String>,
    /// Extensions other than the built-in `plpgsql`.
    pub extensions: Vec<String>,
    pub tables_without_primary_key: Vec<String>,
    pub tables: usize,
}

impl Storage {
    /// Reads [`SchemaFeatures`]; PostgreSQL only.
    pub async fn schema_features(&self) -> anyhow::Result<SchemaFeatures> {
        anyhow::ensure!(
            self.backend == DbBackend::Postgres,
            "the schema report reads PostgreSQL's catalog"
        );
        let list = |sql: &'static str| async move {
            let rows = self
                .db
                .query_all_raw(Statement::from_string(DbBackend::Postgres, sql))
                .await
                .with_context(|| format!("catalog query failed: {sql}"))?;
            rows.iter()
                .map(|r| r.try_get_by_index::<String>(0).map_err(anyhow::Error::from))
                .collect::<anyhow::Result<Vec<String>>>()
        };
        let tables = list(
            "SELECT table_name::text FROM information_schema.tables \
             WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'",
        )
        .await?;
        Ok(SchemaFeatures {
            column_types: list(
                "SELECT DISTINCT data_type::text FROM information_schema.columns \
                 WHERE table_schema = current_schema()",
            )
            .await?
            .into_iter()
            .collect(),
            sequences: list(
                "SELECT sequence_name::text FROM information_schema.sequences \
                 WHERE sequence_schema = current_schema()",
            )
            .await?,
            triggers: list(
                "SELECT trigger_name::text FROM information_schema.triggers \
                 WHERE trigger_schema = current_schema()",
            )
            .await?,
            functions: list(
                "SELECT p.proname::text FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace \
                 WHERE n.nspname = current_schema()",
            )
            .await?,
            extensions: list("SELECT extname::text FROM pg_extension WHERE extname <> 'plpgsql'")
                .await?,
            tables_without_primary_key: list(
                "SELECT t.table_name::text FROM information_schema.tables t \
                 WHERE t.table_schema = current_schema() AND t.table_type = 'BASE TABLE' \
                 AND NOT EXISTS (SELECT 1 FROM information_schema.table_constraints c \
                   WHERE c.table_schema = t.table_schema AND c.table_name = t.table_name \
                   AND c.constraint_type = 'PRIMARY KEY')",
            )
            .await?,
            tables: tables.len(),
        })
    }
}
