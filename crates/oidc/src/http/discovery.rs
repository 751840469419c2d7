use super::OidcState;
use crate::Provider;
use axum::extract::State;
use axum::http::{HeaderValue, header};
use axum::response::{IntoResponse, Response};

/// `Cache-Control` of the discovery document and of the JWKS.
pub const DISCOVERY_CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=300");
pub const JWKS_CACHE_CONTROL: HeaderValue = HeaderValue::from_static("public, max-age=60");
const JSON: HeaderValue = HeaderValue::from_static("application/json");

pub async fn discovery_get(State(s): State<OidcState>) -> Response {
    (
        [
            (header::CONTENT_TYPE, JSON),
            (header::CACHE_CONTROL, DISCOVERY_CACHE_CONTROL),
        ],
        s.provider.discovery_bytes(),
    )
        .into_response()
}

pub async fn jwks_get(State(s): State<OidcState>) -> Response {
    match s
        .provider
        .keys
        .jwks_bytes(s.provider.store.as_ref(), s.provider.clock.now())
        .await
    {
        Ok(b) => (
            [
                (header::CONTENT_TYPE, JSON),
                (header::CACHE_CONTROL, JWKS_CACHE_CONTROL),
            ],
            b,
        )
            .into_response(),
        Err(e) => crate::error::OAuthError::from(e).into_response(),
    }
}

/// The discovery document or the JWKS when `path` names one: the same bytes
/// and headers as the routes above, for a fast path that runs before the
/// per-request middleware. `None` for any other path, and for the JWKS when
/// its keys cannot be reloaded (the full stack then answers, e.g. 503).
pub async fn static_document(provider: &Provider, path: &str) -> Option<Response> {
    let (cache_control, body) = match path {
        "/.well-known/openid-configuration" => {
            (DISCOVERY_CACHE_CONTROL, provider.discovery_bytes())
        }
        "/jwks" => (
            JWKS_CACHE_CONTROL,
            provider
                .keys
                .jwks_bytes(provider.store.as_ref(), provider.clock.now())
                .await
                .ok()?,
        ),
        _ => return None,
    };
    Some(
        (
            [
                (header::CONTENT_TYPE, JSON),
                (header::CACHE_CONTROL, cache_control),
            ],
            body,
        )
            .into_response(),
    )
}
