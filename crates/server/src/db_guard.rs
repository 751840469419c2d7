//! The database guard: while the database is unreachable, every request
//! (but the operations endpoints) is answered at once with 503 and
//! `Retry-After`, instead of waiting on the pool and failing with a 500.
//!
//! It learns of an outage from the requests themselves: a response that is a
//! 500 is followed by a ping (bounded by [`PROBE_TIMEOUT`]); when the ping
//! fails, that response becomes the 503 and the node is marked down. While
//! down, at most one request per [`PROBE_EVERY`] pings again; the others get
//! the 503 without touching the database. The first successful ping lets
//! traffic through again: a restarted database is picked up by itself.
//!
//! Nothing is half-written by an outage: writes that belong together are in
//! one transaction, and a token is issued only after its grant is stored.

use axum::extract::{Request, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use portico_storage::Storage;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a ping may take before the database counts as unreachable.
pub const PROBE_TIMEOUT: Duration = Duration::from_secs(1);
/// How often, while down, one request tries the database again.
pub const PROBE_EVERY: Duration = Duration::from_millis(500);
/// For this long after the database answers again, a 500 is still answered
/// as 503: a request that took a connection the outage broke fails even
/// though the next ping succeeds, and the client should retry it, not see
/// an internal error.
pub const RECOVERY_GRACE: Duration = Duration::from_secs(2);
/// What clients are told to wait.
const RETRY_AFTER_SECS: &str = "2";

#[derive(Clone)]
pub struct DbGuard {
    inner: Arc<Inner>,
}

struct Inner {
    storage: Storage,
    down: AtomicBool,
    /// Milliseconds after `started` of the last ping taken while down.
    last_probe_ms: AtomicU64,
    /// Milliseconds after `started` when the database answered again (0: never down).
    recovered_ms: AtomicU64,
    started: Instant,
}

impl DbGuard {
    pub fn new(storage: Storage) -> Self {
        DbGuard {
            inner: Arc::new(Inner {
                storage,
                down: AtomicBool::new(false),
                last_probe_ms: AtomicU64::new(0),
                recovered_ms: AtomicU64::new(0),
                started: Instant::now(),
            }),
        }
    }

    async fn reachable(&self) -> bool {
        matches!(
            tokio::time::timeout(PROBE_TIMEOUT, self.inner.storage.ping()).await,
            Ok(Ok(()))
        )
    }

    /// While down: whether this request may pass (a due ping succeeded).
    async fn recovered(&self) -> bool {
        let now = self.inner.started.elapsed().as_millis() as u64;
        let last = self.inner.last_probe_ms.load(Ordering::Relaxed);
        let due = now.saturating_sub(last) >= PROBE_EVERY.as_millis() as u64;
        // One request per interval wins the right to ping.
        if !due
            || self
                .inner
                .last_probe_ms
                .compare_exchange(last, now, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            return false;
        }
        if self.reachable().await {
            let now = self.inner.started.elapsed().as_millis() as u64;
            self.inner.recovered_ms.store(now.max(1), Ordering::Relaxed);
            self.inner.down.store(false, Ordering::Relaxed);
            tracing::info!("the database answers again");
            true
        } else {
            false
        }
    }

    /// The database came back less than [`RECOVERY_GRACE`] ago.
    fn just_recovered(&self) -> bool {
        let at = self.inner.recovered_ms.load(Ordering::Relaxed);
        let now = self.inner.started.elapsed().as_millis() as u64;
        at != 0 && now.saturating_sub(at) < RECOVERY_GRACE.as_millis() as u64
    }

    fn mark_down(&self) {
        if !self.inner.down.swap(true, Ordering::Relaxed) {
            let now = self.inner.started.elapsed().as_millis() as u64;
            self.inner.last_probe_ms.store(now, Ordering::Relaxed);
            tracing::error!("the database is unreachable: answering 503 until it is back");
        }
    }
}

/// The middleware (see the module comment).
pub async fn guard(State(g): State<DbGuard>, req: Request, next: Next) -> Response {
    let json = wants_json(req.uri().path());
    if g.inner.down.load(Ordering::Relaxed) && !g.recovered().await {
        return unavailable(json);
    }
    let response = next.run(req).await;
    if response.status() == StatusCode::INTERNAL_SERVER_ERROR {
        if !g.reachable().await {
            g.mark_down();
            return unavailable(json);
        }
        if g.just_recovered() {
            return unavailable(json);
        }
    }
    response
}

/// Machine endpoints get an OAuth-style JSON error; pages get a page.
fn wants_json(path: &str) -> bool {
    path.starts_with("/api/")
        || path.starts_with("/.well-known/")
        || matches!(
            path,
            "/token" | "/introspect" | "/revoke" | "/userinfo" | "/jwks"
        )
}

fn unavailable(json: bool) -> Response {
    let mut response = if json {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "application/json")],
            r#"{"error":"temporarily_unavailable","error_description":"The service cannot reach its database. Retry shortly."}"#,
        )
            .into_response()
    } else {
        (
            StatusCode::SERVICE_UNAVAILABLE,
            [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
            "<!doctype html><html lang=\"en\"><meta charset=\"utf-8\"><title>Temporarily unavailable</title>\
             <h1>Temporarily unavailable</h1><p>Sign-in is briefly unavailable. Please try again in a moment.</p></html>",
        )
            .into_response()
    };
    response.headers_mut().insert(
        header::RETRY_AFTER,
        HeaderValue::from_static(RETRY_AFTER_SECS),
    );
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}
