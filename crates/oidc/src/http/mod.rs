//! The protocol endpoints over HTTP. The only module of this crate that uses axum.

pub mod authorize;
mod context;
mod discovery;
mod errors;
mod logout;
mod token;
mod userinfo;

pub use discovery::static_document;
pub use errors::{bearer_token, parse_form, request_id};

use crate::Provider;
use crate::authorize::ParamLimits;
use crate::error::PageError;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::response::Response;
use axum::routing::{get, post};
use std::sync::Arc;

/// Name of the browser's SSO session cookie.
pub const SESSION_COOKIE: &str = "portico_session";

/// Pages the protocol needs but does not render itself; the UI implements them.
pub trait Pages: Send + Sync {
    /// An error the user must see (never redirected): stable code and request id.
    fn error(&self, err: &PageError, request_id: &str) -> Response;
    /// OAuth 2.0 Form Post Response Mode: an auto-submitting form to the client.
    fn form_post(&self, action: &str, params: &[(String, String)]) -> Response;
    /// "Sign out of Portico?" with a form posting `hidden` (+ `csrf`) to `/logout/confirm`.
    fn logout_confirm(
        &self,
        client_name: Option<&str>,
        hidden: &[(String, String)],
        csrf: &str,
    ) -> Response;
    /// "You are signed out."
    fn logged_out(&self) -> Response;
}

#[derive(Clone)]
pub struct OidcState {
    pub provider: Arc<Provider>,
    pub pages: Arc<dyn Pages>,
}

/// Stops reading a body past the endpoint's limit; the handler then answers
/// `invalid_request` in its own form (JSON or a page).
fn body_limit(limits: ParamLimits) -> DefaultBodyLimit {
    DefaultBodyLimit::max(limits.max_bytes)
}

pub fn router(state: OidcState) -> Router {
    Router::new()
        .route(
            "/.well-known/openid-configuration",
            get(discovery::discovery_get),
        )
        .route("/jwks", get(discovery::jwks_get))
        .route(
            "/authorize",
            get(authorize::authorize_get)
                .post(authorize::authorize_post)
                .layer(body_limit(ParamLimits::AUTHORIZE)),
        )
        .route("/interaction/{id}/resume", get(authorize::resume_get))
        .route(
            "/token",
            post(token::token_post).layer(body_limit(ParamLimits::TOKEN)),
        )
        .route(
            "/introspect",
            post(token::introspect_post).layer(body_limit(ParamLimits::TOKEN)),
        )
        .route(
            "/revoke",
            post(token::revoke_post).layer(body_limit(ParamLimits::TOKEN)),
        )
        .route(
            "/userinfo",
            get(userinfo::userinfo_get)
                .post(userinfo::userinfo_post)
                .layer(body_limit(ParamLimits::TOKEN)),
        )
        .route(
            "/logout",
            get(logout::logout_get)
                .post(logout::logout_post)
                .layer(body_limit(ParamLimits::LOGOUT)),
        )
        .route(
            "/logout/confirm",
            post(logout::logout_confirm_post).layer(body_limit(ParamLimits::LOGOUT)),
        )
        .with_state(state)
}
