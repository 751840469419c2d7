//! The interaction's pages: the UI side of the one sign-in pipeline. The
//! authorization server decides each step (`portico_policy::decide`; the
//! states are drawn in `portico_oidc::interaction`, redemption included);
//! `GET /interaction/{id}` shows the page of the step it names, one module
//! per step, and each module reports its result with `finish_step` (or
//! `finish_consent`, `step_failed`) and sends the browser to resume:
//!
//! | step (policy)   | module          | routes under `/interaction/{id}`          |
//! |-----------------|-----------------|--------------------------------------------|
//! | Identify        | [`identify`]    | `login` (password), `cancel`               |
//! |                 | [`email_code`]  | `email-code`, `email-code/verify` (guests) |
//! | UpstreamIdp     | [`upstream`]    | leaves for the home IdP; `federated`       |
//! |                 | [`passkey`]     | `passkey/options`, `passkey/verify` (a member's passkey alone, `passkeyOnlySignIn`) |
//! | MfaEnroll       | [`mfa`]         | `mfa/enroll`                               |
//! |                 | [`passkey`]     | `passkey/options`, `passkey/register`      |
//! | MfaChallenge    | [`mfa`]         | `mfa/verify`, `mfa/email`                  |
//! |                 | [`passkey`]     | `passkey/options`, `passkey/verify`        |
//! | Consent         | [`consent`]     | `consent`                                  |
//!
//! Every form carries a CSRF token derived from the interaction's
//! browser-binding cookie, so a form can only be posted by the browser that
//! started the sign-in; `finish_step` refuses a method the current step does
//! not accept, so no URL skips a step.

mod consent;
mod email_code;
mod identify;
mod mfa;
mod passkey;
mod upstream;

use super::UiState;
use crate::pages::error_response;
use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use axum_extra::extract::CookieJar;
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::INTERACTION_COOKIE;
use portico_oidc::signin_log::RequestContext;
use portico_policy::Step;
use serde::Deserialize;

const CSRF_PURPOSE: &str = "csrf";

pub fn routes() -> Router<UiState> {
    Router::new()
        .route("/interaction/{id}", get(interaction_get))
        .route("/interaction/{id}/login", post(identify::login_post))
        .route("/interaction/{id}/cancel", post(identify::cancel_post))
        .route(
            "/interaction/{id}/email-code",
            post(email_code::email_code_post),
        )
        .route(
            "/interaction/{id}/email-code/verify",
            post(email_code::email_code_verify_post),
        )
        .route(
            "/interaction/{id}/federated",
            get(upstream::interaction_federated_get),
        )
        .route("/interaction/{id}/mfa/enroll", post(mfa::enroll_post))
        .route("/interaction/{id}/mfa/verify", post(mfa::verify_post))
        .route("/interaction/{id}/mfa/email", post(mfa::email_post))
        .route(
            "/interaction/{id}/passkey/options",
            post(passkey::options_post),
        )
        .route(
            "/interaction/{id}/passkey/register",
            post(passkey::register_post),
        )
        .route(
            "/interaction/{id}/passkey/verify",
            post(passkey::verify_post),
        )
        .route("/interaction/{id}/consent", post(consent::consent_post))
}

pub(crate) fn secret(jar: &CookieJar) -> Option<String> {
    jar.get(INTERACTION_COOKIE).map(|c| c.value().to_string())
}

pub(crate) fn csrf_for(s: &UiState, secret: &str) -> String {
    s.provider.hasher.hash(CSRF_PURPOSE, secret)
}

pub(crate) fn check_csrf(
    s: &UiState,
    secret: Option<&str>,
    presented: &str,
) -> Result<(), PageError> {
    let ok = secret.is_some_and(|x| s.provider.hasher.verify(CSRF_PURPOSE, x, presented));
    if !ok {
        return Err(PageError::new(
            "invalid_csrf",
            "This form has expired. Go back to the application and start again.",
        )
        .with_status(403));
    }
    Ok(())
}

/// How the step's page was reached.
#[derive(Default)]
pub(super) struct Render {
    pub error: Option<String>,
    pub email: Option<String>,
    /// "Use another way to sign in": no automatic trip to a home IdP.
    pub other: bool,
}

/// The page of the step the policy names now.
pub(super) async fn render_step(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    r: Render,
    rid: &str,
    ctx: &RequestContext,
) -> Result<Response, PageError> {
    let view = s.provider.interaction_details(id, secret).await?;
    let csrf = secret.map(|x| csrf_for(s, x)).unwrap_or_default();
    match view.step.clone() {
        None => Ok(Redirect::to(&Provider::resume_path(id)).into_response()),
        // The policy's home-realm discovery named the IdP: go there, unless
        // the guest asked for another way.
        Some(Step::UpstreamIdp { idp }) if !r.other && r.error.is_none() => {
            upstream::go(s, &view, &idp, secret.unwrap_or_default(), rid, ctx).await
        }
        Some(Step::Identify { .. } | Step::UpstreamIdp { .. }) => Ok(identify::page(view, csrf, r)),
        Some(Step::MfaEnroll | Step::MfaChallenge { .. }) => {
            mfa::render(s, &view, &csrf, r.error).await
        }
        Some(Step::Consent) => consent::page(s, view, csrf).await,
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    other: Option<String>,
}

/// `GET /interaction/{id}`.
pub async fn interaction_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    q: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let secret = secret(&jar);
    let rid = request_id(&headers);
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let r = Render {
        other: q.other.is_some(),
        ..Render::default()
    };
    render_step(&s, &id, secret.as_deref(), r, &rid, &ctx)
        .await
        .unwrap_or_else(|e| error_response(&e, &rid))
}
