//! The authorization endpoint (RFC 6749 §3.1, OIDC Core §3.1.2).
//!
//! A request passes these checks, in this order (node-oidc-provider's table):
//!
//! | # | check | on failure |
//! |---|-------|-----------|
//! | 1 | [`load_client`] | error page |
//! | 2 | [`check_redirect_uri`] (exact match; fixes response mode and state) | error page |
//! | 3 | [`reject_repeated_params`], [`reject_oversized_values`] | redirect `invalid_request` |
//! | 4 | [`reject_request_objects`] | redirect `request_not_supported` |
//! | 5 | [`check_response_type`] (and the client may use the code grant) | redirect |
//! | 6 | [`check_scope`] | redirect `invalid_scope` |
//! | 7 | [`check_pkce`] | redirect `invalid_request` |
//! | 8 | [`check_prompt`], [`check_max_age`], [`check_claims`] | redirect `invalid_request` |
//! | 9 | [`check_id_token_hint`] | redirect `invalid_request` |
//!
//! Then `portico_policy::decide` says what happens (see `crate::interaction`):
//! complete → a code is issued; deny → the error goes to the app (with
//! `prompt=none`: `login_required`, `interaction_required`, `consent_required`);
//! a step → an interaction.

mod check_id_token_hint;
mod check_lengths;
mod check_pkce;
mod check_redirect_uri;
mod check_request;
mod load_client;
mod params;
mod response;

pub use check_id_token_hint::check_id_token_hint;
pub use check_lengths::{VALUE_LIMITS, reject_oversized_values};
pub use check_pkce::check_pkce;
pub use check_redirect_uri::{ResponseMode, VerifiedRedirect, check_redirect_uri};
pub use check_request::*;
pub use load_client::load_client;
pub use params::{ParamError, ParamLimits, RawParams, parse_pairs};
pub use response::AuthorizationResponse;

use crate::Provider;
use crate::error::{OAuthError, PageError};
use crate::interaction::{Interaction, SessionRef, StepDone};
use crate::model::{AuthCode, Authentication, Grant, Session};
use crate::signin_log::{RequestContext, SignInResult};
use portico_core::random_token;
use portico_policy::{Denial, Outcome};

/// Portico's own client for sign-ins that end in Portico (redemption, account pages).
pub const FIRST_PARTY_CLIENT: &str = "portico";
/// The admin portal, a first-party OIDC client of its own issuer.
pub const PORTAL_CLIENT: &str = "portico-admin";
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// A validated authorization request.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct AuthRequest {
    pub client_id: String,
    pub redirect: VerifiedRedirect,
    pub scopes: Vec<String>,
    pub nonce: Option<String>,
    pub code_challenge: Option<String>,
    pub prompt: Prompt,
    pub max_age: Option<i64>,
    pub claims: Option<serde_json::Value>,
    pub login_hint: Option<String>,
    /// The home realm the app suggests (`domain_hint`, as Entra ID and
    /// Google accept it): the sign-in goes straight to the IdP serving it.
    #[serde(default)]
    pub domain_hint: Option<String>,
    pub id_token_hint_sub: Option<String>,
    pub ui_locales: Option<String>,
    pub acr_values: Option<String>,
}

/// What `/authorize` (and resume) decided.
#[derive(Debug)]
pub enum AuthorizeOutcome {
    /// Answer the client (a code or an error).
    Respond(AuthorizationResponse),
    /// Send the browser to the UI; bind the interaction with this secret.
    Interact { id: String, browser_secret: String },
    /// Show an error page; never redirect.
    Page(PageError),
    /// Resume finished: answer the client and set this new session cookie.
    RespondWithSession {
        response: AuthorizationResponse,
        session_token: String,
    },
    /// A redemption finished (or was cancelled): go to its landing, with the new session.
    Land {
        url: String,
        session_token: Option<String>,
    },
}

