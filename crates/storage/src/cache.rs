//! The in-memory caches a node keeps, correct across nodes: the clients and
//! the revoked access tokens ([`RevokedTokens`], same pattern).
//!
//! Every change to `clients` (update, delete with its revocations) bumps the
//! `clients` row of `cache_versions` in its own transaction and clears this
//! node's cache. A node reads that counter again when its last read is at
//! least [`CHANGE_BOUND`] old (by the storage clock, so tests advance it), and
//! clears its cache when the counter moved. So a client changed or deleted on
//! one node is served stale by another for at most `CHANGE_BOUND` (plus the
//! request in flight), at the cost of one point read per node per second
//! under load. Lookups that find nothing are not cached (a new client is
//! found at once). Hits and misses are counted in
//! `portico_cache_requests_total{cache="clients",result}`.

use crate::entity::cache_versions;
use chrono::{DateTime, Duration, Utc};
use portico_oidc::model::Client;
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ConnectionTrait, DbErr, EntityTrait};
use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

/// How long a node may serve a client another node changed or deleted.
pub const CHANGE_BOUND: Duration = Duration::seconds(1);
/// The counter of the clients cache.
pub(crate) const CLIENTS: &str = "clients";
/// The counter of the signing keys (`oidc::keys::KeyManager` reads it).
pub(crate) const KEYS: &str = "keys";
/// The counter of `revoked_access_tokens` ([`RevokedTokens`]).
pub(crate) const REVOKED_ACCESS_TOKENS: &str = "revoked_access_tokens";
/// Entries kept at most; past that the cache starts over (clients are few).
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub(crate) struct ClientCache {
    state: RwLock<State>,
}

#[derive(Default)]
struct State {
    checked_at: Option<DateTime<Utc>>,
    version: i64,
    clients: HashMap<String, Client>,
}

impl ClientCache {
    /// Whether the change counter must be read before the cache is used.
    pub(crate) fn needs_check(&self, now: DateTime<Utc>) -> bool {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.checked_at
            .is_none_or(|t| now < t || now - t >= CHANGE_BOUND)
    }

    /// Records the counter read at `now`; a moved counter empties the cache.
    pub(crate) fn observe(&self, version: i64, now: DateTime<Utc>) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.version != version {
            s.clients.clear();
            s.version = version;
        }
        s.checked_at = Some(now);
    }

    /// The cached client and the counter the cache is at.
    pub(crate) fn get(&self, client_id: &str) -> (Option<Client>, i64) {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        let hit = s.clients.get(client_id).cloned();
        metrics::counter!(
            "portico_cache_requests_total",
            "cache" => CLIENTS,
            "result" => if hit.is_some() { "hit" } else { "miss" }
        )
        .increment(1);
        (hit, s.version)
    }

    /// Keeps `client`, read while the counter was `version` (dropped when it
    /// has moved since: the row may be older than the change).
    pub(crate) fn put(&self, version: i64, client: &Client) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.version != version {
            return;
        }
        if s.clients.len() >= MAX_ENTRIES {
            s.clients.clear();
        }
        s.clients.insert(client.client_id.clone(), client.clone());
    }

    /// After a change made here: nothing cached survives it.
    pub(crate) fn clear(&self) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        s.clients.clear();
        s.checked_at = None;
    }
}

/// The access tokens revoked on their own (RFC 7009) a node knows of: the
/// unexpired `jti`s of `revoked_access_tokens`, loaded whole after the
/// `revoked_access_tokens` counter moved (revocations are rare), so checking a
/// token reads nothing. Same bound as the clients: the counter is read again
/// when the last read is [`CHANGE_BOUND`] old. Past [`MAX_REVOKED`] unexpired
/// rows the node reads each `jti` from the table instead.
#[derive(Default)]
pub(crate) struct RevokedTokens {
    state: RwLock<Revoked>,
}

/// Unexpired revoked tokens a node holds in memory at most.
pub(crate) const MAX_REVOKED: u64 = 100_000;

#[derive(Default)]
struct Revoked {
    checked_at: Option<DateTime<Utc>>,
    version: i64,
    jtis: RevokedSet,
}

#[derive(Default)]
enum RevokedSet {
    /// To be loaded (at start, and after the counter moved).
    #[default]
    Unknown,
    Loaded(HashSet<String>),
    /// More than [`MAX_REVOKED`]: point reads.
    TooMany,
}

/// What the cache knows about one `jti`.
pub(crate) enum Revocation {
    Known(bool),
    /// Load the set (at the counter given) or read the row.
    Load(i64),
    Read,
}

impl RevokedTokens {
    pub(crate) fn needs_check(&self, now: DateTime<Utc>) -> bool {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        s.checked_at
            .is_none_or(|t| now < t || now - t >= CHANGE_BOUND)
    }

    /// Records the counter read at `now`; a moved counter forgets the set.
    pub(crate) fn observe(&self, version: i64, now: DateTime<Utc>) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.version != version {
            s.jtis = RevokedSet::Unknown;
            s.version = version;
        }
        s.checked_at = Some(now);
    }

    pub(crate) fn lookup(&self, jti: &str) -> Revocation {
        let s = self.state.read().unwrap_or_else(|p| p.into_inner());
        match &s.jtis {
            RevokedSet::Loaded(set) => Revocation::Known(set.contains(jti)),
            RevokedSet::Unknown => Revocation::Load(s.version),
            RevokedSet::TooMany => Revocation::Read,
        }
    }

    /// Keeps the set read after the counter was `version` (`None`: too many),
    /// unless the counter has moved since.
    pub(crate) fn fill(&self, version: i64, jtis: Option<HashSet<String>>) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        if s.version == version {
            s.jtis = jtis.map_or(RevokedSet::TooMany, RevokedSet::Loaded);
        }
    }

    /// After a revocation made here.
    pub(crate) fn clear(&self) {
        let mut s = self.state.write().unwrap_or_else(|p| p.into_inner());
        s.jtis = RevokedSet::Unknown;
        s.checked_at = None;
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
