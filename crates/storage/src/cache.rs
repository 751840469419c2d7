//! The in-memory caches a node keeps, correct across nodes ([`Caches`]).
//!
//! Each cache but one sits behind a row of `cache_versions`, its change
//! counter: every change it covers bumps the counter in the change's own
//! transaction and, once committed, empties this node's copy. A node reads the
//! counter again when its last read is at least [`CHANGE_BOUND`] old (by the
//! storage clock, so tests advance it), and empties its copy when the counter
//! moved. So a change made on one node is served stale by another for at most
//! `CHANGE_BOUND` (plus the request in flight), and never by the node that
//! made it, at the cost of one point read per cache per node per second under
//! load. A value read from the database is kept only if neither the counter
//! nor a change made here moved while it was read. An admin's read-then-write
//! (a PATCH merges into what is stored; a delete checks what refers to it)
//! reads the counter first, whatever the bound (`Storage::catch_up`), so it
//! never writes back or decides on a copy older than a change it follows.
//!
//! | cache | holds | counter |
//! |---|---|---|
//! | `clients` | clients by `client_id`, as found (a miss is not cached) | `clients` |
//! | `revoked_access_tokens` | the unexpired `jti`s revoked on their own | `revoked_access_tokens` |
//! | `tenant_settings` | every tenant settings document | `tenant_settings` |
//! | `conditional_access` | the policies and the named locations | `conditional_access` |
//! | `identity_providers` | the trusted IdPs by domain and issuer | `identity_providers` |
//! | `access_checks` | a grant and its user's account, by grant id | none: each entry lives [`CHANGE_BOUND`] |
//!
//! Hits and misses are counted in
//! `portico_cache_requests_total{cache,result}`.

use crate::Storage;
use crate::entity::cache_versions;
use chrono::{DateTime, Duration, Utc};
use portico_oidc::model::Client;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseTransaction, DbErr, EntityTrait};
use std::collections::{HashMap, HashSet};
use std::future::Future;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, RwLock};
use uuid::Uuid;

/// How long a node may serve what another node changed.
pub const CHANGE_BOUND: Duration = Duration::seconds(1);
/// The counter of the clients cache.
pub(crate) const CLIENTS: &str = "clients";
/// The counter of the signing keys (`oidc::keys::KeyManager` reads it).
pub(crate) const KEYS: &str = "keys";
/// The counter of `revoked_access_tokens`.
pub(crate) const REVOKED_ACCESS_TOKENS: &str = "revoked_access_tokens";
/// The counter of `tenant_settings`.
pub(crate) const TENANT_SETTINGS: &str = "tenant_settings";
/// The counter of the conditional access policies and named locations.
pub(crate) const CONDITIONAL_ACCESS: &str = "conditional_access";
/// The counter of the trusted IdPs and their domains.
pub(crate) const IDENTITY_PROVIDERS: &str = "identity_providers";
/// Entries a map cache keeps at most; past that it starts over.
const MAX_ENTRIES: usize = 10_000;
/// Unexpired revoked tokens a node holds in memory at most.
pub(crate) const MAX_REVOKED: u64 = 100_000;

/// Everything one node caches, shared by the clones of its [`Storage`].
pub(crate) struct Caches {
    pub(crate) clients: Versioned<HashMap<String, Client>>,
    pub(crate) revoked_tokens: Versioned<RevokedSet>,
    pub(crate) settings: Snapshot<HashMap<String, serde_json::Value>>,
    pub(crate) conditional_access: Snapshot<crate::repo::CaDocuments>,
    pub(crate) idps: Snapshot<crate::repo::IdpIndex>,
    /// No counter: each entry is dropped [`CHANGE_BOUND`] after it was read.
    pub(crate) access_checks: Versioned<HashMap<Uuid, Timed<crate::repo::GrantWithAccount>>>,
    /// How many times this node read the signing keys' counter (the keys'
    /// cache itself is `oidc::keys::KeyManager`).
    pub(crate) keys_reads: AtomicU64,
}

impl Default for Caches {
    fn default() -> Self {
        Caches {
            clients: Versioned::new(CLIENTS),
            revoked_tokens: Versioned::new(REVOKED_ACCESS_TOKENS),
            settings: Versioned::new(TENANT_SETTINGS),
            conditional_access: Versioned::new(CONDITIONAL_ACCESS),
            idps: Versioned::new(IDENTITY_PROVIDERS),
            access_checks: Versioned::new("access_checks"),
            keys_reads: AtomicU64::new(0),
        }
    }
}

/// A node's copy of what the change counter `counter` covers.
pub(crate) struct Versioned<T> {
    counter: &'static str,
    state: RwLock<Held<T>>,
    /// Held while this node reads the counter, so the requests that find it
    /// due at the same moment wait for that one read instead of each making
    /// their own (64 point reads at once under load, each a pooled
    /// connection, once a second per cache).
    checking: tokio::sync::Mutex<()>,
    /// How many times this node read the counter.
    pub(crate) reads: AtomicU64,
}

