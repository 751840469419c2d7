//! The Identify step: the sign-in page (a member's password, or a guest's
//! address for the email code or home-realm discovery) and its password
//! form. Wrong passwords are rate-limited and logged as failed sign-ins.
//! "Cancel" ends the interaction: the app gets `access_denied` at its
//! verified redirect URI (RFC 6749 §4.1.2.1) and the log an aborted sign-in.

use super::{Render, check_csrf, render_step, secret};
use crate::http::UiState;
use crate::pages::{SignInPage, error_response};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::signin_limits::{MAX_SIGN_IN_NAME, sign_in_key};
use portico_directory::{DirectoryError, MAX_PASSWORD_BYTES};
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::{InteractionView, StepDone, StepFailure};
use portico_oidc::signin_log::RequestContext;
use portico_policy::Method;
use serde::Deserialize;
use std::net::IpAddr;

/// The sign-in page.
pub(super) fn page(view: InteractionView, csrf: String, r: Render) -> Response {
    SignInPage {
        id: view.id,
        csrf,
        client_name: view.client_name,
        email: r.email.or(view.login_hint).unwrap_or_default(),
        error: r.error,
        other: r.other,
        passkey: matches!(
            view.step,
            Some(portico_policy::Step::Identify { passkey: true })
        ),
    }
    .into_response()
}

fn internal(e: DirectoryError) -> PageError {
    tracing::error!(error = ?e, "directory failure during sign-in");
    PageError::internal()
}

/// Every password slot is taken: come back in a second rather than wait in
/// an unbounded queue (RFC 9110 §15.6.4, §10.2.3).
fn busy(rid: &str) -> Response {
    let err = PageError::new(
        "temporarily_unavailable",
        "Too many sign-ins are being checked right now. Try again in a moment.",
    )
    .with_status(503);
    let mut resp = error_response(&err, rid);
    resp.headers_mut()
        .insert(header::RETRY_AFTER, HeaderValue::from_static("1"));
    resp
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
        // Bounded before anything is looked up or hashed: a megabyte "email"
        // never becomes a database key, a megabyte password never reaches argon2.
        let Ok(key) = sign_in_key(&f.email) else {
            return Err(PageError::new(
                "invalid_request",
                format!("The email address is too long (at most {MAX_SIGN_IN_NAME} characters)."),
            ));
        };
        if f.password.len() > MAX_PASSWORD_BYTES {
            return Err(PageError::new(
                "invalid_request",
                format!("The password is too long (at most {MAX_PASSWORD_BYTES} bytes)."),
            ));
        }
        // Make sure the interaction is live and ours before spending argon2 time.
        s.provider.load_interaction(&id, secret.as_deref()).await?;
        let now = s.provider.clock.now();
        let ip = ctx.ip.as_deref().and_then(|ip| ip.parse::<IpAddr>().ok());
        if s.limiter
            .is_blocked(&key, ip, now)
            .await
            .map_err(internal)?
        {
            let msg = "Too many failed attempts. Wait a few minutes and try again.".to_string();
            let r = Render {
                error: Some(msg),
                email: Some(f.email.clone()),
                other: true,
            };
            return render_step(&s, &id, secret.as_deref(), r, &rid, &ctx).await;
        }
        let user = match s.directory.authenticate(&f.email, &f.password).await {
            Ok(user) => user,
            Err(DirectoryError::Busy) => return Ok(busy(&rid)),
            Err(e) => return Err(internal(e)),
        };
        match user {
            None => {
                s.limiter
                    .record_failure(&key, ip, now)
                    .await
                    .map_err(internal)?;
                let msg = "The email or password is incorrect.".to_string();
                let failure = StepFailure {
                    method: Method::Password,
                    code: "invalid_credentials",
                    message: &msg,
                    user_id: None,
                    attempted: Some(&key),
                    home_idp: None,
                };
                s.provider
                    .step_failed(&id, secret.as_deref(), &ctx, failure)
                    .await?;
                let r = Render {
                    error: Some(msg),
                    email: Some(f.email.clone()),
                    other: true,
                };
                render_step(&s, &id, secret.as_deref(), r, &rid, &ctx).await
            }
            Some(u) => {
                s.limiter.clear(&key).await.map_err(internal)?;
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
pub struct CancelForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /interaction/{id}/cancel`: the user goes back to the app without
/// signing in. The resume answers `access_denied` and records the abort.
pub async fn cancel_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CancelForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        s.provider
            .abort_interaction(
                &id,
                secret.as_deref(),
                "access_denied",
                "The user cancelled the sign-in.",
            )
            .await?;
        Ok::<_, PageError>(Redirect::to(&Provider::resume_path(&id)).into_response())
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
}
