//! A refused code: what the user is told, the stable code the sign-in log
//! records (`step_failed`), and the step's page again.

use super::render_with;
use crate::http::UiState;
use crate::http::signin::csrf_for;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use portico_directory::mfa::MfaError;
use portico_oidc::error::PageError;
use portico_oidc::interaction::StepFailure;
use portico_oidc::signin_log::RequestContext;
use portico_policy::Method;
use uuid::Uuid;

fn internal(e: MfaError) -> PageError {
    tracing::error!(error = ?e, "MFA failure");
    PageError::internal()
}

/// The HTTP status of a refused attempt: 429 while locked out, else 400.
pub(in crate::http::signin) fn refusal_status(locked: bool) -> StatusCode {
    if locked {
        StatusCode::TOO_MANY_REQUESTS
    } else {
        StatusCode::BAD_REQUEST
    }
}

/// What the user is told about a refused code, and its stable code for the log.
fn refusal(e: &MfaError) -> Option<(&'static str, String)> {
    match e {
        MfaError::WrongCode { attempts_left } => Some((
            "invalid_code",
            match attempts_left {
                0 => "That code is not right. Too many attempts: wait 15 minutes and try again."
                    .to_string(),
                1 => "That code is not right. 1 attempt left.".to_string(),
                n => format!("That code is not right. {n} attempts left."),
            },
        )),
        MfaError::Locked { until } => Some((
            "mfa_locked",
            format!(
                "Too many wrong codes. Try again after {} UTC.",
                until.format("%H:%M")
            ),
        )),
        MfaError::Replayed => Some((
            "code_replayed",
            "That code was already used. Wait for the app to show a new one.".to_string(),
        )),
        MfaError::NotEnrolled => Some((
            "not_enrolled",
            "That code is no longer valid here. Start again.".to_string(),
        )),
        MfaError::Internal(_) => None,
    }
}

/// Which code was refused, and for whom.
pub(super) struct Attempt {
    pub method: Method,
    pub user_id: Uuid,
    /// The emailed code's id, to show its form again.
    pub code_id: Option<String>,
}

/// A refused code: recorded as a failed attempt, and the step's page again.
pub(super) async fn refused(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    ctx: &RequestContext,
    attempt: Attempt,
    e: MfaError,
) -> Result<Response, PageError> {
    let Attempt {
        method,
        user_id,
        code_id,
    } = attempt;
    let Some((code, message)) = refusal(&e) else {
        return Err(internal(e));
    };
    let failure = StepFailure {
        method,
        code,
        message: &message,
        user_id: Some(user_id),
        attempted: None,
        home_idp: None,
    };
    s.provider.step_failed(id, secret, ctx, failure).await?;
    let view = s.provider.interaction_details(id, secret).await?;
    let csrf = secret.map(|x| csrf_for(s, x)).unwrap_or_default();
    let status = refusal_status(matches!(e, MfaError::Locked { .. }));
    Ok((
        status,
        render_with(s, &view, &csrf, Some(message), code_id).await?,
    )
        .into_response())
}