struct Held<T> {
    checked_at: Option<DateTime<Utc>>,
    version: i64,
    /// Moved by every change made on this node.
    generation: u64,
    value: T,
}

/// When a value was read: it is kept only if the cache is still there.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(crate) struct Stamp {
    version: i64,
    generation: u64,
}

/// A copy of something small that is read whole (settings, policies, IdPs).
pub(crate) type Snapshot<T> = Versioned<Option<Arc<T>>>;

/// A value with the time it was read.
pub(crate) struct Timed<V> {
    read_at: DateTime<Utc>,
    value: V,
}

impl<T: Default> Versioned<T> {
    fn new(counter: &'static str) -> Self {
        Versioned {
            counter,
            state: RwLock::new(Held {
                checked_at: None,
                version: 0,
                generation: 0,
                value: T::default(),
            }),
            checking: tokio::sync::Mutex::new(()),
            reads: AtomicU64::new(0),
        }
    }

    /// Whether the change counter must be read before the cache is used.
    fn needs_check(&self, now: DateTime<Utc>) -> bool {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.checked_at.is_none_or(|t| is_past_bound(t, now))
    }

    /// Records the counter read at `now`; a moved counter empties the cache.
    fn observe(&self, version: i64, now: DateTime<Utc>) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.version != version {
            s.value = T::default();
            s.version = version;
        }
        s.checked_at = Some(now);
    }

    /// What `f` finds in the cache, and the stamp to keep what is read
    /// from the database instead.
    pub(crate) fn read<R>(&self, f: impl FnOnce(&T) -> R) -> (R, Stamp) {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        let stamp = Stamp {
            version: s.version,
            generation: s.generation,
        };
        (f(&s.value), stamp)
    }

    /// Keeps what was read from the database after `stamp` (through `f`),
    /// unless the counter moved or a change was made here since: the rows may
    /// be older than that change.
    pub(crate) fn fill(&self, stamp: Stamp, f: impl FnOnce(&mut T)) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.version == stamp.version && s.generation == stamp.generation {
            f(&mut s.value);
        }
    }

    /// After a change made on this node: nothing cached survives it.
    pub(crate) fn clear(&self) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        s.value = T::default();
        s.generation += 1;
        s.checked_at = None;
    }

    /// Counts a hit or a miss in `portico_cache_requests_total`.
    pub(crate) fn count(&self, hit: bool) {
        metrics::counter!(
            "portico_cache_requests_total",
            "cache" => self.counter,
            "result" => if hit { "hit" } else { "miss" }
        )
        .increment(1);
    }
}

impl<K: std::hash::Hash + Eq, V> Versioned<HashMap<K, V>> {
    /// Keeps `value` under `key` (see [`Versioned::fill`]); a full map starts over.
    pub(crate) fn put(&self, stamp: Stamp, key: K, value: V) {
        self.fill(stamp, |map| {
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, value);
        });
    }
}

impl<K: std::hash::Hash + Eq, V> Versioned<HashMap<K, Timed<V>>> {
    /// The value under `key` if it was read less than [`CHANGE_BOUND`] before `now`.
    pub(crate) fn recent(&self, key: &K, now: DateTime<Utc>) -> (Option<V>, Stamp)
    where
        V: Clone,
    {
        self.read(|map| {
            map.get(key)
                .filter(|e| !is_past_bound(e.read_at, now))
                .map(|e| e.value.clone())
        })
    }

    /// Keeps `value`, read at `read_at`, under `key`. Before the map would
    /// grow (or when it is full) it first drops what is past the bound, and
    /// gives back most of its room when little is left: it holds about what
    /// was read within the bound, not every key since the start (a soak's
    /// new grants grew it by ~0.5 MB a minute, bench/run). Each sweep follows
    /// as many inserts as it visits entries. Still full, it starts over.
    pub(crate) fn put_recent(&self, stamp: Stamp, key: K, value: V, read_at: DateTime<Utc>) {
        self.fill(stamp, |map| {
            if map.len() >= map.capacity() || map.len() >= MAX_ENTRIES {
                map.retain(|_, e| !is_past_bound(e.read_at, read_at));
                if map.len() < map.capacity() / 4 {
                    map.shrink_to(map.len() * 2);
                }
            }
            if map.len() >= MAX_ENTRIES {
                map.clear();
            }
            map.insert(key, Timed { read_at, value });
        });
    }
}

/// Whether something checked or read at `then` is too old at `now` (or the
/// clock went back).
fn is_past_bound(then: DateTime<Utc>, now: DateTime<Utc>) -> bool {
    now < then || now - then >= CHANGE_BOUND
}

/// The access tokens revoked on their own (RFC 7009) a node knows of.
#[derive(Default)]
pub(crate) enum RevokedSet {
    /// To be loaded (at start, and after the counter moved).
    #[default]
    Unknown,
    Loaded(HashSet<String>),
    /// More than [`MAX_REVOKED`]: point reads.
    TooMany,
}

