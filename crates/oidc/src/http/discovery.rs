use super::OidcState;
use axum::Json;
use axum::extract::State;
use axum::http::header;
use axum::response::{IntoResponse, Response};

pub async fn discovery_get(State(s): State<OidcState>) -> Response {
    (
        [(header::CACHE_CONTROL, "public, max-age=300")],
        Json(s.provider.discovery()),
    )
        .into_response()
}

pub async fn jwks_get(State(s): State<OidcState>) -> Response {
    match s
        .provider
        .keys
        .jwks(s.provider.store.as_ref(), s.provider.clock.now())
        .await
    {
        Ok(v) => ([(header::CACHE_CONTROL, "public, max-age=60")], Json(v)).into_response(),
        Err(e) => crate::error::OAuthError::from(e).into_response(),
    }
}
