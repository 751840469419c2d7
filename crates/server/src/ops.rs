//! Operations: what a load balancer, Prometheus and an orchestrator ask of a
//! node.
//!
//! - `GET /healthz`: the process answers (liveness; never touches the database).
//! - `GET /readyz`: the database answers **and** its schema is at this
//!   binary's version (no pending migration); 503 with the reason otherwise, so
//!   a node is not sent traffic before `portico migrate` ran or while the
//!   database is down.
//! - `GET /metrics`: Prometheus text. Readable with `Authorization: Bearer
//!   <metrics_token>` when a token is configured, else from loopback only
//!   (sign-in counts are not for the internet).
//! - Graceful shutdown on SIGTERM / Ctrl-C: stop accepting, finish the
//!   requests in flight, then stop the workers.
//!
//! The metrics (all prefixed `portico_`): `http_requests_total` and
//! `http_request_duration_seconds` by method, route template and status
//! class; `sign_ins_total` by result and home IdP (counted where the sign-in
//! record is written, in `oidc::signin_log`); `mail_queue_depth` by status,
//! read from the database at scrape time.

use axum::extract::{ConnectInfo, MatchedPath, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};
use portico_core::secret::Secret;
use portico_mail::{MailQueue, MailStatus};
use portico_storage::Storage;
use std::net::SocketAddr;
use std::sync::OnceLock;
use std::time::Instant;

/// Latency buckets (seconds): sub-millisecond static documents up to slow
/// upstream calls.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
];

/// How often the recorder folds the histogram samples recorded meanwhile into
/// its buckets. Until then each sample is kept: with nobody scraping
/// `/metrics`, memory grew by every request served (bench/run, stop 20: tens
/// of MB per 10 s of discovery load).
const UPKEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// The process's one Prometheus recorder (the `metrics` facade has one
/// global recorder; every server in the process reports to it), with a
/// thread that runs its upkeep every [`UPKEEP_EVERY`].
pub fn recorder() -> &'static PrometheusHandle {
    static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();
    HANDLE.get_or_init(|| {
        let builder = PrometheusBuilder::new()
            .set_buckets_for_metric(
                Matcher::Full("portico_http_request_duration_seconds".into()),
                LATENCY_BUCKETS,
            )
            .unwrap_or_else(|_| PrometheusBuilder::new());
        let recorder = builder.build_recorder();
        let handle = recorder.handle();
        // Fails only when another recorder was installed first (a test
        // harness); the handle then renders what this recorder saw: nothing.
        if metrics::set_global_recorder(recorder).is_err() {
            tracing::warn!("a metrics recorder was already installed; /metrics will be empty");
        }
        let upkeep = handle.clone();
        let spawned = std::thread::Builder::new()
            .name("metrics-upkeep".into())
            .spawn(move || {
                loop {
                    std::thread::sleep(UPKEEP_EVERY);
                    upkeep.run_upkeep();
                }
            });
        if let Err(e) = spawned {
            tracing::warn!(error = %e, "cannot start the metrics upkeep thread");
        }
        handle
    })
}

/// Counts and times every routed request by its route template (never the
/// raw path: ids and tokens in paths would explode the label set).
pub async fn track_http(req: Request, next: Next) -> Response {
    // One allocation per request (the route); method and status class are
    // static strings, so the hot path stays cheap.
    let route = req
        .extensions()
        .get::<MatchedPath>()
        .map(|p| p.as_str().to_string())
        .unwrap_or_else(|| "unmatched".into());
    let method = static_method(req.method());
    let started = Instant::now();
    let response = next.run(req).await;
    let status = match response.status().as_u16() / 100 {
        1 => "1xx",
        2 => "2xx",
        3 => "3xx",
        4 => "4xx",
        _ => "5xx",
    };
    let labels = [
        ("method", metrics::SharedString::const_str(method)),
        ("route", route.into()),
        ("status", metrics::SharedString::const_str(status)),
    ];
    metrics::counter!("portico_http_requests_total", &labels).increment(1);
    metrics::histogram!("portico_http_request_duration_seconds", &labels)
        .record(started.elapsed().as_secs_f64());
    response
}

/// The method as a static label (anything unusual is `other`, which also
/// keeps a client from inventing label values).
fn static_method(m: &axum::http::Method) -> &'static str {
    use axum::http::Method;
    match *m {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        _ => "other",
    }
}

#[derive(Clone)]
pub struct OpsState {
    pub storage: Storage,
    pub metrics_token: Option<String>,
}

pub async fn healthz() -> &'static str {
    "ok"
}

pub async fn readyz(State(s): State<OpsState>) -> (StatusCode, &'static str) {
    if s.storage.ping().await.is_err() {
        return (StatusCode::SERVICE_UNAVAILABLE, "database unreachable");
    }
    match s.storage.pending_migrations().await {
        Ok(0) => (StatusCode::OK, "ready"),
        Ok(_) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "database schema is behind this binary: run `portico migrate`",
        ),
        Err(_) => (StatusCode::SERVICE_UNAVAILABLE, "database unreachable"),
    }
}

pub async fn metrics_get(
    State(s): State<OpsState>,
    ConnectInfo(peer): ConnectInfo<SocketAddr>,
    headers: HeaderMap,
) -> Response {
    if let Err(refused) = check_scraper(&s, peer, &headers) {
        return *refused;
    }
    for status in [MailStatus::Pending, MailStatus::Failed] {
        if let Ok(n) = s.storage.count_mail(status).await {
            metrics::gauge!("portico_mail_queue_depth", "status" => status.as_str()).set(n as f64);
        }
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        recorder().render(),
    )
        .into_response()
}

/// A configured token is required and compared in constant time; without
/// one, only loopback peers may read.
fn check_scraper(s: &OpsState, peer: SocketAddr, headers: &HeaderMap) -> Result<(), Box<Response>> {
    match &s.metrics_token {
        Some(token) => {
            let given = headers
                .get(header::AUTHORIZATION)
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.strip_prefix("Bearer "))
                .unwrap_or_default();
            if Secret::new(given) == Secret::new(token.as_str()) {
                Ok(())
            } else {
                Err(Box::new(
                    (
                        StatusCode::UNAUTHORIZED,
                        [(header::WWW_AUTHENTICATE, "Bearer")],
                        "a metrics token is required",
                    )
                        .into_response(),
                ))
            }
        }
        None if peer.ip().is_loopback() => Ok(()),
        None => Err(Box::new(
            (
                StatusCode::FORBIDDEN,
                "metrics are served to loopback only; set metrics_token to scrape from elsewhere",
            )
                .into_response(),
        )),
    }
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        if tokio::signal::ctrl_c().await.is_err() {
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = term => {},
    }
    tracing::info!("shutting down: finishing requests in flight");
}