impl Storage {
    /// Brings `cache` in line with its counter when the last read of the
    /// counter is [`CHANGE_BOUND`] old.
    pub(crate) async fn check_counter<T: Default>(
        &self,
        cache: &Versioned<T>,
    ) -> Result<(), DbErr> {
        if !cache.needs_check(self.now()) {
            return Ok(());
        }
        let _one = cache.checking.lock().await;
        // Another request may have read it while this one waited.
        if cache.needs_check(self.now()) {
            self.read_counter(cache).await?;
        }
        Ok(())
    }

    /// Reads `cache`'s counter (the caller holds `cache.checking`).
    async fn read_counter<T: Default>(&self, cache: &Versioned<T>) -> Result<(), DbErr> {
        let now = self.now();
        cache.reads.fetch_add(1, Ordering::Relaxed);
        let v = version(self.db(), cache.counter).await?;
        cache.observe(v, now);
        Ok(())
    }

    /// Reads `cache`'s counter now, whatever the bound, and empties this
    /// node's copy if it moved: what the cache serves next is as current as
    /// this read. A read-then-write (an admin's PATCH, a reference check
    /// before a delete) calls it first, so that it never writes back, or
    /// decides on, what another node changed within the bound.
    pub(crate) async fn catch_up<T: Default>(&self, cache: &Versioned<T>) -> Result<(), DbErr> {
        // Under the lock, and always its own read: a read that was under
        // way when this one began may be older than the change to see.
        let _one = cache.checking.lock().await;
        self.read_counter(cache).await
    }

    /// Commits `tx`, a change `cache` covers, with a bump of its counter
    /// (in `tx`), then drops this node's copy.
    pub(crate) async fn commit_change<T: Default>(
        &self,
        tx: DatabaseTransaction,
        cache: &Versioned<T>,
    ) -> Result<(), DbErr> {
        bump(&tx, cache.counter).await?;
        tx.commit().await?;
        cache.clear();
        Ok(())
    }

    /// The whole of what `cache` holds, loaded by `load` when the node has
    /// no copy since the counter last moved.
    pub(crate) async fn snapshot<T, E>(
        &self,
        cache: &Snapshot<T>,
        db_err: fn(DbErr) -> E,
        load: impl Future<Output = Result<T, E>>,
    ) -> Result<Arc<T>, E> {
        self.check_counter(cache).await.map_err(db_err)?;
        let (held, stamp) = cache.read(Option::clone);
        cache.count(held.is_some());
        if let Some(v) = held {
            return Ok(v);
        }
        let v = Arc::new(load.await?);
        cache.fill(stamp, |slot| *slot = Some(v.clone()));
        Ok(v)
    }
}

/// The counter `name` (0 before its first change).
pub(crate) async fn version(db: &impl ConnectionTrait, name: &str) -> Result<i64, DbErr> {
    Ok(cache_versions::Entity::find_by_id(name.to_string())
        .one(db)
        .await?
        .map_or(0, |r| r.version))
}

/// Bumps the counter `name`; call inside the change's transaction.
pub(crate) async fn bump(db: &impl ConnectionTrait, name: &str) -> Result<(), DbErr> {
    cache_versions::Entity::insert(cache_versions::ActiveModel {
        name: Set(name.to_string()),
        version: Set(1),
    })
    .on_conflict(
        OnConflict::column(cache_versions::Column::Name)
            .value(
                cache_versions::Column::Version,
                Expr::col((cache_versions::Entity, cache_versions::Column::Version)).add(1),
            )
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    /// Keys read one after another, each past the bound of the one before:
    /// the map keeps only the recent ones (it held all of them, up to
    /// MAX_ENTRIES, before), and what is recent is still found.
    #[test]
    fn a_recent_map_holds_what_was_read_within_the_bound() {
        let held: Versioned<HashMap<u32, Timed<u32>>> = Versioned::new("test");
        let t0 = Utc
            .with_ymd_and_hms(2026, 12, 7, 0, 0, 0)
            .single()
            .unwrap_or_default();
        for i in 0..5_000u32 {
            let now = t0 + CHANGE_BOUND * i as i32;
            let (_, stamp) = held.read(|_| ());
            held.put_recent(stamp, i, i, now);
            let (found, _) = held.recent(&i, now);
            assert_eq!(found, Some(i));
        }
        let ((len, room), _) = held.read(|m| (m.len(), m.capacity()));
        assert!(len <= 8 && room <= 16, "{len} entries, room for {room}");
        // Many read within the bound all stay.
        let later = t0 + CHANGE_BOUND * 10_000;
        for i in 0..1_000u32 {
            let (_, stamp) = held.read(|_| ());
            held.put_recent(stamp, 10_000 + i, i, later);
        }
        let (len, _) = held.read(|m| m.len());
        assert!(len >= 1_000, "{len}");
    }
}
