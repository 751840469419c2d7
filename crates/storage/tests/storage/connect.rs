//! Connection settings: SQLite files in WAL mode, in-memory SQLite, bad URLs.

use portico_directory::UserRepo;
use portico_oidc::model::{CodeRedemption, Consent};
use portico_oidc::store::{ConsentStore, GrantStore};
use portico_storage::Storage;

use crate::common::*;

/// A migrated SQLite database file in a directory of its own, removed when
/// this goes.
struct SqliteFile {
    dir: std::path::PathBuf,
    db: std::path::PathBuf,
    url: String,
    s: Storage,
}

async fn sqlite_file(name: &str) -> SqliteFile {
    let dir =
        std::env::temp_dir().join(format!("portico-storage-{}", uuid::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let db = dir.join(name);
    let url = format!("sqlite://{}?mode=rwc", db.display());
    let s = Storage::connect(&url).await.unwrap();
    s.migrate().await.unwrap();
    SqliteFile { dir, db, url, s }
}

impl Drop for SqliteFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sqlite_file_is_created_in_wal_mode() {
    let f = sqlite_file("new.db").await;
    let u = user("wal@contoso.example");
    f.s.create_user(&u, &audit("Add user", u.id)).await.unwrap();
    assert_eq!(f.s.backend_name(), "sqlite");
    assert!(f.db.exists());
    assert!(
        f.dir.join("new.db-wal").exists(),
        "journal_mode=WAL keeps a -wal file while connections are open"
    );
}

/// One connection holds the whole in-memory database: transactions must not
/// wait for a second one.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn in_memory_sqlite_works_with_one_connection() {
    let s = Storage::connect("sqlite::memory:").await.unwrap();
    s.migrate().await.unwrap();
    let u = user("mem@contoso.example");
    s.create_user(&u, &audit("Add user", u.id)).await.unwrap();
    let c = Consent {
        user_id: u.id,
        client_id: "app".into(),
        scopes: vec![],
        granted_at: t0(),
        privacy_version: None,
    };
    s.save_consent(&c).await.unwrap();
    let g = grant("app", Some(u.id));
    s.create_grant_with_code(&g, &code(&g, "c")).await.unwrap();
    assert!(matches!(
        s.consume_code("c", t0()).await.unwrap(),
        CodeRedemption::Redeemed(_)
    ));
    assert!(
        s.delete_user(u.id, &audit("Delete user", u.id))
            .await
            .unwrap()
    );
    let left = s.list_users(&Default::default()).await.unwrap();
    assert_eq!(left.len(), 0);
    s.ping().await.unwrap();
}

#[tokio::test]
async fn unsupported_urls_are_rejected() {
    let err = Storage::connect("mysql://root@localhost/db")
        .await
        .unwrap_err();
    assert!(
        err.to_string().contains("unsupported database URL"),
        "{err:#}"
    );
}

#[tokio::test]
async fn connection_errors_hide_the_password() {
    // An unknown role fails at once (a refused connection would be retried until the pool times out).
    let mut url = url::Url::parse(&postgres_admin_url()).unwrap();
    url.set_username("portico_no_such_role").unwrap();
    url.set_password(Some("s3cr3t-pw")).unwrap();
    let err = Storage::connect(url.as_str()).await.unwrap_err();
    assert!(!format!("{err:#}").contains("s3cr3t-pw"), "{err:#}");
    assert!(
        portico_storage::create_test_database("postgres://postgres@127.0.0.1:1/test")
            .await
            .is_err()
    );
}

#[tokio::test]
async fn only_test_databases_are_dropped() {
    let err = portico_storage::drop_test_database(
        &postgres_admin_url(),
        "postgres://postgres@127.0.0.1:5432/test",
    )
    .await
    .unwrap_err();
    assert!(err.to_string().contains("not a test database"), "{err:#}");
}

/// `/readyz` reads this: an unmigrated database has every migration pending,
/// a migrated one none.
#[tokio::test]
async fn pending_migrations_are_counted_until_migrate_runs() {
    let s = Storage::connect("sqlite::memory:").await.unwrap();
    let pending = s.pending_migrations().await.unwrap();
    assert!(pending >= 9, "all of this binary's migrations: {pending}");
    s.migrate().await.unwrap();
    assert_eq!(s.pending_migrations().await.unwrap(), 0);
}

/// The migrated schema uses only what CockroachDB and YugabyteDB also offer
/// (see `portability.rs` for the statements): this is the list, read from
/// PostgreSQL's catalog. A new column type or a sequence, trigger, function
/// or extension fails here until it is checked against both and added.
#[tokio::test]
async fn the_schema_uses_only_features_distributed_postgres_databases_share() {
    let db = crate::common::postgres().await;
    let f = db.storage.schema_features().await.unwrap();
    assert!(f.tables >= 20, "the whole schema was read: {f:?}");
    println!("{} tables; column types: {:?}", f.tables, f.column_types);
    let allowed: std::collections::BTreeSet<&str> = [
        "uuid",
        "text",
        "character varying",
        "boolean",
        "integer",
        "bigint",
        "smallint",
        "double precision",
        "timestamp with time zone",
        "json",
        "jsonb",
        "bytea",
    ]
    .into();
    let unexpected: Vec<&String> = f
        .column_types
        .iter()
        .filter(|t| !allowed.contains(t.as_str()))
        .collect();
    assert!(
        unexpected.is_empty(),
        "column types outside the list: {unexpected:?}"
    );
    assert_eq!(
        f.sequences,
        Vec::<String>::new(),
        "no sequences (no SERIAL ids)"
    );
    assert_eq!(f.triggers, Vec::<String>::new());
    assert_eq!(f.functions, Vec::<String>::new());
    assert_eq!(f.extensions, Vec::<String>::new());
    assert_eq!(f.tables_without_primary_key, Vec::<String>::new());
}

/// On a loopback address TLS protects nothing and made every new connection
/// ~70 ms slower: it is off unless the URL asks for it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_on_loopback_goes_without_tls_unless_the_url_asks() {
    let db = postgres().await;
    assert!(
        db.url.starts_with("postgres://postgres@127.0.0.1") || db.url.contains("@localhost"),
        "this test needs a loopback PostgreSQL URL, not {}",
        db.url
    );
    let (tls, offered) = db.storage.postgres_tls().await.unwrap();
    assert!(
        offered,
        "this test needs PostgreSQL with ssl = on (Debian's default, a snakeoil certificate)"
    );
    assert!(!tls, "no sslmode in the URL: plain TCP on loopback");
    let asked = Storage::connect(&format!("{}?sslmode=prefer", db.url))
        .await
        .unwrap();
    assert_eq!(asked.postgres_tls().await.unwrap(), (true, true));
}

