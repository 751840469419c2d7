//! Passkeys on `/account/security`: add one (WebAuthn registration through
//! `static/passkey.js`: `passkeys/options` gives the options as JSON, the
//! answer is posted as a form to `passkeys/register`), rename one, remove
//! one. Every change needs the same fresh second factor as the other
//! methods (`for_change`), carries the page's CSRF token and is audited.
//! Ceremonies are bound to the account grant that asked. A passkey that is
//! the user's first method comes with ten recovery codes, shown once.

use super::{CsrfForm, Me, NewCodesPage, check_csrf, for_change, me, show};
use crate::http::UiState;
use crate::http::passkey_errors::{json_error, passkey_internal, passkey_refusal};
use axum::Form;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum_extra::extract::CookieJar;
use portico_directory::mfa::PasskeyError;
use portico_oidc::PageError;
use portico_oidc::http::request_id;
use serde::Deserialize;
use uuid::Uuid;

fn binding(me: &Me) -> String {
    format!("account:{}", me.grant.id)
}

/// A refused change: the page again, with why.
async fn refused(s: &UiState, me: &Me, e: PasskeyError) -> Result<Response, PageError> {
    let Some((_, message)) = passkey_refusal(&e) else {
        return Err(passkey_internal(e));
    };
    let page = show(s, me, Some(message.to_string())).await?;
    Ok((StatusCode::BAD_REQUEST, page).into_response())
}

/// `POST /account/security/passkeys/options`: registration options (JSON).
pub async fn passkey_options_post(
    State(s): State<UiState>,
    jar: CookieJar,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        let Some(me) = me(&s, &jar).await? else {
            return Err(PageError::new("login_required", "Sign in again.").with_status(403));
        };
        check_csrf(&s, &jar, &f.csrf)?;
        if !me.is_fresh(&s) {
            return Err(PageError::new(
                "stepup_required",
                "Verify it's you again before adding a passkey: reload the page.",
            )
            .with_status(403));
        }
        s.mfa
            .start_passkey_registration(me.user.id, &binding(&me))
            .await
            .map_err(|e| match passkey_refusal(&e) {
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
pub struct RegisterForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    ceremony: String,
    #[serde(default)]
    credential: String,
    #[serde(default)]
    name: String,
}

/// `POST /account/security/passkeys/register`.
pub async fn passkey_register_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<RegisterForm>,
) -> Response {
    let result = async {
        let me = match for_change(&s, &jar, &f.csrf).await? {
            Ok(me) => me,
            Err(stepup) => return Ok(stepup),
        };
        let Ok(ceremony) = Uuid::parse_str(f.ceremony.trim()) else {
            return refused(&s, &me, PasskeyError::Expired).await;
        };
        let added = s
            .mfa
            .finish_passkey_registration(
                me.user.id,
                &binding(&me),
                ceremony,
                &f.credential,
                &f.name,
                &me.actor(),
            )
            .await;
        match added {
            Ok(Some(codes)) => Ok(NewCodesPage {
                codes,
                replaced: false,
            }
            .into_response()),
            Ok(None) => show(&s, &me, Some("The passkey was added.".into())).await,
            Err(e) => refused(&s, &me, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}

#[derive(Deserialize)]
pub struct RenameForm {
    #[serde(default)]
    csrf: String,
    #[serde(default)]
    name: String,
}

fn passkey_id(raw: &str) -> Result<Uuid, PageError> {
    Uuid::parse_str(raw)
        .map_err(|_| PageError::new("passkey_not_registered", "No such passkey.").with_status(404))
}

/// `POST /account/security/passkeys/{id}/rename`.
pub async fn passkey_rename_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<RenameForm>,
) -> Response {
    let result = async {
        let me = match for_change(&s, &jar, &f.csrf).await? {
            Ok(me) => me,
            Err(stepup) => return Ok(stepup),
        };
        let id = passkey_id(&id)?;
        match s
            .mfa
            .rename_passkey(me.user.id, id, &f.name, &me.actor())
            .await
        {
            Ok(()) => show(&s, &me, Some("The passkey was renamed.".into())).await,
            Err(e) => refused(&s, &me, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}

/// `POST /account/security/passkeys/{id}/remove` (the recovery codes go
/// with the last method).
pub async fn passkey_remove_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Path(id): Path<String>,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        let me = match for_change(&s, &jar, &f.csrf).await? {
            Ok(me) => me,
            Err(stepup) => return Ok(stepup),
        };
        let id = passkey_id(&id)?;
        match s.mfa.remove_passkey(me.user.id, id, &me.actor()).await {
            Ok(()) => show(&s, &me, Some("The passkey was removed.".into())).await,
            Err(e) => refused(&s, &me, e).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}
