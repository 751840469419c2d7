//! `portico-storage`: persistence for Portico.
//!
//! It owns the sea-orm entities (`entity`, one file per table), the schema
//! migrations (`migration`) and the implementations of the repository traits the other
//! crates define: every `portico_oidc::store` trait and the sign-in log
//! (`portico_oidc::signin_log::SignInLog`), the directory's
//! [`portico_directory::UserRepo`], `InvitationRepo`, `ImportRepo`,
//! `AuditRepo` and `MfaRepo`, [`portico_mail::MailQueue`] over the mail outbox, and
//! federation's [`portico_federation::IdpRepo`] and `FlowRepo`. It is the
//! only crate that imports sea-orm; everything else sees [`Storage`] through
//! those traits.
//!
//! Two backends are supported with the same schema and code: SQLite (a file,
//! WAL mode, or `sqlite::memory:` for tests) and PostgreSQL (and
//! PostgreSQL-compatible distributed databases: the schema uses no triggers or
//! sequences, ids are UUIDs or text).
//!
//! Concurrency rules the implementations follow:
//! * one-time redemptions (codes, refresh tokens) are a single conditional
//!   `UPDATE … WHERE consumed_at IS NULL` (a TOTP step: `… WHERE last_used_step
//!   < :step`; a recovery code: `… WHERE used_at IS NULL`); the affected row
//!   count decides the winner, so exactly one concurrent caller succeeds on
//!   every backend;
//! * every multi-statement write runs in [`Storage::write_tx`], which on SQLite
//!   is `BEGIN IMMEDIATE` so a read-then-write transaction waits for the write
//!   lock (`busy_timeout`) instead of failing with "database is locked".
//! * a directory change, the audit entries describing it and the mail it
//!   causes are written in one transaction (the outbox pattern): a message is
//!   queued exactly when its change is committed.

pub mod cache;
mod portability;
pub use portability::SchemaFeatures;
mod entity;
mod migration;
mod repo;
mod sealing;
mod testing;

pub use repo::cleanup::PurgeReport;
pub use sealing::{SealPass, SealReport};
pub use testing::{create_test_database, drop_test_database};

use anyhow::Context;
use portico_core::{Clock, Keyring, SystemClock};
use sea_orm::sqlx::postgres::PgSslMode;
use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
use sea_orm::{
    ActiveValue::Set, ConnectOptions, ConnectionTrait, Database, DatabaseConnection,
    DatabaseTransaction, DbBackend, DbErr, EntityTrait, SqliteTransactionMode, TransactionOptions,
    TransactionTrait,
};
use sea_orm_migration::MigratorTrait;
use std::sync::Arc;
use std::time::Duration;

use entity::server_secrets;

/// How long a SQLite connection waits for another writer before failing.
const SQLITE_BUSY_TIMEOUT: Duration = Duration::from_secs(10);
/// The most connections a SQLite file's pool opens by default: two per core
/// the process may run on, at least 2 and at most 8. SQLite runs in the
/// process, so a connection beyond that adds no parallelism, only memory:
/// its own page cache and its worker thread's allocator arena (~0.55 MB
/// each under load, bench/run, stop 27), and writers wait for each other in
/// any case.
pub fn sqlite_default_max_connections() -> u32 {
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    u32::try_from(cores.saturating_mul(2)).map_or(8, |n| n.clamp(2, 8))
}
/// Each SQLite connection's page cache, in KiB (`PRAGMA cache_size`; SQLite's
/// default is 2,000). Eight connections at the default held up to 16 MB
/// filling as the database grew, the last growth the 10-minute soak showed
/// (bench/run, stop 23); a page not cached is read from the operating
/// system's cache of the file.
pub const SQLITE_CACHE_KIB: u32 = 512;
/// How long [`Storage::checkpoint_wal`] waits for readers and writers (and
/// so holds new writers) before it gives up until its next round.
pub const WAL_CHECKPOINT_BUSY_TIMEOUT: Duration = Duration::from_secs(1);
/// How long a request waits for a PostgreSQL connection.
const POSTGRES_ACQUIRE_TIMEOUT: std::time::Duration = std::time::Duration::from_secs(3);
/// The most connections a PostgreSQL pool opens by default.
pub const POSTGRES_DEFAULT_MAX_CONNECTIONS: u32 = 16;

/// The database: a connection pool plus the repository implementations.
#[derive(Clone)]
pub struct Storage {
    db: DatabaseConnection,
    backend: DbBackend,
    /// For decisions whose trait method passes no `now`: whether an account's
    /// access has expired (`AccountStore::find_account`), when a row outcome
    /// was recorded (`ImportRepo::record_row_outcome`), and which invitations
    /// are expired in a list without `now`.
    clock: Arc<dyn Clock>,
    /// Seals the secrets Portico reads back (`sealing`); without one, writing
    /// or reading such a secret fails.
    keyring: Option<Arc<Keyring>>,
    /// What this node caches, shared by its clones (`cache.rs`).
    caches: Arc<cache::Caches>,
}

