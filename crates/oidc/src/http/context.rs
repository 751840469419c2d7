//! [`RequestContext`] from an HTTP request: the client's address and country
//! ([`ClientOrigin`], which the server resolves through trusted proxies and
//! GeoIP; else the socket's peer), the User-Agent, the platform the client
//! claims, and the request id that pages show as the correlation id.

use super::errors::request_id;
use crate::signin_log::{ClientOrigin, RequestContext};
use axum::extract::{ConnectInfo, FromRequestParts};
use axum::http::header;
use axum::http::request::Parts;
use portico_policy::conditional_access::platform_from_headers;
use std::convert::Infallible;
use std::net::SocketAddr;

impl<S: Send + Sync> FromRequestParts<S> for RequestContext {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Infallible> {
        let origin = parts.extensions.get::<ClientOrigin>().cloned().or_else(|| {
            parts
                .extensions
                .get::<ConnectInfo<SocketAddr>>()
                .map(|c| ClientOrigin {
                    ip: c.0.ip(),
                    country: None,
                })
        });
        let header = |name| {
            parts
                .headers
                .get(name)
                .and_then(|v: &header::HeaderValue| v.to_str().ok())
        };
        let user_agent: Option<String> =
            header(header::USER_AGENT).map(|v| v.chars().take(512).collect());
        let platform = platform_from_headers(
            user_agent.as_deref(),
            header(header::HeaderName::from_static("sec-ch-ua-platform")),
        );
        Ok(RequestContext {
            ip: origin.as_ref().map(|o| o.ip.to_string()),
            user_agent,
            platform: Some(platform),
            country: origin.and_then(|o| o.country),
            correlation_id: request_id(&parts.headers),
        })
    }
}
