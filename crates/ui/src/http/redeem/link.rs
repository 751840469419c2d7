//! The redeem link's steps: landing, code, verify, consent. Each POST
//! re-opens the link (it may have been resent or revoked meanwhile) and checks
//! the CSRF token derived from the browser binding before anything else.

use super::pages::{CodePage, ConsentPage, DeclinedPage, LandingPage, LinkFields};
use super::problem::{code_spent, redeem_error, stale_form};
use super::{REDEEM, UiState, normalize_code};
use crate::pages::show_date;
use axum::Form;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use axum_extra::extract::CookieJar;
use portico_directory::invitations::{CODE_TTL_MINUTES, Invitation, RedeemError};
use portico_oidc::http::authorize::portico_cookie;
use portico_oidc::http::{SESSION_COOKIE, request_id};
use portico_oidc::interaction::{INTERACTION_COOKIE, StepDone};
use portico_policy::Method;
use serde::Deserialize;
use uuid::Uuid;

const START_AGAIN: &str = "Open the link in your invitation email again.";

/// The link's query, and the hidden fields every step posts back.
#[derive(Deserialize, Default)]
pub struct StepForm {
    #[serde(default)]
    pub(super) i: String,
    #[serde(default)]
    pub(super) t: String,
    #[serde(default)]
    pub(super) csrf: String,
    #[serde(default)]
    pub(super) code_id: String,
    #[serde(default)]
    pub(super) code: String,
    #[serde(default)]
    pub(super) decision: String,
    /// The home-IdP flow this redemption continues (`federated.rs`).
    #[serde(default)]
    pub(super) flow: String,
    /// "Use another way": the email code instead of the home IdP.
    #[serde(default)]
    pub(super) other: Option<String>,
}

impl StepForm {
    pub(super) fn link(&self, csrf: String) -> LinkFields {
        LinkFields {
            i: self.i.clone(),
            t: self.t.clone(),
            csrf,
            flow: self.flow.clone(),
        }
    }

    /// An unparsable id cannot name a code of ours: treat it as spent.
    pub(super) fn code_id(&self) -> Result<Uuid, RedeemError> {
        Uuid::parse_str(self.code_id.trim()).map_err(|_| RedeemError::CodeSpent)
    }
}

/// The step's context once the form is ours and the link still redeemable.
pub(super) struct Step {
    pub inv: Invitation,
    pub binding: String,
}

/// CSRF first (cheap, and says nothing about the link), then the link.
pub(super) async fn open_step(
    s: &UiState,
    jar: &CookieJar,
    f: &StepForm,
    rid: &str,
) -> Result<Step, Response> {
    let binding = REDEEM
        .check(s, jar, &f.csrf)
        .ok_or_else(|| stale_form(START_AGAIN))?;
    match s.invitations.open_link(&f.i, &f.t).await {
        Ok(inv) => Ok(Step { inv, binding }),
        Err(e) => Err(redeem_error(s, &f.i, e, rid).await),
    }
}

pub(super) fn code_page(
    s: &UiState,
    f: &StepForm,
    step: &Step,
    code_id: String,
    error: Option<String>,
) -> CodePage {
    CodePage {
        link: f.link(REDEEM.csrf(s, &step.binding)),
        organization: s.invitations.config().organization.clone(),
        email: step.inv.email.clone(),
        code_id,
        minutes: CODE_TTL_MINUTES,
        error,
        note: None,
    }
}