impl std::fmt::Debug for Storage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Storage")
            .field("backend", &self.backend_name())
            .finish_non_exhaustive()
    }
}

/// What [`Storage::checkpoint_wal`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalCheckpoint {
    /// Whether the log was copied and emptied; false when readers of older
    /// snapshots or a writer held it past the wait.
    pub completed: bool,
    /// Frames the log held when the checkpoint ran.
    pub frames: u64,
}

/// PostgreSQL connections opened at once when connecting (see [`warm`]).
const POSTGRES_WARM_CONNECTIONS: u32 = 4;

/// Opens `n` connections of `pool` at once and puts them back idle.
///
/// sqlx puts a released connection back from a task of its own, so a query
/// right after another finds none idle and opens a new one: the start
/// (migrations, secrets, keys, settings, one after the other) opened four
/// PostgreSQL connections one at a time, each a new server process. Opened
/// together they cost about one. A connection that fails here is not an
/// error: the first query reports it.
async fn warm<DB: sea_orm::sqlx::Database>(pool: &sea_orm::sqlx::Pool<DB>, n: u32) {
    let mut opened: Vec<_> = futures::future::join_all((0..n).map(|_| pool.acquire()))
        .await
        .into_iter()
        .flatten()
        .collect();
    // Put back now rather than from tasks of their own (sqlx: "runs the drop
    // handler eagerly").
    futures::future::join_all(opened.iter_mut().map(|c| c.return_to_pool())).await;
}

/// Whether the PostgreSQL URL names an `sslmode`.
fn sslmode_in_url(url: &str) -> bool {
    url::Url::parse(url).is_ok_and(|u| u.query_pairs().any(|(k, _)| k == "sslmode"))
}

