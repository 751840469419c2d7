//! The MFA steps of an interaction: registering an authenticator app
//! (`MfaEnroll`) and proving a second factor (`MfaChallenge`). The policy
//! says which step and which methods; these pages perform it through
//! `portico_directory::mfa` (replay-proof codes, lockout) and report it with
//! `finish_step`. Every wrong code is also a failed sign-in attempt in the
//! log. Forms carry the interaction's CSRF token.
//!
//! The pages are here; the answers to them in [`codes`] (TOTP and recovery
//! codes), [`email`] (the emailed code) and, for passkeys, `super::passkey`;
//! a refused code goes through [`refused`].

mod codes;
mod email;
mod refused;

pub use codes::{enroll_post, verify_post};
pub use email::email_post;
pub(super) use refused::refusal_status;

use crate::http::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::response::{IntoResponse, Response};
use portico_directory::mfa::MfaError;
use portico_directory::{Actor, ActorKind};
use portico_oidc::error::PageError;
use portico_oidc::interaction::InteractionView;
use portico_oidc::signin_log::RequestContext;
use portico_policy::{Method, Step};
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
    /// Offer a passkey instead (WebAuthn works at this issuer).
    passkeys: bool,
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa_recovery_codes.html")]
pub(super) struct RecoveryCodesPage {
    pub codes: Vec<String>,
    pub continue_href: String,
    /// "authenticator app" or "passkey".
    pub what: &'static str,
}

#[derive(Template, WebTemplate)]
#[template(path = "mfa_challenge.html")]
struct ChallengePage {
    id: String,
    csrf: String,
    organization: String,
    client_name: String,
    totp: bool,
    passkey: bool,
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
                passkeys: s.mfa.passkeys_available(),
            }
            .into_response())
        }
        Some(Step::MfaChallenge { methods }) => Ok(ChallengePage {
            id: view.id.clone(),
            csrf: csrf.to_string(),
            organization,
            client_name: view.client_name.clone(),
            totp: methods.contains(&Method::Totp),
            passkey: methods.contains(&Method::Passkey),
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

/// The user as the audit log names them when they change their own methods.
pub(super) fn self_actor(user_id: Uuid, name: &str) -> Actor {
    Actor {
        kind: ActorKind::User,
        id: user_id.to_string(),
        display_name: name.to_string(),
    }
}

pub(super) fn ip_of(ctx: &RequestContext) -> IpAddr {
    ctx.ip
        .as_deref()
        .and_then(|ip| ip.parse().ok())
        .unwrap_or(IpAddr::V4(Ipv4Addr::UNSPECIFIED))
}

/// The interaction, if it is at `want` (by name); the user it is for.
pub(super) async fn at_step(
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