/// `GET /redeem?i&t`: the landing page, binding this browser.
pub async fn redeem_get(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    q: Result<Query<StepForm>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let inv = match s.invitations.open_link(&q.i, &q.t).await {
        Ok(inv) => inv,
        Err(e) => return redeem_error(&s, &q.i, e, &request_id(&headers)).await,
    };
    // Home-realm discovery: the admins' precedence is trusted IdPs first,
    // the email code otherwise (or when the guest asks for another way).
    let idp = if q.other.is_some() {
        None
    } else {
        match s.federation.idp_for_email(&inv.email).await {
            Ok(idp) => idp,
            Err(e) => {
                tracing::error!(error = ?e, "home-realm discovery failed");
                None
            }
        }
    };
    let (jar, binding) = REDEEM.ensure(&s, jar);
    let page = LandingPage {
        link: q.link(REDEEM.csrf(&s, &binding)),
        inviter: inv.invited_by.display_name.clone(),
        organization: s.invitations.config().organization.clone(),
        email: inv.email.clone(),
        expires: show_date(inv.expires_at),
        idp_name: idp.map(|i| i.display_name),
    };
    (jar, page).into_response()
}

/// `POST /redeem/code`: emails a code bound to this browser.
pub async fn code_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let rid = request_id(&headers);
    let step = match open_step(&s, &jar, &f, &rid).await {
        Ok(step) => step,
        Err(resp) => return resp,
    };
    match s
        .invitations
        .send_redeem_code(&step.inv, &step.binding)
        .await
    {
        Ok(code_id) => code_page(&s, &f, &step, code_id.to_string(), None).into_response(),
        Err(e) => redeem_error(&s, &f.i, e, &rid).await,
    }
}

/// `POST /redeem/verify`: the typed code proves the mailbox.
pub async fn verify_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let rid = request_id(&headers);
    let step = match open_step(&s, &jar, &f, &rid).await {
        Ok(step) => step,
        Err(resp) => return resp,
    };
    let code = normalize_code(&f.code);
    let verified = match f.code_id() {
        Ok(id) => s
            .invitations
            .verify_redeem_code(&step.inv, id, &step.binding, &code)
            .await
            .map(|()| id),
        Err(e) => Err(e),
    };
    match verified {
        Ok(id) => consent_page(&s, &f, &step, id, &rid).await,
        Err(RedeemError::WrongCode { attempts_left }) if attempts_left > 0 => {
            let msg = match attempts_left {
                1 => "That code is not right. 1 attempt left.".to_string(),
                n => format!("That code is not right. {n} attempts left."),
            };
            let page = code_page(&s, &f, &step, f.code_id.clone(), Some(msg));
            (StatusCode::BAD_REQUEST, page).into_response()
        }
        Err(RedeemError::WrongCode { .. } | RedeemError::CodeSpent) => {
            // A reload or the back button re-posts a consumed code: if this
            // browser did prove the mailbox, show the consent page again.
            if let Ok(id) = f.code_id()
                && let Ok(true) = s
                    .invitations
                    .has_proven_mailbox(&step.inv, id, &step.binding)
                    .await
            {
                return consent_page(&s, &f, &step, id, &rid).await;
            }
            code_spent(f.link(REDEEM.csrf(&s, &step.binding)))
        }
        Err(e) => redeem_error(&s, &f.i, e, &rid).await,
    }
}

/// What will be shared, for the guest to accept or decline.
async fn consent_page(
    s: &UiState,
    f: &StepForm,
    step: &Step,
    code_id: Uuid,
    rid: &str,
) -> Response {
    let idp = super::federated::flow_idp_name(s, f, step).await;
    consent_page_with(s, f, step, code_id.to_string(), idp, rid).await
}

pub(super) async fn consent_page_with(
    s: &UiState,
    f: &StepForm,
    step: &Step,
    code_id: String,
    idp_name: Option<String>,
    rid: &str,
) -> Response {
    // The guest object was created at invite time; its name is what the
    // organization will see (and may differ from the invitation's).
    let user = match s.directory.find_user(step.inv.user_id).await {
        Ok(u) => u,
        Err(e) => return redeem_error(s, &f.i, RedeemError::Directory(e), rid).await,
    };
    let config = s.invitations.config();
    ConsentPage {
        link: f.link(REDEEM.csrf(s, &step.binding)),
        code_id,
        organization: config.organization.clone(),
        privacy_url: config.privacy_url.clone(),
        display_name: user.display_name,
        email: step.inv.email.clone(),
        idp_name,
    }
    .into_response()
}

