//! The fast path for the two static documents (discovery and JWKS): the
//! outermost layer answers `GET` for them with bytes built once per key
//! change, before the request id, the request span and the per-route
//! metrics run. What those layers would add is added here at no per-request
//! cost: the security headers (`security_headers.rs`, checked by
//! `tests/it/static_documents.rs`), and the request counter and latency
//! histogram of `ops::track_http`, through handles registered once. These
//! answers carry no `x-request-id` and are not logged, unless request logging
//! is on (`PORTICO_LOG` enables `tower_http` at debug): then they take the
//! full stack like any other request.

use axum::extract::{Request, State};
use axum::http::Method;
use axum::middleware::Next;
use axum::response::Response;
use portico_oidc::Provider;
use std::sync::Arc;
use std::time::Instant;

const DISCOVERY: &str = "/.well-known/openid-configuration";
const JWKS: &str = "/jwks";

#[derive(Clone)]
pub struct StaticDocs {
    provider: Arc<Provider>,
    headers: crate::security_headers::SecurityHeaders,
    discovery: Metrics,
    jwks: Metrics,
}

#[derive(Clone)]
struct Metrics {
    requests: metrics::Counter,
    duration: metrics::Histogram,
}

impl Metrics {
    /// The series `ops::track_http` writes for a 2xx `GET` of `route`.
    fn new(route: &'static str) -> Self {
        let labels = [("method", "GET"), ("route", route), ("status", "2xx")];
        Metrics {
            requests: metrics::counter!("portico_http_requests_total", &labels),
            duration: metrics::histogram!("portico_http_request_duration_seconds", &labels),
        }
    }
}

impl StaticDocs {
    /// Call after the metrics recorder is installed (`ops::recorder`).
    pub fn new(provider: Arc<Provider>, https: bool) -> Self {
        StaticDocs {
            provider,
            headers: crate::security_headers::SecurityHeaders::new(https),
            discovery: Metrics::new(DISCOVERY),
            jwks: Metrics::new(JWKS),
        }
    }
}

pub async fn serve(State(s): State<StaticDocs>, req: Request, next: Next) -> Response {
    let metrics = match req.uri().path() {
        DISCOVERY => &s.discovery,
        JWKS => &s.jwks,
        _ => return next.run(req).await,
    };
    if req.method() != Method::GET
        || tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::DEBUG)
    {
        return next.run(req).await;
    }
    let started = Instant::now();
    let Some(mut response) =
        portico_oidc::http::static_document(&s.provider, req.uri().path()).await
    else {
        return next.run(req).await;
    };
    s.headers.apply(response.headers_mut());
    metrics.requests.increment(1);
    metrics.duration.record(started.elapsed().as_secs_f64());
    response
}