/// The first PostgreSQL connections are opened together and wait idle for
/// the start's queries (one after the other, they each opened a new one).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_opens_its_first_connections_together() {
    let db = postgres().await;
    let s = Storage::connect(&db.url).await.unwrap();
    assert!(
        s.postgres_idle_connections() >= 4,
        "{} idle",
        s.postgres_idle_connections()
    );
}

/// The size of the `-wal` file next to `db` (0 when there is none).
fn wal_len(db: &std::path::Path) -> u64 {
    std::fs::metadata(db.with_extension("db-wal")).map_or(0, |m| m.len())
}

/// SQLite's log cannot start over while a reader holds an older snapshot, so
/// under steady reads it only grows; `checkpoint_wal` waits (boundedly) for
/// such readers, gives up while one stays, and empties the log once none does.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_sqlite_log_is_emptied_once_no_reader_holds_an_old_snapshot() {
    use sea_orm::sqlx::{Connection, Executor, sqlite::SqliteConnection};
    let f = sqlite_file("wal.db").await;
    let (s, db, url) = (&f.s, &f.db, &f.url);
    // A reader that keeps its snapshot while the writes go on.
    let mut reader = SqliteConnection::connect(url).await.unwrap();
    reader.execute("BEGIN").await.unwrap();
    reader.execute("SELECT count(*) FROM users").await.unwrap();
    for i in 0..40 {
        let u = user(&format!("wal{i}@contoso.example"));
        s.create_user(&u, &audit("Add user", u.id)).await.unwrap();
    }
    let grown = wal_len(db);
    assert!(grown > 0, "the writes went to the log");
    let busy = s.checkpoint_wal().await.unwrap();
    assert!(
        !busy.completed,
        "a reader of an older snapshot holds the log"
    );
    assert!(busy.frames > 0);
    assert!(wal_len(db) >= grown, "nothing was emptied");
    reader.execute("COMMIT").await.unwrap();
    let done = s.checkpoint_wal().await.unwrap();
    assert!(done.completed, "{done:?}");
    assert_eq!(wal_len(db), 0, "the log is emptied");
    // The writes are in the database file, and the pool's connections still
    // wait their usual 10 s for a lock.
    assert_eq!(s.list_users(&Default::default()).await.unwrap().len(), 40);
    let timeouts = s.sqlite_busy_timeouts_ms().await;
    assert!(
        !timeouts.is_empty() && timeouts.iter().all(|t| *t == 10_000),
        "{timeouts:?}"
    );
    reader.close().await.unwrap();
}