impl Provider {
    async fn validate(
        &self,
        raw: &RawParams,
    ) -> Result<Result<AuthRequest, (VerifiedRedirect, OAuthError)>, PageError> {
        let client = load_client(self, raw).await?;
        let (redirect, mode_error) = check_redirect_uri(&client, raw)?;
        if let Some(e) = mode_error {
            return Ok(Err((redirect, e)));
        }
        let checked = async {
            reject_repeated_params(raw)?;
            reject_oversized_values(raw)?;
            reject_request_objects(raw)?;
            check_response_type(raw, &client)?;
            let mut scopes = check_scope(raw)?;
            scopes.extend(delegated_scopes(raw, &client));
            let code_challenge = check_pkce(&client, raw)?;
            let prompt = check_prompt(raw)?;
            let max_age = check_max_age(raw)?;
            let claims = check_claims(raw)?;
            let id_token_hint_sub = check_id_token_hint(self, raw, &client).await?;
            let own = |k: &str| raw.get(k).map(str::to_string);
            Ok::<_, OAuthError>(AuthRequest {
                client_id: client.client_id.clone(),
                redirect: redirect.clone(),
                scopes,
                nonce: own("nonce"),
                code_challenge,
                prompt,
                max_age,
                claims,
                login_hint: own("login_hint"),
                domain_hint: own("domain_hint"),
                id_token_hint_sub,
                ui_locales: own("ui_locales"),
                acr_values: own("acr_values"),
            })
        }
        .await;
        Ok(checked.map_err(|e| (redirect, e)))
    }

    /// The browser's current session, if its cookie names a live one.
    pub async fn current_session(
        &self,
        session_token: Option<&str>,
    ) -> Result<Option<Session>, PageError> {
        let Some(token) = session_token else {
            return Ok(None);
        };
        let hash = self.hasher.hash("session", token);
        Ok(self
            .store
            .find_session(&hash)
            .await?
            .filter(|s| s.expires_at > self.clock.now()))
    }

    /// GET or POST `/authorize`.
    pub async fn authorize(
        &self,
        raw: RawParams,
        session_token: Option<&str>,
        ctx: &RequestContext,
    ) -> AuthorizeOutcome {
        match self.authorize_inner(raw, session_token, ctx).await {
            Ok(o) => o,
            Err(page) => AuthorizeOutcome::Page(page),
        }
    }

    async fn authorize_inner(
        &self,
        raw: RawParams,
        session_token: Option<&str>,
        ctx: &RequestContext,
    ) -> Result<AuthorizeOutcome, PageError> {
        let issuer = self.config.issuer.clone();
        let req = match self.validate(&raw).await? {
            Ok(req) => req,
            Err((redirect, e)) => {
                return Ok(AuthorizeOutcome::Respond(AuthorizationResponse::error(
                    redirect, &e, &issuer,
                )));
            }
        };
        let session = self.session_ref(session_token).await?;
        let (interaction, browser_secret) = self.new_interaction(req, session, None);
        self.decide_and_go(interaction, browser_secret, ctx, true)
            .await
    }

    async fn session_ref(
        &self,
        session_token: Option<&str>,
    ) -> Result<Option<SessionRef>, PageError> {
        Ok(self
            .current_session(session_token)
            .await?
            .map(|s| SessionRef {
                id_hash: s.id_hash,
                sid: s.sid,
                auth: s.auth,
            }))
    }

    fn new_interaction(
        &self,
        request: AuthRequest,
        session: Option<SessionRef>,
        landing: Option<String>,
    ) -> (Interaction, String) {
        let now = self.clock.now();
        let browser_secret = random_token(32);
        let interaction = Interaction {
            id: random_token(16),
            browser_hash: self.hasher.hash("interaction", &browser_secret),
            request,
            session,
            login: None,
            signed_in_here: false,
            consented: false,
            error: None,
            landing,
            origin: Default::default(),
            created_at: now,
            expires_at: now + self.config.interaction_ttl,
        };
        (interaction, browser_secret)
    }

