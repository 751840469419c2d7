//! The interaction pages: the UI side of the hand-off. Every form carries a
//! CSRF token derived from the interaction's browser-binding cookie, so a form
//! can only be posted by the browser that started the sign-in.
//!
//! The sign-in page offers two ways in: a password (members) and a one-time
//! code sent to the email address (guests; `redeem/signin_code.rs`, which
//! reuses the CSRF helpers here and finishes the step the same way).

use super::{UiState, federation};
use crate::pages::{ConsentPage, SignInPage, describe_scope, error_response};
use axum::Form;
use axum::extract::{Path, Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::INTERACTION_COOKIE;
use portico_oidc::interaction::{StepDone, StepFailure};
use portico_oidc::signin_log::RequestContext;
use portico_policy::{Method, Step};
use serde::Deserialize;

const CSRF_PURPOSE: &str = "csrf";

pub(super) fn secret(jar: &CookieJar) -> Option<String> {
    jar.get(INTERACTION_COOKIE).map(|c| c.value().to_string())
}

pub(super) fn csrf_for(s: &UiState, secret: &str) -> String {
    s.provider.hasher.hash(CSRF_PURPOSE, secret)
}

pub(super) fn check_csrf(
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

/// How the sign-in page was reached.
#[derive(Default)]
struct Render {
    error: Option<String>,
    email: Option<String>,
    /// "Use another way to sign in": no automatic trip to a home IdP.
    other: bool,
}

async fn render_step(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    r: Render,
    rid: &str,
) -> Result<Response, PageError> {
    let view = s.provider.interaction_details(id, secret).await?;
    let csrf = secret.map(|x| csrf_for(s, x)).unwrap_or_default();
    match view.step.clone() {
        None => Ok(Redirect::to(&Provider::resume_path(id)).into_response()),
        // The policy's home-realm discovery named the IdP: go there, unless
        // the guest asked for another way.
        Some(Step::UpstreamIdp { idp }) if !r.other && r.error.is_none() => {
            let idp = match uuid::Uuid::parse_str(&idp) {
                Ok(idp_id) => s.federation.get(idp_id).await.ok(),
                Err(_) => None,
            };
            let Some(idp) = idp else {
                return Err(PageError::internal());
            };
            {
                let purpose = federation::sign_in_purpose(id, &view.upstream_hints);
                let exits = federation::Exits {
                    retry: Some(format!("/interaction/{id}")),
                    other_way: Some(format!("/interaction/{id}?other=1")),
                };
                let hint = view.login_hint.as_deref();
                return Ok(federation::start(
                    s,
                    &idp,
                    purpose,
                    secret.unwrap_or_default(),
                    hint,
                    exits,
                    rid,
                )
                .await);
            }
        }
        Some(Step::Identify | Step::UpstreamIdp { .. }) => Ok(SignInPage {
            id: view.id,
            csrf,
            client_name: view.client_name,
            email: r.email.or(view.login_hint).unwrap_or_default(),
            error: r.error,
            other: r.other,
        }
        .into_response()),
        Some(Step::MfaEnroll | Step::MfaChallenge { .. }) => {
            super::mfa::render(s, &view, &csrf, r.error).await
        }
        Some(Step::Consent) => {
            let uid = view.user_id.ok_or_else(PageError::internal)?;
            let user = s
                .directory
                .find_user(uid)
                .await
                .map_err(|_| PageError::internal())?;
            Ok(ConsentPage {
                id: view.id,
                csrf,
                client_name: view.client_name,
                scopes: view.scopes.iter().map(|x| describe_scope(x)).collect(),
                claims: view.claims,
                user_name: user.display_name,
                user_mail: user.mail,
            }
            .into_response())
        }
    }
}

#[derive(Deserialize, Default)]
pub struct PageQuery {
    #[serde(default)]
    other: Option<String>,
}

pub async fn interaction_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
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
    render_step(&s, &id, secret.as_deref(), r, &rid)
        .await
        .unwrap_or_else(|e| error_response(&e, &rid))
}

#[derive(Deserialize)]
pub struct LoginForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    password: String,
}

pub async fn login_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<LoginForm>,
) -> Response {
    let secret = secret(&jar);
    let rid = request_id(&headers);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        // Make sure the interaction is live and ours before spending argon2 time.
        s.provider.load_interaction(&id, secret.as_deref()).await?;
        let now = s.provider.clock.now();
        let key = f.email.trim().to_lowercase();
        if s.limiter.is_blocked(&key, now) {
            let msg = "Too many failed attempts. Wait a few minutes and try again.".to_string();
            let r = Render {
                error: Some(msg),
                email: Some(f.email.clone()),
                other: true,
            };
            return render_step(&s, &id, secret.as_deref(), r, &rid).await;
        }
        let user = s
            .directory
            .authenticate(&f.email, &f.password)
            .await
            .map_err(|e| {
                tracing::error!(error = ?e, "directory failure during sign-in");
                PageError::internal()
            })?;
        match user {
            None => {
                s.limiter.record_failure(&key, now);
                let msg = "The email or password is incorrect.".to_string();
                let failure = StepFailure {
                    method: Method::Password,
                    code: "invalid_credentials",
                    message: &msg,
                    user_id: None,
                    attempted: Some(&f.email),
                };
                s.provider
                    .step_failed(&id, secret.as_deref(), &ctx, failure)
                    .await?;
                let r = Render {
                    error: Some(msg),
                    email: Some(f.email.clone()),
                    other: true,
                };
                render_step(&s, &id, secret.as_deref(), r, &rid).await
            }
            Some(u) => {
                s.limiter.clear(&key);
                let done = StepDone::FirstFactor {
                    user_id: u.id,
                    method: Method::Password,
                    idp: None,
                    upstream: None,
                };
                s.provider.finish_step(&id, secret.as_deref(), done).await?;
                Ok(Redirect::to(&Provider::resume_path(&id)).into_response())
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
}

#[derive(Deserialize)]
pub struct ConsentForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    decision: String,
}

pub async fn consent_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<ConsentForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let accepted = match f.decision.as_str() {
            "accept" => true,
            "cancel" => false,
            _ => {
                return Err(PageError::new(
                    "invalid_request",
                    "Choose Accept or Cancel.",
                ));
            }
        };
        s.provider
            .finish_consent(&id, secret.as_deref(), accepted)
            .await?;
        Ok(Redirect::to(&Provider::resume_path(&id)).into_response())
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
}