/// Every SQLite connection keeps a page cache of `SQLITE_CACHE_KIB`, not
/// SQLite's 2,000 KiB: eight connections at the default filled up to 16 MB
/// as the database grew (the soak's last growth).
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_sqlite_connection_keeps_a_small_page_cache() {
    let f = sqlite_file("cache.db").await;
    let s = &f.s;
    // Reads at once open more than one connection.
    let filter = Default::default();
    let reads = (0..8).map(|_| s.list_users(&filter));
    for r in futures::future::join_all(reads).await {
        r.unwrap();
    }
    let sizes = s.sqlite_pragma("PRAGMA cache_size").await;
    let want = -i64::from(portico_storage::SQLITE_CACHE_KIB);
    assert!(
        sizes.len() > 1 && sizes.iter().all(|c| *c == want),
        "{sizes:?}"
    );
}

/// A SQLite file's pool opens at most `PORTICO_DATABASE_MAX_CONNECTIONS`
/// connections, however many requests read at once; by default two per core
/// (2 to 8), each one a page cache and an allocator arena more.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_sqlite_pool_opens_at_most_its_configured_connections() {
    let f = sqlite_file("pool.db").await;
    let default = portico_storage::sqlite_default_max_connections();
    let cores = std::thread::available_parallelism().unwrap().get();
    assert_eq!(usize::try_from(default).unwrap(), (2 * cores).clamp(2, 8));
    assert_eq!(f.s.pool_connections().1, default);
    let s = Storage::connect_with(&f.url, 3).await.unwrap();
    let filter = Default::default();
    let reads = (0..16).map(|_| s.list_users(&filter));
    for r in futures::future::join_all(reads).await {
        r.unwrap();
    }
    assert_eq!(s.pool_connections(), (3, 3), "16 reads at once, 3 allowed");
}

/// On PostgreSQL too, and the connections opened ahead at connect time
/// (four) never exceed the limit.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_postgres_pool_opens_at_most_its_configured_connections() {
    let db = postgres().await;
    let s = Storage::connect(&db.url).await.unwrap();
    assert_eq!(
        s.pool_connections().1,
        portico_storage::POSTGRES_DEFAULT_MAX_CONNECTIONS
    );
    let s = Storage::connect_with(&db.url, 2).await.unwrap();
    assert_eq!(s.pool_connections(), (2, 2), "warmed up to the limit only");
    let filter = Default::default();
    let reads = (0..8).map(|_| s.list_users(&filter));
    for r in futures::future::join_all(reads).await {
        r.unwrap();
    }
    assert_eq!(s.pool_connections().0, 2);
}

/// SQLite is built with the query planner stability guarantee (.cargo/config.toml):
/// without it a statement with a bound `LIMIT` (every sea-orm `.one()`) is parsed
/// and planned again at each execution.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_keeps_each_statements_plan() {
    let f = sqlite_file("plans.db").await;
    let on =
        f.s.sqlite_pragma("SELECT sqlite_compileoption_used('ENABLE_QPSG')")
            .await;
    assert!(!on.is_empty() && on.iter().all(|v| *v == 1), "{on:?}");
}

/// PostgreSQL has no log to empty: the call does nothing and says so.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_has_no_log_to_checkpoint() {
    let db = postgres().await;
    let s = Storage::connect(&db.url).await.unwrap();
    let c = s.checkpoint_wal().await.unwrap();
    assert!(c.completed && c.frames == 0);
}
