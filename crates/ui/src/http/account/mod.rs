//! `/account/security`: users manage their own second factors. The pages are
//! the first-party client `portico` (`first_party::ACCOUNT`), so the user
//! signs in through the same pipeline as for any app. A change (removing the
//! authenticator app, new recovery codes) needs a sign-in with a second
//! factor at most [`FRESH_MINUTES`] old; otherwise the browser is sent to
//! sign in again with `acr_values` asking for MFA and `max_age`. Setting up
//! an app is that same step-up: a user without one is taken through
//! enrolment by the pipeline itself. Passkeys are listed, added, renamed and
//! removed in [`passkeys`] under the same rules. Every change is audited.

mod passkeys;

pub use passkeys::{
    passkey_options_post, passkey_register_post, passkey_remove_post, passkey_rename_post,
};

use super::UiState;
use super::first_party::{ACCOUNT, CallbackQuery, SignInFailed};
use crate::pages::show_date;
use askama::Template;
use askama_web::WebTemplate;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use axum_extra::extract::cookie::Cookie;
use chrono::Duration;
use portico_directory::{Actor, ActorKind};
use portico_oidc::PageError;
use portico_oidc::http::{SESSION_COOKIE, request_id};
use portico_policy::ACR_MFA;
use serde::Deserialize;

/// How recent a second factor must be to change the methods.
pub const FRESH_MINUTES: i64 = 10;
const CSRF_PURPOSE: &str = "account-csrf";

#[derive(Template, WebTemplate)]
#[template(path = "account_security.html")]
struct SecurityPage {
    name: String,
    email: String,
    csrf: String,
    totp_since: Option<String>,
    passkeys: Vec<PasskeyRow>,
    /// WebAuthn works at this issuer (its host is a domain name).
    passkeys_available: bool,
    /// Signed in with a second factor recently enough to change methods.
    fresh: bool,
    has_strong_method: bool,
    recovery_left: u32,
    fresh_minutes: i64,
    notice: Option<String>,
}

struct PasskeyRow {
    id: String,
    name: String,
    created: String,
    last_used: Option<String>,
}

#[derive(Template, WebTemplate)]
#[template(path = "account_recovery_codes.html")]
struct NewCodesPage {
    codes: Vec<String>,
    /// Earlier codes were replaced (not the first codes of a first method).
    replaced: bool,
}

/// The signed-in user of the account pages.
pub(super) type Me = crate::http::first_party::SignedIn;

impl Me {
    pub(super) fn actor(&self) -> Actor {
        Actor {
            kind: ActorKind::User,
            id: self.user.id.to_string(),
            display_name: self.user.display_name.clone(),
        }
    }

    /// Signed in with a second factor, recently enough to change methods.
    pub(super) fn is_fresh(&self, s: &UiState) -> bool {
        self.grant.acr.as_deref() == Some(ACR_MFA)
            && s.provider.clock.now() - self.grant.created_at <= Duration::minutes(FRESH_MINUTES)
    }
}

pub(super) fn page_error(e: impl std::fmt::Debug, headers: &HeaderMap) -> Response {
    tracing::error!(error = ?e, "account page failure");
    crate::pages::error_response(&PageError::internal(), &request_id(headers))
}

pub(super) async fn me(s: &UiState, jar: &CookieJar) -> Result<Option<Me>, PageError> {
    ACCOUNT.signed_in(s, jar, CSRF_PURPOSE).await
}

pub(super) fn check_csrf(s: &UiState, jar: &CookieJar, presented: &str) -> Result<(), PageError> {
    let ok = ACCOUNT
        .token(s, jar)
        .is_some_and(|(token, _)| s.provider.hasher.verify(CSRF_PURPOSE, &token, presented));
    if ok {
        Ok(())
    } else {
        Err(PageError::new(
            "invalid_csrf",
            "This form has expired. Open the page again.",
        )
        .with_status(403))
    }
}

#[derive(Deserialize, Default)]
pub struct SignInQuery {
    #[serde(default)]
    stepup: Option<String>,
}

/// `GET /account/signin`: to `/authorize`; `?stepup=1` asks for a fresh second factor.
pub async fn signin_get(
    State(s): State<UiState>,
    jar: CookieJar,
    q: Result<Query<SignInQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let stepup = q.map(|Query(q)| q.stepup.is_some()).unwrap_or(false);
    let max_age = (FRESH_MINUTES * 60).to_string();
    if stepup {
        ACCOUNT.begin(&s, jar, &[("acr_values", ACR_MFA), ("max_age", &max_age)])
    } else {
        ACCOUNT.begin(&s, jar, &[])
    }
}