    /// Takes the policy's decision for `i` and acts on it: answer, deny, or
    /// (saving the interaction when `is_new`) hand off to the UI.
    async fn decide_and_go(
        &self,
        mut i: Interaction,
        browser_secret: String,
        ctx: &RequestContext,
        is_new: bool,
    ) -> Result<AuthorizeOutcome, PageError> {
        // Conditional access sees where this request comes from. A redemption
        // has none of its own (`begin_after_redemption`): it keeps what it has.
        if ctx.ip.is_some() || ctx.platform.is_some() {
            i.origin = crate::conditional_access::Origin::of(ctx);
        }
        let decision = self.decision(&i).await?;
        let blocked = crate::conditional_access::blocking_policy(&decision.reasons)
            .map(crate::conditional_access::blocked_message);
        match decision.outcome {
            Outcome::Complete => {
                if !is_new && !self.store.delete_interaction(&i.id).await? {
                    return Err(PageError::new(
                        "interaction_expired",
                        "This sign-in was already completed.",
                    ));
                }
                self.answer(i, ctx).await
            }
            Outcome::Deny(denial) => {
                if !is_new {
                    self.store.delete_interaction(&i.id).await?;
                }
                let message = blocked.as_deref().unwrap_or(denial.message);
                self.record_end(&i, SignInResult::Denied, ctx, Some((denial.code, message)))
                    .await;
                self.deny(&i, denial, message)
            }
            Outcome::Continue(_) => {
                if is_new {
                    self.store.create_interaction(&i).await?;
                }
                Ok(AuthorizeOutcome::Interact {
                    id: i.id,
                    browser_secret,
                })
            }
        }
    }

    /// The app hears the denial (OIDC Core §3.1.2.6); a redemption shows it as a page.
    fn deny(
        &self,
        i: &Interaction,
        d: Denial,
        message: &str,
    ) -> Result<AuthorizeOutcome, PageError> {
        if i.landing.is_some() {
            return Err(PageError::new(d.code, message.to_string()).with_status(403));
        }
        let e = OAuthError::new(error_code(d.error), message.to_string());
        let r = AuthorizationResponse::error(i.request.redirect.clone(), &e, &self.config.issuer);
        // A signed-in user refused by a rule of the organization (the app's
        // assignment, a conditional access block naming its policy, a domain
        // no longer accepted) reads why and what to do on a page first; its
        // link takes `access_denied` to the app. With prompt=none (no page
        // may show) or a form post, the app hears it at once.
        if d.explained && !i.request.prompt.none && r.mode() == ResponseMode::Query {
            let mut page = PageError::new(d.code, message.to_string()).with_status(403);
            page.back_to_app = Some(r.query_url());
            return Err(page);
        }
        Ok(AuthorizeOutcome::Respond(r))
    }

    /// GET `/interaction/{id}/resume`: continue after the UI finished a step.
    pub async fn resume(
        &self,
        id: &str,
        browser_secret: Option<&str>,
        ctx: &RequestContext,
    ) -> AuthorizeOutcome {
        let result = async {
            let i = self.load_interaction(id, browser_secret).await?;
            if let Some((code, description)) = &i.error {
                let e = OAuthError {
                    code: error_code(code),
                    description: description.clone(),
                    debug: None,
                };
                self.store.delete_interaction(&i.id).await?;
                let reason = if code == "access_denied" {
                    "user_cancelled"
                } else {
                    e.code
                };
                self.record_end(&i, SignInResult::Aborted, ctx, Some((reason, description)))
                    .await;
                if let Some(landing) = &i.landing {
                    return Ok(AuthorizeOutcome::Land {
                        url: landing.clone(),
                        session_token: None,
                    });
                }
                return Ok(AuthorizeOutcome::Respond(AuthorizationResponse::error(
                    i.request.redirect.clone(),
                    &e,
                    &self.config.issuer,
                )));
            }
            let secret = browser_secret.unwrap_or_default().to_string();
            self.decide_and_go(i, secret, ctx, false).await
        }
        .await;
        result.unwrap_or_else(AuthorizeOutcome::Page)
    }

