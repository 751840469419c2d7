//! Returning guests sign in with a one-time code sent to their email, at the
//! interaction's sign-in step (the fallback for guests whose domain has no
//! trusted IdP). The code is bound to the interaction and its browser secret.
//!
//! Nothing here may tell who has an account: every address gets the same code
//! page (the directory hands out a code id even when it sends nothing), and
//! every failed code gets the same message, since "N attempts left" would only
//! ever appear for real accounts. Guessing is capped by the directory (a few
//! attempts per code, a few codes per hour); the password limiter is not used
//! here, since its key would be the form's email field, which a guesser
//! controls and anyone could use to lock an account's password sign-in.

use super::{check_csrf, csrf_for, secret};
use crate::http::UiState;
use crate::http::federation;
use crate::http::redeem::normalize_code;
use crate::pages::error_response;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::invitations::{CODE_TTL_MINUTES, CODES_PER_HOUR, RedeemError};
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::InteractionView;
use portico_oidc::interaction::{StepDone, StepFailure};
use portico_oidc::signin_log::RequestContext;
use portico_policy::{Method, Step};
use serde::Deserialize;
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "signin_code.html")]
struct SignInCodePage {
    id: String,
    csrf: String,
    client_name: String,
    email: String,
    code_id: String,
    minutes: i64,
    per_hour: u64,
    error: Option<String>,
}

const WRONG_CODE: &str = "That code is not right, or it has expired. Check that you typed the newest code, or ask for a new one.";

#[derive(Deserialize)]
pub struct EmailCodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    code_id: String,
    #[serde(default)]
    code: String,
    /// Set on the "use another way" page: no home IdP, just the code.
    #[serde(default)]
    other: String,
}

/// The interaction, if it is live, ours, and still at the sign-in step. Any
/// other step sends the browser back to the interaction page.
async fn login_step(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
) -> Result<Result<InteractionView, Response>, PageError> {
    let view = s.provider.interaction_details(id, secret).await?;
    if matches!(view.step, Some(Step::Identify { .. })) {
        Ok(Ok(view))
    } else {
        Ok(Err(
            Redirect::to(&format!("/interaction/{id}")).into_response()
        ))
    }
}

fn code_page(
    s: &UiState,
    view: InteractionView,
    secret: &str,
    email: &str,
    code_id: String,
    error: Option<&str>,
) -> SignInCodePage {
    SignInCodePage {
        id: view.id,
        csrf: csrf_for(s, secret),
        client_name: view.client_name,
        email: email.trim().to_string(),
        code_id,
        minutes: CODE_TTL_MINUTES,
        per_hour: CODES_PER_HOUR,
        error: error.map(str::to_string),
    }
}

/// `POST /interaction/{id}/email-code`: sends a code if the address is a
/// guest that redeemed with its mailbox; shows the code page either way.
pub async fn email_code_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<EmailCodeForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let secret = secret.as_deref().unwrap_or_default();
        let view = match login_step(&s, &id, Some(secret)).await? {
            Ok(view) => view,
            Err(elsewhere) => return Ok(elsewhere),
        };
        // Home-realm discovery: a guest whose organization signs them in
        // goes there; everyone else gets the code.
        if f.other.is_empty()
            && let Some(idp) = federation::home_idp(&s, &f.email).await?
        {
            let purpose = federation::sign_in_purpose(&id, &view.upstream_hints);
            let exits = federation::Exits {
                retry: Some(format!("/interaction/{id}")),
                other_way: Some(format!("/interaction/{id}?other=1")),
            };
            let rid = request_id(&headers);
            let hint = Some(f.email.trim());
            return Ok(federation::start_sign_in(
                &s, &idp, purpose, secret, hint, exits, &rid, &ctx,
            )
            .await);
        }
        let code_id = match s.invitations.send_signin_code(&f.email, &id, secret).await {
            Ok(code_id) => code_id,
            // Only real guests are counted, so saying "too many" would name
            // them; a fresh id makes the answer the same as for anyone else.
            Err(RedeemError::TooManyCodes) => Uuid::now_v7(),
            Err(e) => {
                tracing::error!(error = ?e, "directory failure sending a sign-in code");
                return Err(PageError::internal());
            }
        };
        Ok(code_page(&s, view, secret, &f.email, code_id.to_string(), None).into_response())
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
}

/// `POST /interaction/{id}/email-code/verify`: the right code finishes the
/// sign-in step exactly like a password does, with `amr: ["otp"]`.
pub async fn email_code_verify_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<EmailCodeForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let secret = secret.as_deref().unwrap_or_default();
        let view = match login_step(&s, &id, Some(secret)).await? {
            Ok(view) => view,
            Err(elsewhere) => return Ok(elsewhere),
        };
        let verified = match Uuid::parse_str(f.code_id.trim()) {
            Ok(code_id) => {
                let code = normalize_code(&f.code);
                s.invitations
                    .verify_signin_code(code_id, &id, secret, &code)
                    .await
            }
            Err(_) => Err(RedeemError::CodeSpent),
        };
        match verified {
            Ok(user) => {
                let done = StepDone::FirstFactor {
                    user_id: user.id,
                    method: Method::EmailCode,
                    idp: None,
                    upstream: None,
                };
                s.provider.finish_step(&id, Some(secret), done).await?;
                Ok(Redirect::to(&Provider::resume_path(&id)).into_response())
            }
            Err(RedeemError::Directory(e)) => {
                tracing::error!(error = ?e, "directory failure verifying a sign-in code");
                Err(PageError::internal())
            }
            Err(_) => {
                let failure = StepFailure {
                    method: Method::EmailCode,
                    code: "invalid_code",
                    message: WRONG_CODE,
                    user_id: None,
                    attempted: Some(&f.email),
                    home_idp: None,
                };
                s.provider
                    .step_failed(&id, Some(secret), &ctx, failure)
                    .await?;
                let page = code_page(
                    &s,
                    view,
                    secret,
                    &f.email,
                    f.code_id.clone(),
                    Some(WRONG_CODE),
                );
                Ok((StatusCode::BAD_REQUEST, page).into_response())
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| error_response(&e, &request_id(&headers)))
}
