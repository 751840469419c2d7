//! The MFA steps of an interaction: registering an authenticator app
//! (`MfaEnroll`) and proving a second factor (`MfaChallenge`). The policy
//! says which step and which methods; these pages perform it through
//! `portico_directory::mfa` (replay-proof codes, lockout) and report it with
//! `finish_step`. Every wrong code is also a failed sign-in attempt in the
//! log. Forms carry the interaction's CSRF token.

use super::{check_csrf, csrf_for, secret};
use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::invitations::RedeemError;
use portico_directory::mfa::MfaError;
use portico_directory::{Actor, ActorKind};
use portico_oidc::Provider;
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::{InteractionView, StepDone, StepFailure};
use portico_oidc::signin_log::RequestContext;
use portico_policy::{Method, Step};
use serde::Deserialize;
use std::net::{IpAddr, Ipv4Addr};
use uuid::Uuid;

#[derive(Template, WebTemplate)]
#[template(path = "mfa_enroll.html")]
struct EnrollPage {
    id: String,
    csrf: String,
    organization: String,
    client_name: String,
    qr_svg: String,
    otpauth_uri: String,
    secret: String,
    error: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa_recovery_codes.html")]
struct RecoveryCodesPage {
    codes: Vec<String>,
    continue_href: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa_challenge.html")]
struct ChallengePage {
    id: String,
    csrf: String,
    organization: String,
    client_name: String,
    totp: bool,
    recovery: bool,
    email_otp: bool,
    email: String,
    /// Set once a code was emailed: the form to type it.
    email_code_id: Option<String>,
    error: Option<String>,
}

fn internal(e: MfaError) -> PageError {
    tracing::error!(error = ?e, "MFA failure");
    PageError::internal()
}

/// The page of the MFA step `view` is at.
pub(super) async fn render(
    s: &UiState,
    view: &InteractionView,
    csrf: &str,
    error: Option<String>,
) -> Result<Response, PageError> {
    render_with(s, view, csrf, error, None).await
}

async fn render_with(
    s: &UiState,
    view: &InteractionView,
    csrf: &str,
    error: Option<String>,
    email_code_id: Option<String>,
) -> Result<Response, PageError> {
    let user_id = view.user_id.ok_or_else(PageError::internal)?;
    let user = s
        .directory
        .find_user(user_id)
        .await
        .map_err(|_| PageError::internal())?;
    let organization = s.mfa.config().issuer.clone();
    match &view.step {
        Some(Step::MfaEnroll) => {
            let e = s
                .mfa
                .current_totp_enrolment(user_id, &user.mail)
                .await
                .map_err(internal)?;
            Ok(EnrollPage {
                id: view.id.clone(),
                csrf: csrf.to_string(),
                organization,
                client_name: view.client_name.clone(),
                qr_svg: e.qr_svg,
                otpauth_uri: e.otpauth_uri,
                secret: e.secret_base32,
                error,
            }
            .into_response())
        }
        Some(Step::MfaChallenge { methods }) => Ok(ChallengePage {
            id: view.id.clone(),
            csrf: csrf.to_string(),
            organization,
            client_name: view.client_name.clone(),
            totp: methods.contains(&Method::Totp),
            recovery: methods.contains(&Method::RecoveryCode),
            email_otp: methods.contains(&Method::EmailOtp),
            email: user.mail,
            email_code_id,
            error,
        }
        .into_response()),
        _ => Err(PageError::internal()),
    }
}

#[derive(Deserialize)]
pub struct CodeForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    code: String,
    #[serde(default)]
    kind: String,
    /// The emailed code's id (`kind=email`).
    #[serde(default)]
    code_id: String,
}

/// The user as the audit log names them when they change their own methods.
fn self_actor(user_id: Uuid, name: &str) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: user_id.to_string(),
        display_name: name.to_string(),
    }
}

fn ip_of(ctx: &RequestContext) -> IpAddr {
    ctx.ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
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
struct Attempt {
    method: Method,
    user_id: Uuid,
    /// The emailed code's id, to show its form again.
    code_id: Option<String>,
}

/// A refused code: recorded as a failed attempt, and the step's page again.
async fn refused(
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
    let status = match e {
        MfaError::Locked { .. } => StatusCode::TOO_MANY_REQUESTS,
        _ => StatusCode::BAD_REQUEST,
    };
    Ok((
        status,
        render_with(s, &view, &csrf, Some(message), code_id).await?,
    )
        .into_response())
}

/// The interaction, if it is at `want` (by name); the user it is for.
async fn at_step(
    s: &UiState,
    id: &str,
    secret: Option<&str>,
    want: &str,
) -> Result<(InteractionView, Uuid), PageError> {
    let view = s.provider.interaction_details(id, secret).await?;
    match (&view.step, view.user_id) {
        (Some(step), Some(user)) if step.name() == want => Ok((view, user)),
        _ => Err(PageError::new(
            "step_not_expected",
            "This step is not the one this sign-in is waiting for. Go back to the application and start again.",
        )
        .with_status(409)),
    }
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
                verify_email_code(&s, user_id, &id, secret.as_deref(), &f).await,
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

/// An emailed second-factor code, in the MFA service's terms (so wrong codes
/// read and are logged like the app's).
async fn verify_email_code(
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
