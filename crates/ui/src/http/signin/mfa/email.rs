//! The emailed code as a second factor: sending one (`mfa/email`) and
//! checking it in the MFA service's terms.

use super::codes::CodeForm;
use super::{at_step, render, render_with};
use crate::http::UiState;
use crate::http::signin::{check_csrf, csrf_for, secret};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum_extra::extract::CookieJar;
use portico_directory::invitations::RedeemError;
use portico_directory::mfa::MfaError;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_policy::{Method, Step};
use uuid::Uuid;

/// An emailed second-factor code, in the MFA service's terms (so wrong codes
/// read and are logged like the app's).
pub(super) async fn verify_email_code(
    s: &UiState,
    user_id: Uuid,
    id: &str,
    secret: Option<&str>,
    f: &CodeForm,
) -> Result<(), MfaError> {
    let Ok(code_id) = Uuid::parse_str(f.code_id.trim()) else {
        return Err(MfaError::NotEnrolled);
    };
    let code: String = f
        .code
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .collect();
    match s
        .invitations
        .verify_second_factor_code(user_id, code_id, id, secret.unwrap_or_default(), &code)
        .await
    {
        Ok(()) => Ok(()),
        Err(RedeemError::WrongCode { attempts_left }) if attempts_left > 0 => {
            Err(MfaError::WrongCode {
                attempts_left: attempts_left.unsigned_abs(),
            })
        }
        Err(RedeemError::Directory(e)) => Err(MfaError::Internal(e.into())),
        // Out of attempts, expired, or not this browser's: ask for a new one.
        Err(_) => Err(MfaError::NotEnrolled),
    }
}

/// `POST /interaction/{id}/mfa/email`: emails a second-factor code (when the
/// tenant allows it and the challenge offers it).
pub async fn email_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CodeForm>,
) -> Response {
    let secret = secret(&jar);
    let result = async {
        check_csrf(&s, secret.as_deref(), &f.csrf)?;
        let (view, user_id) = at_step(&s, &id, secret.as_deref(), "mfaChallenge").await?;
        let offered = matches!(&view.step, Some(Step::MfaChallenge { methods }) if methods.contains(&Method::EmailOtp));
        if !offered {
            return Err(PageError::new(
                "step_not_expected",
                "A code by email is not offered for this sign-in.",
            )
            .with_status(409));
        }
        let binding = secret.as_deref().unwrap_or_default();
        let csrf = csrf_for(&s, binding);
        match s
            .invitations
            .send_second_factor_code(user_id, &id, binding)
            .await
        {
            Ok((code_id, _)) => {
                render_with(&s, &view, &csrf, None, Some(code_id.to_string())).await
            }
            Err(RedeemError::TooManyCodes) => {
                let msg = "Too many codes were sent to this address. Wait an hour, or use another way.".to_string();
                let page = render(&s, &view, &csrf, Some(msg)).await?;
                Ok((StatusCode::TOO_MANY_REQUESTS, page).into_response())
            }
            Err(e) => {
                tracing::error!(error = ?e, "could not send a second-factor code");
                Err(PageError::internal())
            }
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}