    /// Redemption hands off here: the guest proved the invited mailbox (or
    /// their home IdP did), which is the first step of a new interaction for
    /// Portico's own client; the policy decides the rest (MFA), and the
    /// browser lands on `landing` with a session.
    pub async fn begin_after_redemption(
        &self,
        first: StepDone,
        landing: &str,
        session_token: Option<&str>,
    ) -> Result<(String, String), PageError> {
        let request = AuthRequest {
            client_id: FIRST_PARTY_CLIENT.to_string(),
            redirect: VerifiedRedirect::landing(landing),
            scopes: vec!["openid".into()],
            nonce: None,
            code_challenge: None,
            // The redemption's proof is a fresh first factor: a session
            // already in the browser (another user's, say the admin who sent
            // the invitation) does not stand in for it, and is replaced.
            prompt: Prompt {
                login: true,
                ..Prompt::default()
            },
            max_age: None,
            claims: None,
            login_hint: None,
            domain_hint: None,
            id_token_hint_sub: None,
            ui_locales: None,
            acr_values: None,
        };
        let session = self.session_ref(session_token).await?;
        let (i, secret) = self.new_interaction(request, session, Some(landing.to_string()));
        let id = i.id.clone();
        self.store.create_interaction(&i).await?;
        self.finish_step(&id, Some(&secret), first).await?;
        Ok((id, secret))
    }

    /// Every step is done: make a session if the user just signed in, then
    /// issue the code (or land, for a redemption). The one place a session is created.
    async fn answer(
        &self,
        i: Interaction,
        ctx: &RequestContext,
    ) -> Result<AuthorizeOutcome, PageError> {
        let mut new_session = None;
        let (auth, sid) = match (&i.login, &i.session) {
            (Some(auth), old) => {
                let (token, sid) = self
                    .start_session(auth.clone(), old.as_ref().map(|s| s.id_hash.as_str()))
                    .await?;
                new_session = Some(token);
                (auth.clone(), sid)
            }
            (None, Some(s)) => (s.auth.clone(), s.sid.clone()),
            (None, None) => return Err(PageError::internal()),
        };
        self.record_end(&i, SignInResult::Success, ctx, None).await;
        if let Some(url) = &i.landing {
            return Ok(AuthorizeOutcome::Land {
                url: url.clone(),
                session_token: new_session,
            });
        }
        let code = self.issue_code(&i.request, &auth, &sid).await?;
        let response =
            AuthorizationResponse::code(i.request.redirect.clone(), code, &self.config.issuer);
        Ok(match new_session {
            Some(session_token) => AuthorizeOutcome::RespondWithSession {
                response,
                session_token,
            },
            None => AuthorizeOutcome::Respond(response),
        })
    }

    /// Saves a new grant and its single-use code (RFC 6749 §4.1.2: short-lived, one use).
    async fn issue_code(
        &self,
        req: &AuthRequest,
        auth: &Authentication,
        sid: &str,
    ) -> Result<String, PageError> {
        let now = self.clock.now();
        let grant = Grant {
            id: Uuid::now_v7(),
            client_id: req.client_id.clone(),
            user_id: Some(auth.user_id),
            scope: req.scopes.join(" "),
            auth_time: Some(auth.auth_time),
            amr: auth.amr.clone(),
            acr: auth.detail.acr.clone(),
            idp: auth.idp.clone(),
            sid: Some(sid.to_string()),
            claims: req.claims.clone(),
            created_at: now,
            revoked_at: None,
        };
        let code = random_token(32);
        let record = AuthCode {
            code_hash: self.hasher.hash("code", &code),
            grant_id: grant.id,
            client_id: req.client_id.clone(),
            redirect_uri: req.redirect.uri().to_string(),
            nonce: req.nonce.clone(),
            code_challenge: req.code_challenge.clone(),
            created_at: now,
            expires_at: now + self.config.code_ttl,
            consumed_at: None,
        };
        self.store.create_grant_with_code(&grant, &record).await?;
        Ok(code)
    }
}

/// Error codes an interaction may end with; anything else is reported as `access_denied`.
fn error_code(code: &str) -> &'static str {
    match code {
        "login_required" => "login_required",
        "consent_required" => "consent_required",
        "interaction_required" => "interaction_required",
        _ => "access_denied",
    }
}
