//! The in-memory cache of clients a node keeps, correct across nodes.
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
use std::collections::HashMap;
use std::sync::RwLock;

/// How long a node may serve a client another node changed or deleted.
pub const CHANGE_BOUND: Duration = Duration::seconds(1);
/// The counter of the clients cache.
pub(crate) const CLIENTS: &str = "clients";
/// The counter of the signing keys (`oidc::keys::KeyManager` reads it).
pub(crate) const KEYS: &str = "keys";
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
