//! The interaction pages: the UI side of the hand-off. Every form carries a
//! CSRF token derived from the interaction's browser-binding cookie, so a form
//! can only be posted by the browser that started the sign-in.
//!
//! The sign-in page offers two ways in: a password (members) and a one-time
//! code sent to the email address (guests; `redeem/signin_code.rs`, which
//! reuses the CSRF helpers here and finishes the step the same way).

use super::UiState;
use crate::pages::{ConsentPage, SignInPage, describe_scope, error_response};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::INTERACTION_COOKIE;
use portico_policy::Step;
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

async fn render_step(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    error: Option<String>,
    email: Option<String>,
) -> Result<Response, PageError> {
    let view = s.provider.interaction_details(id, secret).await?;
    let csrf = secret.map(|x| csrf_for(s, x)).unwrap_or_default();
    match view.step {
        None => Ok(Redirect::to(&Provider::resume_path(id)).into_response()),
        Some(Step::Login) => Ok(SignInPage {
            id: view.id,
            csrf,
            client_name: view.client_name,
            email: email.or(view.login_hint).unwrap_or_default(),
            error,
        }
        .into_response()),
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

pub async fn interaction_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Response {
    let secret = secret(&jar);
    render_step(&s, &id, secret.as_deref(), None, None)
        .await
        .unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
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
    Path(id): Path<String>,
    Form(f): Form<LoginForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        // Make sure the interaction is live and ours before spending argon2 time.
        s.provider.load_interaction(&id, secret.as_deref()).await?;
        let now = s.provider.clock.now();
        let key = f.email.trim().to_lowercase();
        if s.limiter.is_blocked(&key, now) {
            let msg = "Too many failed attempts. Wait a few minutes and try again.".to_string();
            return render_step(&s, &id, secret.as_deref(), Some(msg), Some(f.email.clone())).await;
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
                render_step(&s, &id, secret.as_deref(), Some(msg), Some(f.email.clone())).await
            }
            Some(u) => {
                s.limiter.clear(&key);
                s.provider
                    .finish_login(&id, secret.as_deref(), u.id, vec!["pwd".into()])
                    .await?;
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
