//! Passkeys in the sign-in: registering one at `MfaEnroll`, using one at
//! `MfaChallenge`, and a member's passkey alone at `Identify` where the
//! policy offers it (`passkeyOnlySignIn`). `static/passkey.js` asks
//! `passkey/options` for the WebAuthn options (JSON), runs the browser's
//! ceremony and posts the answer as a form to `passkey/register` or
//! `passkey/verify`; what follows is the step's own page (recovery codes,
//! resume, or the page again with the error). Ceremonies are bound to this
//! interaction, single use and short-lived (`portico_directory::mfa`).
//! Every POST carries the interaction's CSRF token.

use super::mfa::{RecoveryCodesPage, refusal_status, self_actor};
use super::{Render, check_csrf, render_step, secret};
use crate::http::UiState;
use crate::http::passkey_errors::{json_error, passkey_internal, passkey_refusal};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Json, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::UserType;
use portico_directory::mfa::{PasskeyError, PasskeyOptions};
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::{InteractionView, StepDone, StepFailure};
use portico_oidc::signin_log::RequestContext;
use portico_policy::{Method, Step};
use serde::Deserialize;
use uuid::Uuid;

/// What the current step lets a passkey do.
#[derive(Debug, Clone, Copy)]
enum Use {
    /// `MfaEnroll`: register one for this user.
    Register(Uuid),
    /// `MfaChallenge` offering a passkey: one of this user's.
    Verify(Uuid),
    /// `Identify` with `passkeyOnlySignIn`: any discoverable passkey says who.
    SignIn,
}

fn passkey_use(view: &InteractionView) -> Option<Use> {
    match (&view.step, view.user_id) {
        (Some(Step::MfaEnroll), Some(u)) => Some(Use::Register(u)),
        (Some(Step::MfaChallenge { methods }), Some(u)) if methods.contains(&Method::Passkey) => {
            Some(Use::Verify(u))
        }
        (Some(Step::Identify { passkey: true }), _) => Some(Use::SignIn),
        _ => None,
    }
}

fn binding(id: &str) -> String {
    format!("interaction:{id}")
}

fn not_expected() -> PageError {
    PageError::new(
        "step_not_expected",
        "A passkey is not what this sign-in is waiting for. Go back to the application and start again.",
    )
    .with_status(409)
}

#[derive(Deserialize)]
pub struct OptionsForm {
    #[serde(default)]
    csrf: String,
}

/// `POST /interaction/{id}/passkey/options`: the WebAuthn options for what
/// the current step lets a passkey do (JSON).
pub async fn options_post(
    State(s): State<UiState>,
    jar: CookieJar,
    Path(id): Path<String>,
    Form(f): Form<OptionsForm>,
) -> Response {
    let secret = secret(&jar);
    let result: Result<PasskeyOptions, PageError> = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let view = s
            .provider
            .interaction_details(&id, secret.as_deref())
            .await?;
        let b = binding(&id);
        let started = match passkey_use(&view).ok_or_else(not_expected)? {
            Use::Register(u) => s.mfa.start_passkey_registration(u, &b).await,
            Use::Verify(u) => s.mfa.start_passkey_authentication(Some(u), &b).await,
            Use::SignIn => s.mfa.start_passkey_authentication(None, &b).await,
        };
        started.map_err(|e| match passkey_refusal(&e) {
            Some((code, message)) => PageError::new(code, message).with_status(409),
            None => passkey_internal(e),
        })
    }
    .await;
    match result {
        Ok(o) => Json(o).into_response(),
        Err(e) => json_error(&e),
    }
}

#[derive(Deserialize)]
pub struct AnswerForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    /// The browser's answer, as JSON.
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

/// A passkey that did not work: a failed attempt in the sign-in log, and the
/// step's page again with the reason.
async fn refused(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    ctx: &RequestContext,
    user_id: Option<Uuid>,
    e: PasskeyError,
    rid: &str,
) -> Result<Response, PageError> {
    let Some((code, message)) = passkey_refusal(&e) else {
        return Err(passkey_internal(e));
    };
    refused_with(s, id, secret, ctx, user_id, (code, message), rid).await
}

