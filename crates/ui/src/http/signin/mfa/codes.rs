//! Answers with a code: confirming the authenticator app (`MfaEnroll`) and
//! a TOTP, recovery or emailed code (`MfaChallenge`).

use super::refused::{Attempt, refused};
use super::{RecoveryCodesPage, at_step, ip_of, self_actor};
use crate::http::UiState;
use crate::http::signin::{check_csrf, secret};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::StepDone;
use portico_oidc::signin_log::RequestContext;
use portico_policy::Method;
use serde::Deserialize;

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) code: String,
    #[serde(default)]
    kind: String,
    /// The emailed code's id (`kind=email`).
    #[serde(default)]
    pub(super) code_id: String,
}

/// `POST /interaction/{id}/mfa/enroll`: the first code confirms the app;
/// the recovery codes are shown once.
pub async fn enroll_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<CodeForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let (_, user_id) = at_step(&s, &id, secret.as_deref(), "mfaEnroll").await?;
        let user = s
            .directory
            .find_user(user_id)
            .await
            .map_err(|_| PageError::internal())?;
        let actor = self_actor(user_id, &user.display_name);
        let code = f.code.replace(' ', "");
        match s
            .mfa
            .confirm_totp(user_id, &code, ip_of(&ctx), &actor)
            .await
        {
            Ok(codes) => {
                let done = StepDone::SecondFactor {
                    method: Method::Totp,
                };
                s.provider.finish_step(&id, secret.as_deref(), done).await?;
                Ok(RecoveryCodesPage {
                    codes,
                    continue_href: Provider::resume_path(&id),
                    what: "authenticator app",
                }
                .into_response())
            }
            Err(e) => {
                let attempt = Attempt {
                    method: Method::Totp,
                    user_id,
                    code_id: None,
                };
                refused(&s, &id, secret.as_deref(), &ctx, attempt, e).await
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}

/// `POST /interaction/{id}/mfa/verify`: a code from the app, or a recovery code.
pub async fn verify_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    Path(id): Path<String>,
    Form(f): Form<CodeForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let (_, user_id) = at_step(&s, &id, secret.as_deref(), "mfaChallenge").await?;
        let ip = ip_of(&ctx);
        let (method, checked) = match f.kind.as_str() {
            "recovery" => (
                Method::RecoveryCode,
                s.mfa.verify_recovery_code(user_id, &f.code, ip).await,
            ),
            "email" => (
                Method::EmailOtp,
                super::email::verify_email_code(&s, user_id, &id, secret.as_deref(), &f).await,
            ),
            _ => (
                Method::Totp,
                s.mfa
                    .verify_totp(user_id, &f.code.replace(' ', ""), ip)
                    .await,
            ),
        };
        match checked {
            Ok(()) => {
                // finish_step refuses a method this challenge does not offer.
                let done = StepDone::SecondFactor { method };
                s.provider.finish_step(&id, secret.as_deref(), done).await?;
                Ok(Redirect::to(&Provider::resume_path(&id)).into_response())
            }
            Err(e) => {
                let code_id = (method == Method::EmailOtp).then(|| f.code_id.clone());
                let attempt = Attempt {
                    method,
                    user_id,
                    code_id,
                };
                refused(&s, &id, secret.as_deref(), &ctx, attempt, e).await
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}