/// `GET /account/callback`.
pub async fn callback_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    q: Result<Query<CallbackQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    match ACCOUNT.finish(&s, jar, q).await {
        (jar, Ok(_)) => (jar, Redirect::to("/account/security")).into_response(),
        (jar, Err(SignInFailed(msg))) => {
            let e = PageError::new("account_signin_failed", msg).with_status(403);
            (jar, crate::pages::error_response(&e, &request_id(&headers))).into_response()
        }
    }
}

pub(super) async fn show(
    s: &UiState,
    me: &Me,
    notice: Option<String>,
) -> Result<Response, PageError> {
    let methods = s.mfa.methods(me.user.id).await.map_err(|e| {
        tracing::error!(error = ?e, "cannot read MFA methods");
        PageError::internal()
    })?;
    let passkeys = methods
        .passkeys
        .iter()
        .map(|p| PasskeyRow {
            id: p.id.to_string(),
            name: p.name.clone(),
            created: show_date(p.created_at),
            last_used: p.last_used_at.map(show_date),
        })
        .collect::<Vec<_>>();
    Ok(SecurityPage {
        name: me.user.display_name.clone(),
        email: me.user.mail.clone(),
        csrf: me.csrf.clone(),
        has_strong_method: methods.totp.is_some() || !passkeys.is_empty(),
        totp_since: methods.totp.map(|t| show_date(t.confirmed_at)),
        passkeys,
        passkeys_available: s.mfa.passkeys_available(),
        fresh: me.is_fresh(s),
        recovery_left: methods.recovery_codes_left,
        fresh_minutes: FRESH_MINUTES,
        notice,
    }
    .into_response())
}

/// `GET /account/security`.
pub async fn security_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
) -> Response {
    let result = async {
        match me(&s, &jar).await? {
            None => Ok(Redirect::to("/account/signin").into_response()),
            Some(me) => show(&s, &me, None).await,
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}

#[derive(Deserialize)]
pub struct CsrfForm {
    #[serde(default)]
    pub(super) csrf: String,
}

/// The user of a change: signed in, the form ours, and recently verified
/// with a second factor (else a redirect to step up).
pub(super) async fn for_change(
    s: &UiState,
    jar: &CookieJar,
    csrf: &str,
) -> Result<Result<Me, Response>, PageError> {
    let Some(me) = me(s, jar).await? else {
        return Err(PageError::new("login_required", "Sign in again.").with_status(403));
    };
    check_csrf(s, jar, csrf)?;
    if !me.is_fresh(s) {
        return Ok(Err(Redirect::to("/account/signin?stepup=1").into_response()));
    }
    Ok(Ok(me))
}

/// `POST /account/security/authenticator/remove` (recovery codes go with it).
pub async fn remove_authenticator_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        let me = match for_change(&s, &jar, &f.csrf).await? {
            Ok(me) => me,
            Err(stepup) => return Ok(stepup),
        };
        if let Err(e) = s.mfa.remove_totp(me.user.id, &me.actor()).await {
            return Ok(page_error(e, &headers));
        }
        show(&s, &me, Some("The authenticator app was removed.".into())).await
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}

/// `POST /account/security/recovery-codes`: ten new codes, the old ones die.
pub async fn recovery_codes_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        let me = match for_change(&s, &jar, &f.csrf).await? {
            Ok(me) => me,
            Err(stepup) => return Ok(stepup),
        };
        match s
            .mfa
            .regenerate_recovery_codes(me.user.id, &me.actor())
            .await
        {
            Ok(codes) => Ok(NewCodesPage {
                codes,
                replaced: true,
            }
            .into_response()),
            Err(e) => Ok(page_error(e, &headers)),
        }
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}

/// `POST /account/signout`: ends the account grant and the Portico session.
pub async fn signout_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<CsrfForm>,
) -> Response {
    let result = async {
        check_csrf(&s, &jar, &f.csrf)?;
        if let Some(me) = me(&s, &jar).await? {
            s.provider
                .store
                .revoke_grant(me.grant.id, s.provider.clock.now())
                .await?;
        }
        if let Some(session) = jar.get(SESSION_COOKIE).map(|c| c.value().to_string()) {
            s.provider.end_session(&session).await?;
        }
        let jar = ACCOUNT.sign_out(jar.remove(Cookie::build(SESSION_COOKIE).path("/")));
        Ok::<_, PageError>((jar, crate::pages::LoggedOutPage).into_response())
    }
    .await;
    result.unwrap_or_else(|e| crate::pages::error_response(&e, &request_id(&headers)))
}