async fn refused_with(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    ctx: &RequestContext,
    user_id: Option<Uuid>,
    (code, message): (&'static str, &'static str),
    rid: &str,
) -> Result<Response, PageError> {
    let failure = StepFailure {
        method: Method::Passkey,
        code,
        message,
        user_id,
        attempted: None,
        home_idp: None,
    };
    s.provider.step_failed(id, secret, ctx, failure).await?;
    let r = Render {
        error: Some(message.to_string()),
        other: true,
        ..Render::default()
    };
    let page = render_step(s, id, secret, r, rid, ctx).await?;
    Ok((refusal_status(false), page).into_response())
}

/// The ceremony id the form names; a malformed one is an expired request.
fn ceremony_of(f: &AnswerForm) -> Result<Uuid, PasskeyError> {
    Uuid::parse_str(f.ceremony.trim()).map_err(|_| PasskeyError::Expired)
}

/// `POST /interaction/{id}/passkey/register` (`MfaEnroll`): the new passkey
/// completes the step; a first method comes with recovery codes, shown once.
pub async fn register_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let secret = secret(&jar);
    let rid = request_id(&headers);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let view = s
            .provider
            .interaction_details(&id, secret.as_deref())
            .await?;
        let Some(Use::Register(user_id)) = passkey_use(&view) else {
            return Err(not_expected());
        };
        let user = s
            .directory
            .find_user(user_id)
            .await
            .map_err(|_| PageError::internal())?;
        let actor = self_actor(user_id, &user.display_name);
        let registered = match ceremony_of(&f) {
            Ok(c) => {
                s.mfa
                    .finish_passkey_registration(
                        user_id,
                        &binding(&id),
                        c,
                        &f.credential,
                        &f.name,
                        &actor,
                    )
                    .await
            }
            Err(e) => Err(e),
        };
        match registered {
            Ok(codes) => {
                let done = StepDone::SecondFactor {
                    method: Method::Passkey,
                };
                s.provider.finish_step(&id, secret.as_deref(), done).await?;
                Ok(match codes {
                    Some(codes) => RecoveryCodesPage {
                        codes,
                        continue_href: Provider::resume_path(&id),
                        what: "passkey",
                    }
                    .into_response(),
                    None => Redirect::to(&Provider::resume_path(&id)).into_response(),
                })
            }
            Err(e) => refused(&s, &id, secret.as_deref(), &ctx, Some(user_id), e, &rid).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &rid))
}

/// `POST /interaction/{id}/passkey/verify`: a passkey as the second factor
/// (`MfaChallenge`), or alone as the whole sign-in (`Identify`, members only).
pub async fn verify_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<AnswerForm>,
) -> Response {
    let secret = secret(&jar);
    let rid = request_id(&headers);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let view = s.provider.interaction_details(&id, secret.as_deref()).await?;
        let (expected, done_as_first) = match passkey_use(&view) {
            Some(Use::Verify(u)) => (Some(u), false),
            Some(Use::SignIn) => (None, true),
            _ => return Err(not_expected()),
        };
        let checked = match ceremony_of(&f) {
            Ok(c) => {
                s.mfa
                    .finish_passkey_authentication(&binding(&id), c, &f.credential)
                    .await
            }
            Err(e) => Err(e),
        };
        let user_id = match checked {
            Ok(u) => u,
            Err(e) => return refused(&s, &id, secret.as_deref(), &ctx, expected, e, &rid).await,
        };
        let done = if done_as_first {
            // Guests never sign in with a passkey alone; the policy would
            // deny it too, but this keeps them on the page with a reason.
            let user = s
                .directory
                .find_user(user_id)
                .await
                .map_err(|_| PageError::internal())?;
            if user.user_type == UserType::Guest {
                let why = (
                    "passkey_only_not_allowed",
                    "Guests sign in with their own organization or an emailed code, then use their passkey.",
                );
                return refused_with(&s, &id, secret.as_deref(), &ctx, Some(user_id), why, &rid)
                    .await;
            }
            StepDone::FirstFactor {
                user_id,
                method: Method::Passkey,
                idp: None,
                upstream: None,
            }
        } else {
            StepDone::SecondFactor {
                method: Method::Passkey,
            }
        };
        s.provider.finish_step(&id, secret.as_deref(), done).await?;
        Ok(Redirect::to(&Provider::resume_path(&id)).into_response())
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &rid))
}
