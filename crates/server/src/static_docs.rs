//! The fast path for the two static documents (discovery and JWKS): a
//! service around the router answers `GET` for them with bytes built once per key
//! change, before the request id, the request span and the per-route
//! metrics run. What those layers would add is added here at no per-request
//! cost: the security headers (`security_headers.rs`, checked by
//! `tests/it/static_documents.rs`), and the request counter and latency
//! histogram of `ops::track_http`, through handles registered once. These
//! answers carry no `x-request-id` and are not logged, unless request logging
//! is on (`PORTICO_LOG` enables `tower_http` at debug): then they take the
//! full stack like any other request.

use axum::extract::Request;
use axum::http::Method;
use axum::response::Response;
use futures::future::{BoxFuture, Either};
use portico_oidc::Provider;
use std::convert::Infallible;
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::Instant;
use tower::{Service, ServiceExt};

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

impl StaticDocs {
    /// `router` behind the fast path: what `axum::serve` runs.
    pub fn serve<S>(self, router: S) -> Served<S> {
        Served {
            docs: Arc::new(self),
            router,
        }
    }

    /// The document `req` asks for on the fast path; `None` sends it
    /// through the router.
    fn fast(req: &Request) -> Option<Doc> {
        let doc = match req.uri().path() {
            DISCOVERY => Doc::Discovery,
            JWKS => Doc::Jwks,
            _ => return None,
        };
        if req.method() != Method::GET
            || tracing::enabled!(target: "tower_http::trace::on_response", tracing::Level::DEBUG)
        {
            return None;
        }
        Some(doc)
    }

    async fn answer(&self, doc: Doc) -> Option<Response> {
        let started = Instant::now();
        let (path, metrics) = match doc {
            Doc::Discovery => (DISCOVERY, &self.discovery),
            Doc::Jwks => (JWKS, &self.jwks),
        };
        let mut response = portico_oidc::http::static_document(&self.provider, path).await?;
        self.headers.apply(response.headers_mut());
        metrics.requests.increment(1);
        metrics.duration.record(started.elapsed().as_secs_f64());
        Some(response)
    }
}

#[derive(Clone, Copy)]
enum Doc {
    Discovery,
    Jwks,
}

/// The whole application: discovery and JWKS answered here, before routing,
/// everything else (and those two when their bytes cannot be had) by the
/// router with its layers. A service around the router rather than a layer
/// on it: a layer runs inside each route, after the router has matched the
/// path and cloned the route's boxed layer stack (an allocation per layer).
/// As a layer, discovery ran at 0.68x and the JWKS at 0.73x a bare axum
/// handler; around the router, at 0.80-0.87x and 0.89x (wrk, same host, alternating
/// with the bare handler, stop 25).
#[derive(Clone)]
pub struct Served<S> {
    docs: Arc<StaticDocs>,
    router: S,
}

type Answer = Result<Response, Infallible>;

impl<S> Service<Request> for Served<S>
where
    S: Service<Request, Response = Response, Error = Infallible> + Clone + Send + 'static,
    S::Future: Send,
{
    type Response = Response;
    type Error = Infallible;
    type Future = Either<BoxFuture<'static, Answer>, S::Future>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Infallible>> {
        self.router.poll_ready(cx)
    }

    fn call(&mut self, req: Request) -> Self::Future {
        let Some(doc) = StaticDocs::fast(&req) else {
            return Either::Right(self.router.call(req));
        };
        let (docs, router) = (self.docs.clone(), self.router.clone());
        Either::Left(Box::pin(async move {
            match docs.answer(doc).await {
                Some(response) => Ok(response),
                None => router.oneshot(req).await,
            }
        }))
    }
}
