//! Throw-away PostgreSQL databases for tests (this crate's and the workspace's).

use anyhow::Context;
use sea_orm::{ConnectOptions, ConnectionTrait, Database};
use std::time::Duration;

async fn admin_exec(admin_url: &str, sql: &str) -> anyhow::Result<()> {
    let mut opts = ConnectOptions::new(admin_url.to_owned());
    opts.sqlx_logging(false)
        .max_connections(1)
        .acquire_timeout(Duration::from_secs(5));
    let admin = Database::connect(opts)
        .await
        .context("cannot connect to the PostgreSQL admin database")?;
    let res = admin.execute_unprepared(sql).await.map(|_| ());
    admin.close().await.ok();
    res.with_context(|| format!("`{sql}` failed"))
}

/// Creates an empty database `portico_t_<uuid>` next to the one `admin_url`
/// names (a `postgres://` URL of a user allowed to create databases) and
/// returns its URL. Drop it with [`drop_test_database`].
pub async fn create_test_database(admin_url: &str) -> anyhow::Result<String> {
    let mut url = url::Url::parse(admin_url).context("invalid PostgreSQL URL")?;
    anyhow::ensure!(
        matches!(url.scheme(), "postgres" | "postgresql"),
        "not a postgres:// URL"
    );
    let name = format!("portico_t_{}", uuid::Uuid::new_v4().simple());
    admin_exec(admin_url, &format!("CREATE DATABASE {name}")).await?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// Drops a database made by [`create_test_database`], closing its connections.
pub async fn drop_test_database(admin_url: &str, database_url: &str) -> anyhow::Result<()> {
    let url = url::Url::parse(database_url).context("invalid PostgreSQL URL")?;
    let name = url.path().trim_start_matches('/');
    anyhow::ensure!(
        name.starts_with("portico_t_")
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_'),
        "refusing to drop {name:?}: not a test database"
    );
    admin_exec(
        admin_url,
        &format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"),
    )
    .await
}

impl crate::Storage {
    /// The pool's connections: how many are open and how many it may open.
    pub fn pool_connections(&self) -> (u32, u32) {
        if self.backend == sea_orm::DbBackend::Sqlite {
            let pool = self.db().get_sqlite_connection_pool();
            (pool.size(), pool.options().get_max_connections())
        } else {
            let pool = self.db().get_postgres_connection_pool();
            (pool.size(), pool.options().get_max_connections())
        }
    }

    /// How many times this node read the tenant settings' change counter.
    pub fn settings_counter_reads(&self) -> u64 {
        self.caches
            .settings
            .reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// How many times this node read the signing keys' change counter.
    pub fn keys_counter_reads(&self) -> u64 {
        self.caches
            .keys_reads
            .load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Idle connections in the PostgreSQL pool.
    pub fn postgres_idle_connections(&self) -> usize {
        self.db().get_postgres_connection_pool().num_idle()
    }

    /// `PRAGMA busy_timeout` of every idle SQLite connection in the pool.
    pub async fn sqlite_busy_timeouts_ms(&self) -> Vec<i64> {
        self.sqlite_pragma("PRAGMA busy_timeout").await
    }

    /// What `pragma` (a `PRAGMA` or `SELECT` that reads one number) gives on
    /// every idle SQLite connection in the pool.
    pub async fn sqlite_pragma(&self, pragma: &'static str) -> Vec<i64> {
        use sea_orm::sqlx::Row;
        let pool = self.db().get_sqlite_connection_pool();
        let mut idle = Vec::new();
        while let Some(c) = pool.try_acquire() {
            idle.push(c);
        }
        let mut out = Vec::new();
        for c in &mut idle {
            if let Ok(row) = sea_orm::sqlx::query(pragma).fetch_one(&mut **c).await {
                out.extend(row.try_get::<i64, _>(0));
            }
        }
        out
    }

    /// Whether this storage's PostgreSQL connection runs over TLS, and
    /// whether the server offers TLS at all (`SHOW ssl`).
    pub async fn postgres_tls(&self) -> anyhow::Result<(bool, bool)> {
        let row = self
            .db()
            .query_one_raw(sea_orm::Statement::from_string(
                sea_orm::DbBackend::Postgres,
                "SELECT s.ssl, current_setting('ssl') = 'on' FROM pg_stat_ssl s \
                 WHERE s.pid = pg_backend_pid()",
            ))
            .await?
            .context("pg_stat_ssl has no row for this connection")?;
        Ok((row.try_get_by_index(0)?, row.try_get_by_index(1)?))
    }

    /// Empties the sign-in log's conditional access index and rebuilds it
    /// from the records, with the statement the migration that introduced
    /// the index runs over the sign-ins recorded before it: the upgrade test
    /// runs it against records it wrote. Returns the rows indexed.
    pub async fn rebuild_sign_in_policy_index(&self) -> anyhow::Result<u64> {
        self.db()
            .execute_unprepared("DELETE FROM sign_in_policy_results")
            .await?;
        let done = self
            .db()
            .execute_unprepared(&crate::migration::backfill_sign_in_policy_results(
                self.backend,
            ))
            .await?;
        Ok(done.rows_affected())
    }
}