/// A host whose traffic never leaves the machine: a loopback address, or a
/// Unix socket directory.
fn is_loopback_host(host: &str) -> bool {
    host.starts_with('/')
        || host.eq_ignore_ascii_case("localhost")
        || host
            .trim_matches(|c| c == '[' || c == ']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback())
}

impl Storage {
    /// Connects to `sqlite://path?mode=rwc`, `sqlite::memory:` or `postgres://…`.
    ///
    /// SQLite files get WAL, `synchronous=NORMAL`, foreign keys, a 10 s busy
    /// timeout, a page cache of [`SQLITE_CACHE_KIB`] per connection and are
    /// created when missing. An in-memory SQLite database lives
    /// in one connection that is never recycled (it would vanish with it).
    ///
    /// PostgreSQL on a loopback address or a Unix socket is reached without
    /// TLS unless the URL names an `sslmode` (or `PGSSLMODE`, which sqlx
    /// reads, one other than `prefer`): the traffic never leaves the machine,
    /// and TLS made every new connection ~70 ms slower (a start on an
    /// existing database 90 → 370 ms, bench/run). Any other host keeps sqlx's
    /// default (`prefer`).
    pub async fn connect(url: &str) -> anyhow::Result<Storage> {
        Storage::connect_with(url, 0).await
    }

    /// [`Storage::connect`] with a pool of at most `max_connections`
    /// (`PORTICO_DATABASE_MAX_CONNECTIONS`); 0 means the default,
    /// [`sqlite_default_max_connections`] or
    /// [`POSTGRES_DEFAULT_MAX_CONNECTIONS`]. An in-memory SQLite database
    /// always has one.
    pub async fn connect_with(url: &str, max_connections: u32) -> anyhow::Result<Storage> {
        let mut opts = ConnectOptions::new(url.to_owned());
        opts.sqlx_logging(false);
        let kind = if url.starts_with("sqlite:") {
            let memory = url.contains(":memory:") || url.contains("mode=memory");
            opts.map_sqlx_sqlite_opts(|o| {
                o.journal_mode(SqliteJournalMode::Wal)
                    .busy_timeout(SQLITE_BUSY_TIMEOUT)
                    .synchronous(SqliteSynchronous::Normal)
                    .foreign_keys(true)
                    .create_if_missing(true)
                    .pragma("cache_size", format!("-{SQLITE_CACHE_KIB}"))
            });
            if memory {
                opts.max_connections(1).min_connections(1);
                opts.map_sqlx_sqlite_pool_opts(|p| p.idle_timeout(None).max_lifetime(None));
            } else {
                opts.max_connections(match max_connections {
                    0 => sqlite_default_max_connections(),
                    n => n,
                });
            }
            "sqlite"
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            // A database that is down must fail a request in seconds, not
            // hold it for sqlx's 30 s default (the server's DbGuard then
            // answers 503 at once until the database is back).
            opts.max_connections(match max_connections {
                0 => POSTGRES_DEFAULT_MAX_CONNECTIONS,
                n => n,
            })
            .acquire_timeout(POSTGRES_ACQUIRE_TIMEOUT)
            .connect_timeout(POSTGRES_ACQUIRE_TIMEOUT);
            if !sslmode_in_url(url) {
                // sqlx's default, `prefer`, unless PGSSLMODE chose another.
                opts.map_sqlx_postgres_opts(|o| {
                    if matches!(o.get_ssl_mode(), PgSslMode::Prefer)
                        && is_loopback_host(o.get_host())
                    {
                        o.ssl_mode(PgSslMode::Disable)
                    } else {
                        o
                    }
                });
            }
            "postgres"
        } else {
            anyhow::bail!("unsupported database URL: expected sqlite:… or postgres://…");
        };
        // The URL may hold a password: keep it out of the error.
        let db = Database::connect(opts)
            .await
            .with_context(|| format!("cannot connect to the {kind} database"))?;
        let backend = db.get_database_backend();
        if backend == DbBackend::Postgres {
            let pool = db.get_postgres_connection_pool();
            let max = pool.options().get_max_connections();
            warm(pool, POSTGRES_WARM_CONNECTIONS.min(max)).await;
        }
        Ok(Storage {
            db,
            backend,
            clock: Arc::new(SystemClock),
            keyring: None,
            caches: Arc::default(),
        })
    }

    /// Uses `clock` instead of the system clock where a trait method passes no
    /// `now` (see the `clock` field).
    pub fn with_clock(mut self, clock: Arc<dyn Clock>) -> Storage {
        self.clock = clock;
        self
    }

    /// Seals and opens secrets at rest with `keyring` (the master key).
    pub fn with_keyring(mut self, keyring: Keyring) -> Storage {
        self.keyring = Some(Arc::new(keyring));
        self
    }

    /// Applies the pending migrations; running it again is a no-op.
    pub async fn migrate(&self) -> anyhow::Result<()> {
        migration::Migrator::up(&self.db, None)
            .await
            .context("database migration failed")
    }

    /// How many of this binary's migrations the database has not applied
    /// (`/readyz` is false until it is 0).
    pub async fn pending_migrations(&self) -> anyhow::Result<usize> {
        let pending = migration::Migrator::get_pending_migrations(&self.db)
            .await
            .context("cannot read the applied migrations")?;
        Ok(pending.len())
    }

    /// SQLite's `PRAGMA integrity_check`: `"ok"` when the file is sound (after
    /// a crash, say). PostgreSQL checks itself: always `"ok"`.
    pub async fn integrity_check(&self) -> anyhow::Result<String> {
        if self.backend != DbBackend::Sqlite {
            return Ok("ok".into());
        }
        let row = self
            .db
            .query_one_raw(sea_orm::Statement::from_string(
                DbBackend::Sqlite,
                "PRAGMA integrity_check",
            ))
            .await?
            .context("PRAGMA integrity_check returned nothing")?;
        Ok(row.try_get_by_index::<String>(0)?)
    }

    /// Rows in every table of the database, by table (tests and operations:
    /// what a request wrote, wherever it wrote it).
    pub async fn table_row_counts(
        &self,
    ) -> anyhow::Result<std::collections::BTreeMap<String, u64>> {
        let tables_sql = match self.backend {
            DbBackend::Sqlite => {
                "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            }
            _ => {
                "SELECT table_name::text FROM information_schema.tables \
                 WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            }
        };
        let tables = self
            .db
            .query_all_raw(sea_orm::Statement::from_string(self.backend, tables_sql))
            .await?;
        let mut counts = std::collections::BTreeMap::new();
        for t in tables {
            let name: String = t.try_get_by_index(0)?;
            // Names come from the catalog, never from a caller.
            let row = self
                .db
                .query_one_raw(sea_orm::Statement::from_string(
                    self.backend,
                    format!("SELECT COUNT(*) FROM \"{name}\""),
                ))
                .await?
                .context("COUNT(*) returned nothing")?;
            counts.insert(name, row.try_get_by_index::<i64>(0)? as u64);
        }
        Ok(counts)
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.backend {
            DbBackend::Sqlite => "sqlite",
            DbBackend::Postgres => "postgres",
            _ => "other",
        }
    }

    /// SQLite: copies the write-ahead log into the database file and empties
    /// it (`PRAGMA wal_checkpoint(TRUNCATE)`). PostgreSQL: nothing to do.
    ///
    /// SQLite's own checkpoints after each commit copy the log but never
    /// start it over while some connection is reading, and under steady load
    /// one always is: a 10-minute soak grew the `-wal` file to 187 MB and on
    /// (bench/run, issue 11). This checkpoint waits for the readers of older
    /// snapshots, so the log can start over, and holds new writers meanwhile,
    /// at most [`WAL_CHECKPOINT_BUSY_TIMEOUT`]: past it, it reports
    /// `completed: false` and the next round tries again.
    pub async fn checkpoint_wal(&self) -> anyhow::Result<WalCheckpoint> {
        if self.backend != DbBackend::Sqlite {
            return Ok(WalCheckpoint {
                completed: true,
                frames: 0,
            });
        }
        use sea_orm::sqlx::Row;
        let pool = self.db.get_sqlite_connection_pool();
        let mut conn = pool.acquire().await.context("no SQLite connection")?;
        let timeout = |d: Duration| format!("PRAGMA busy_timeout = {}", d.as_millis());
        sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(timeout(
            WAL_CHECKPOINT_BUSY_TIMEOUT,
        )))
        .execute(&mut *conn)
        .await?;
        let row = sea_orm::sqlx::query("PRAGMA wal_checkpoint(TRUNCATE)")
            .fetch_one(&mut *conn)
            .await;
        // The connection goes back to the pool with the usual timeout, or not
        // at all.
        if sea_orm::sqlx::query(sea_orm::sqlx::AssertSqlSafe(timeout(SQLITE_BUSY_TIMEOUT)))
            .execute(&mut *conn)
            .await
            .is_err()
        {
            conn.close_on_drop();
        }
        let row = row.context("PRAGMA wal_checkpoint failed")?;
        let busy: i64 = row.try_get(0)?;
        let frames: i64 = row.try_get(1)?;
        Ok(WalCheckpoint {
            completed: busy == 0,
            frames: frames.max(0) as u64,
        })
    }

    /// Closes every connection and waits for each. On SQLite the last one to
    /// close copies the write-ahead log into the database file and deletes
    /// it: a process that exits with its connections open leaves the log
    /// behind (155 MB after a load run) for the next start to recover. Nothing
    /// may use this storage (or a clone of it) afterwards.
    pub async fn close(&self) -> anyhow::Result<()> {
        self.db
            .close_by_ref()
            .await
            .context("closing the database connections")
    }

    /// Checks that the database answers.
    pub async fn ping(&self) -> anyhow::Result<()> {
        self.db.ping().await.context("database ping failed")
    }

    /// The shared secret called `name`. On first use, stores `generate()`
    /// (sealed); when several nodes race, all of them get the value that was
    /// stored first.
    pub async fn server_secret(
        &self,
        name: &str,
        generate: impl FnOnce() -> String,
    ) -> anyhow::Result<String> {
        let context = sealing::server_secret_context(name);
        if let Some(s) = server_secrets::Entity::find_by_id(name)
            .one(&self.db)
            .await?
        {
            return self.open(&context, &s.value);
        }
        let row = server_secrets::ActiveModel {
            name: Set(name.to_owned()),
            value: Set(self.seal(&context, &generate())?),
        };
        // ON CONFLICT DO NOTHING: losing the race is fine, the re-read returns the winner's value.
        server_secrets::Entity::insert(row)
            .on_conflict_do_nothing()
            .exec_without_returning(&self.db)
            .await?;
        let s = server_secrets::Entity::find_by_id(name)
            .one(&self.db)
            .await?
            .with_context(|| format!("server secret {name} vanished after insert"))?;
        self.open(&context, &s.value)
    }

    /// Starts a transaction for a read-then-write or multi-statement write:
    /// `BEGIN IMMEDIATE` on SQLite (takes the write lock up front, waiting up to
    /// the busy timeout), a plain `BEGIN` elsewhere.
    pub(crate) async fn write_tx(&self) -> Result<DatabaseTransaction, DbErr> {
        if self.backend == DbBackend::Sqlite {
            self.db
                .begin_with_options(TransactionOptions {
                    sqlite_transaction_mode: Some(SqliteTransactionMode::Immediate),
                    ..Default::default()
                })
                .await
        } else {
            self.db.begin().await
        }
    }

    pub(crate) fn db(&self) -> &DatabaseConnection {
        &self.db
    }

    pub(crate) fn now(&self) -> chrono::DateTime<chrono::Utc> {
        self.clock.now()
    }

    pub(crate) fn is_postgres(&self) -> bool {
        self.backend == DbBackend::Postgres
    }
}