/// `POST /redeem/consent`: accept (the guest joins and is signed in) or
/// decline (nothing changes; the invitation stays open).
pub async fn consent_post(
    State(s): State<UiState>,
    jar: CookieJar,
    headers: HeaderMap,
    Form(f): Form<StepForm>,
) -> Response {
    let rid = request_id(&headers);
    let step = match open_step(&s, &jar, &f, &rid).await {
        Ok(step) => step,
        Err(resp) => return resp,
    };
    match f.decision.as_str() {
        "accept" => {}
        "decline" => {
            return DeclinedPage {
                organization: s.invitations.config().organization.clone(),
                expires: show_date(step.inv.expires_at),
                redeem_href: format!("/redeem?i={}&t={}", step.inv.id, f.t),
            }
            .into_response();
        }
        // Only a hand-made post gets here: show the choice again.
        _ if !f.flow.is_empty() => {
            return super::federated::consent_again(&s, &f, &step, &rid).await;
        }
        _ => {
            return match f.code_id() {
                Ok(id) => consent_page(&s, &f, &step, id, &rid).await,
                Err(_) => code_spent(f.link(REDEEM.csrf(&s, &step.binding))),
            };
        }
    }
    if !f.flow.is_empty() {
        return super::federated::accept(&s, jar, &f, &step, &rid).await;
    }
    let accepted = match f.code_id() {
        Ok(id) => s.invitations.accept(&step.inv, id, &step.binding).await,
        Err(e) => Err(e),
    };
    let user = match accepted {
        Ok(user) => user,
        // The proof expired while the consent page was open.
        Err(RedeemError::CodeSpent) => return code_spent(f.link(REDEEM.csrf(&s, &step.binding))),
        Err(e) => return redeem_error(&s, &f.i, e, &rid).await,
    };
    let first = StepDone::FirstFactor {
        user_id: user.id,
        method: Method::EmailCode,
        idp: None,
        upstream: None,
    };
    signed_in(&s, jar, &step.inv, first, &rid).await
}

/// Where a redeemed guest lands: the invitation's redirect URL, unless it
/// names no page of its own (Portico's bare origin), in which case My Apps,
/// where the apps shared with the guest are.
pub(super) fn landing(s: &UiState, redirect_url: &str) -> String {
    let issuer = s.provider.config.issuer.trim_end_matches('/');
    let bare = redirect_url.trim_end_matches('/');
    if bare == issuer {
        format!("{issuer}/myapps")
    } else {
        redirect_url.to_string()
    }
}

/// The guest accepted: the proof of the mailbox (or the home IdP's word) is
/// the first step of a sign-in interaction, which the policy continues (MFA
/// when it applies) and which ends, with a session, at the invitation's
/// redirect URL. The redemption binding ends here.
pub(super) async fn signed_in(
    s: &UiState,
    jar: CookieJar,
    inv: &Invitation,
    first: StepDone,
    rid: &str,
) -> Response {
    let previous = jar.get(SESSION_COOKIE).map(|c| c.value().to_string());
    let landing = landing(s, &inv.redirect_url);
    match s
        .provider
        .begin_after_redemption(first, &landing, previous.as_deref())
        .await
    {
        Ok((id, secret)) => {
            let path = format!("/interaction/{id}");
            let cookie = portico_cookie(
                INTERACTION_COOKIE,
                secret,
                path.clone(),
                s.provider.config.interaction_ttl.num_seconds(),
                s.provider.config.secure_cookies(),
            );
            let jar = REDEEM.remove(jar).add(cookie);
            (jar, Redirect::to(&path)).into_response()
        }
        Err(e) => {
            // Accepted already; the app will simply ask the guest to sign in.
            tracing::error!(
                code = e.code,
                "could not continue the sign-in after redemption"
            );
            crate::pages::error_response(&e, rid)
        }
    }
}
