//! The security headers every answer carries: no framing, a strict content
//! security policy, no MIME sniffing, no referrer, and on an https issuer
//! HSTS (RFC 6797: browsers then refuse plain http to this host and its
//! subdomains for a year; never on http, where the header would be ignored
//! and would break a local set-up later). A handler may set its own value of
//! any of them but HSTS. One layer adds them all (four layers cost a boxed
//! service clone and a future each per request, bench/run stop 21), and the
//! static documents apply the same [`SecurityHeaders`] (static_docs.rs).

use axum::extract::State;
use axum::http::{HeaderMap, HeaderName, HeaderValue, header};
use axum::response::Response;
use std::sync::Arc;

/// The headers, in the order they are added; HSTS last, on https only.
fn list(https: bool) -> Vec<(HeaderName, HeaderValue)> {
    let mut headers = vec![
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(
                "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
            ),
        ),
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if https {
        headers.push((
            header::STRICT_TRANSPORT_SECURITY,
            HeaderValue::from_static("max-age=31536000; includeSubDomains"),
        ));
    }
    headers
}

#[derive(Clone)]
pub struct SecurityHeaders(Arc<Vec<(HeaderName, HeaderValue)>>);

impl SecurityHeaders {
    pub fn new(https: bool) -> Self {
        Self(Arc::new(list(https)))
    }
}

impl SecurityHeaders {
    /// Adds each header `h` lacks; HSTS always overrides.
    pub fn apply(&self, h: &mut HeaderMap) {
        for (name, value) in self.0.iter() {
            if *name == header::STRICT_TRANSPORT_SECURITY || !h.contains_key(name) {
                h.insert(name.clone(), value.clone());
            }
        }
    }
}

/// The response layer: [`SecurityHeaders::apply`].
pub async fn add(State(s): State<SecurityHeaders>, mut response: Response) -> Response {
    s.apply(response.headers_mut());
    response
}
