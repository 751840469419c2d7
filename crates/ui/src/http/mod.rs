//! The UI's routes: the sign-in steps (`signin/`), redemption, the account
//! pages, the admin portal, and the static assets.

mod account;
mod body_limit;
mod federation;
mod first_party;
mod myapps;
mod myapps_join;
mod passkey_errors;
mod portal;
mod redeem;
mod signin;

use axum::Router;
use axum::http::{HeaderValue, header};
use axum::middleware::map_response;
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use portico_directory::Directory;
use portico_directory::import::Importer;
use portico_directory::invitations::Invitations;
use portico_federation::Federation;
use portico_oidc::Provider;
use portico_oidc::signin_log::SignInLog;
use std::path::PathBuf;
use std::sync::Arc;

#[derive(Clone)]
pub struct UiState {
    pub provider: Arc<Provider>,
    pub directory: Directory,
    pub invitations: Invitations,
    pub importer: Importer,
    pub federation: Federation,
    /// Users' second factors (authenticator app, recovery codes).
    pub mfa: portico_directory::mfa::Mfa,
    /// Failed passwords per account and per address, shared through the database.
    pub limiter: Arc<portico_directory::signin_limits::SignInLimiter>,
    pub background: Arc<dyn Background>,
    /// Where uploaded import files are kept while they are staged.
    pub upload_dir: PathBuf,
    /// The sign-in log, read by the portal's sign-ins page.
    pub sign_in_log: Arc<dyn SignInLog>,
    /// Groups and app role assignments (My Apps).
    pub groups: portico_directory::groups::Groups,
    /// Requests to join self-service groups (My Apps).
    pub join_requests: portico_directory::join_requests::JoinRequests,
}

/// The server's background workers, as the pages need them.
pub trait Background: Send + Sync {
    /// An import job was started: run it.
    fn import_started(&self, job: uuid::Uuid);
}

const CSS: &str = include_str!("../../../../static/portico.css");
const AUTOSUBMIT_JS: &str = include_str!("../../../../static/autosubmit.js");
const PASSKEY_JS: &str = include_str!("../../../../static/passkey.js");

async fn css_get() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/css; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        CSS,
    )
}

async fn autosubmit_get() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        AUTOSUBMIT_JS,
    )
}

async fn passkey_js_get() -> impl IntoResponse {
    (
        [
            (header::CONTENT_TYPE, "text/javascript; charset=utf-8"),
            (header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        PASSKEY_JS,
    )
}

/// Every page here carries a secret (a link's token, a CSRF token, a user's
/// data), so none may be cached. The static assets set their own caching and
/// keep it.
async fn no_store(mut resp: Response) -> Response {
    resp.headers_mut()
        .entry(header::CACHE_CONTROL)
        .or_insert(HeaderValue::from_static("no-store"));
    resp
}

pub fn router(state: UiState) -> Router {
    Router::new()
        .route(
            "/account",
            get(|| async { axum::response::Redirect::to("/account/security") }),
        )
        .route("/account/signin", get(account::signin_get))
        .route("/account/callback", get(account::callback_get))
        .route("/account/security", get(account::security_get))
        .route(
            "/account/security/authenticator/remove",
            post(account::remove_authenticator_post),
        )
        .route(
            "/account/security/recovery-codes",
            post(account::recovery_codes_post),
        )
        .route(
            "/account/security/passkeys/options",
            post(account::passkey_options_post),
        )
        .route(
            "/account/security/passkeys/register",
            post(account::passkey_register_post),
        )
        .route(
            "/account/security/passkeys/{id}/rename",
            post(account::passkey_rename_post),
        )
        .route(
            "/account/security/passkeys/{id}/remove",
            post(account::passkey_remove_post),
        )
        .route("/account/signout", post(account::signout_post))
        .route("/myapps", get(myapps::myapps_get))
        .route("/myapps/signin", get(myapps::signin_get))
        .route("/myapps/callback", get(myapps::callback_get))
        .route("/myapps/consents/revoke", post(myapps::revoke_consent_post))
        .route("/myapps/leave", post(myapps::leave_post))
        .route(
            "/myapps/groups/{id}/members/add",
            post(myapps::add_member_post),
        )
        .route(
            "/myapps/groups/{id}/members/remove",
            post(myapps::remove_member_post),
        )
        .route("/myapps/groups/{id}/invite", post(myapps::invite_post))
        .route("/myapps/groups/{id}/join", post(myapps_join::join_post))
        .route(
            "/myapps/requests/{id}/{decision}",
            post(myapps_join::decide_post),
        )
        .route("/federation/callback", get(federation::callback_get))
        .route("/static/portico.css", get(css_get))
        .route("/static/autosubmit.js", get(autosubmit_get))
        .route("/static/passkey.js", get(passkey_js_get))
        .merge(signin::routes())
        .merge(redeem::routes())
        .merge(portal::routes())
        .layer(body_limit::form_limit())
        .layer(axum::middleware::from_fn(body_limit::readable_too_large))
        .layer(map_response(no_store))
        .with_state(state)
}
