//! Interactions: the one door through which every session is created.
//!
//! `/authorize` validates the request, gathers the [`Facts`] and asks
//! `portico_policy::decide` what happens next. When a step is needed it saves
//! an [`Interaction`] and redirects the browser to the UI at
//! `/interaction/{id}`; redemption saves one too, with the mailbox or home-IdP
//! proof as its first step and the invitation's redirect URL as its landing.
//! The UI performs the step the decision names and reports it through
//! [`Provider::finish_step`] (or [`Provider::finish_consent`],
//! [`Provider::abort_interaction`], [`Provider::step_failed`]); then the browser
//! goes to `/interaction/{id}/resume`, where the decision is taken again: the
//! next step, the answer (a code for the app, or the landing for a
//! redemption; only here is a session created), or a denial. Every end
//! writes one sign-in record (`signin_log`).
//!
//! `finish_step` refuses a method the current step does not accept, so no URL
//! skips a step; a finished interaction is deleted, so none is replayed.
//! Every interaction is bound to the browser that started it: a random secret
//! in a cookie scoped to `/interaction/{id}`, stored hashed.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Decide: GET/POST /authorize
//!     [*] --> Decide: redemption accepted (first factor = email code or home IdP)
//!     Decide --> Answered: Complete (SSO), code or landing
//!     Decide --> Denied: Deny (disabled; not assigned; prompt=none → login/interaction/consent_required)
//!     Decide --> Identify: no session, prompt=login, max_age, hint mismatch
//!     Decide --> UpstreamIdp: no session and domain_hint/login_hint name a trusted IdP
//!     Identify --> Decide: password, email code, home IdP, or a member's passkey alone (finish_step)
//!     UpstreamIdp --> Decide: home IdP's callback (finish_step, its amr/acr/auth_time)
//!     Decide --> MfaEnroll: MFA required, no second factor registered
//!     Decide --> MfaChallenge: MFA required, not remembered, upstream not trusted
//!     MfaEnroll --> Decide: authenticator confirmed (finish_step)
//!     MfaChallenge --> Decide: TOTP, recovery code, email OTP or passkey (finish_step)
//!     Decide --> Consent: consent missing or prompt=consent (third-party apps)
//!     Consent --> Decide: accepted (finish_consent)
//!     Consent --> Aborted: declined
//!     Identify --> Aborted: cancel
//!     Aborted --> [*]: access_denied to the app
//!     Denied --> [*]: error to the app (or a page)
//!     Answered --> [*]: session created, sign-in record written
//! ```

use crate::Provider;
use crate::authorize::AuthRequest;
use crate::error::PageError;
use crate::model::{Account, AuthDetail, Authentication, Client, Consent, UpstreamAssertion};
use crate::signin_log::{RequestContext, SignInResult};
use chrono::{DateTime, Utc};
use portico_policy::{
    AppFacts, Authn, Decision, DoneStep, Facts, Method, Outcome, RequestFacts, Step, UpstreamFacts,
    UserFacts, UserType, assurance, decide,
};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Name of the cookie binding an interaction to its browser (path `/interaction/{id}`).
pub const INTERACTION_COOKIE: &str = "portico_interaction";

/// The session the browser had when the interaction started.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct SessionRef {
    pub id_hash: String,
    pub sid: String,
    pub auth: Authentication,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Interaction {
    pub id: String,
    pub browser_hash: String,
    pub request: AuthRequest,
    pub session: Option<SessionRef>,
    /// The authentication as it stands in this interaction: a new sign-in,
    /// or the session's with a second factor added.
    pub login: Option<Authentication>,
    /// The first factor was performed in this interaction.
    #[serde(default)]
    pub signed_in_here: bool,
    /// Set by the consent step.
    pub consented: bool,
    /// Set when the user cancels: `(error, description)` for the client.
    pub error: Option<(String, String)>,
    /// A redemption's destination: the sign-in ends there, with a session and no code.
    #[serde(default)]
    pub landing: Option<String>,
    /// Where the browser's requests come from (conditional access).
    #[serde(default)]
    pub origin: crate::conditional_access::Origin,
    pub created_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
}

impl Interaction {
    /// Who is signed in as far as this interaction knows.
    pub fn user(&self) -> Option<&Authentication> {
        self.login
            .as_ref()
            .or(self.session.as_ref().map(|s| &s.auth))
    }
}

/// What the UI needs to render the current step.
#[derive(Debug, Clone)]
pub struct InteractionView {
    pub id: String,
    /// `None`: nothing to show; go to resume.
    pub step: Option<Step>,
    pub client_name: String,
    pub scopes: Vec<String>,
    /// Claims that will be shared, derived from scopes and the `claims` parameter.
    pub claims: Vec<String>,
    pub login_hint: Option<String>,
    pub domain_hint: Option<String>,
    pub user_id: Option<Uuid>,
    /// The user's first factor so far (the UI never offers that mailbox again as a second).
    pub first_factor: Option<Method>,
    /// The app's `acr_values`, `max_age` and `prompt=login`, for forwarding to a home IdP.
    pub upstream_hints: UpstreamHints,
}

/// What the app asked that a home IdP should hear too.
#[derive(Debug, Clone, Default)]
pub struct UpstreamHints {
    pub acr_values: Option<String>,
    pub max_age: Option<i64>,
    pub prompt_login: bool,
}

/// What the UI reports when a step is done.
#[derive(Debug, Clone)]
pub enum StepDone {
    /// The user is `user_id`, proven by `method` (password, email code, home
    /// IdP, or a passkey alone where the Identify step offers it).
    FirstFactor {
        user_id: Uuid,
        method: Method,
        /// The home IdP's issuer, for [`Method::Upstream`].
        idp: Option<String>,
        upstream: Option<UpstreamAssertion>,
    },
    /// A second factor (TOTP, recovery code, email OTP, passkey), or an
    /// enrolment confirmed with its first use.
    SecondFactor { method: Method },
}

impl StepDone {
    fn method(&self) -> Method {
        match self {
            StepDone::FirstFactor { method, .. } | StepDone::SecondFactor { method } => *method,
        }
    }
}

fn user_facts(a: &Account) -> UserFacts {
    UserFacts {
        user_type: if a.user_type == "Guest" {
            UserType::Guest
        } else {
            UserType::Member
        },
        enabled: a.enabled,
        has_totp: a.has_totp,
        has_passkey: a.has_passkey,
        domain_blocked: false,
    }
}

fn out_of_order() -> PageError {
    PageError::new(
        "step_not_expected",
        "This step is not the one this sign-in is waiting for. Go back to the application and start again.",
    )
    .with_status(409)
}

impl Provider {
    async fn client_of(&self, i: &Interaction) -> Result<Client, PageError> {
        self.store
            .find_client(&i.request.client_id)
            .await?
            .ok_or_else(PageError::internal)
    }

    /// The home IdP's assertion with the admin's trust rule for it.
    pub(crate) async fn upstream_facts(
        &self,
        auth: &Authentication,
    ) -> Result<Option<UpstreamFacts>, PageError> {
        let Some(up) = &auth.detail.upstream else {
            return Ok(None);
        };
        let trust = match &auth.idp {
            Some(issuer) => self.store.mfa_trust(issuer).await?,
            None => None,
        };
        Ok(Some(UpstreamFacts {
            amr: up.amr.clone(),
            acr: up.acr.clone(),
            auth_time: up.auth_time,
            trust,
        }))
    }

    /// Home-realm discovery: the trusted IdP that `domain_hint`, else the
    /// `login_hint` address's domain, points at.
    async fn hinted_idp(&self, req: &AuthRequest) -> Result<Option<String>, PageError> {
        if let Some(d) = req.domain_hint.as_deref()
            && let Some(idp) = self.store.idp_for_domain(d).await?
        {
            return Ok(Some(idp));
        }
        match req.login_hint.as_deref().and_then(|h| h.rsplit_once('@')) {
            Some((_, domain)) => Ok(self.store.idp_for_domain(domain).await?),
            None => Ok(None),
        }
    }

    /// A guest's address against the invitation domains policy, now.
    async fn guest_domain_blocked(&self, account: &Account) -> Result<bool, PageError> {
        match (&account.email, account.user_type == "Guest") {
            (Some(email), true) => Ok(self.store.guest_domain_blocked(email).await?),
            _ => Ok(false),
        }
    }

    pub(crate) async fn facts_for(
        &self,
        i: &Interaction,
        client: &Client,
        now: DateTime<Utc>,
    ) -> Result<Facts, PageError> {
        let req = &i.request;
        let authn = match i.user() {
            None => None,
            Some(auth) => match self.store.find_account(auth.user_id).await? {
                // A session whose user is gone signs in no one.
                None => None,
                Some(account) => Some(Authn {
                    user: UserFacts {
                        domain_blocked: self.guest_domain_blocked(&account).await?,
                        ..user_facts(&account)
                    },
                    auth_time: auth.auth_time,
                    steps: auth.detail.steps.clone(),
                    fresh: i.signed_in_here,
                    upstream: self.upstream_facts(auth).await?,
                    hint_mismatch: req
                        .id_token_hint_sub
                        .as_deref()
                        .is_some_and(|s| s != auth.user_id.to_string()),
                }),
            },
        };
        let consent_covers_request = i.consented
            || match i.user() {
                None => false,
                Some(auth) => self
                    .store
                    .find_consent(auth.user_id, &req.client_id)
                    .await?
                    .is_some_and(|c| {
                        // More scopes, or a new privacy statement, ask again.
                        req.scopes.iter().all(|s| c.scopes.contains(s))
                            && (self.config.privacy_version.is_none()
                                || c.privacy_version == self.config.privacy_version)
                    }),
            };
        // Asked only when it matters: the app requires assignment and someone is signed in.
        let assignment_required = client.app_role_assignment_required && !client.first_party;
        let assigned = match (assignment_required, &authn, i.user()) {
            (true, Some(_), Some(auth)) => self.store.is_assigned(client.id, auth.user_id).await?,
            _ => false,
        };
        let hinted_idp = if authn.is_none() || !i.signed_in_here {
            self.hinted_idp(req).await?
        } else {
            None
        };
        Ok(Facts {
            now,
            authn,
            app: AppFacts {
                require_mfa: client.require_mfa,
                first_party: client.first_party,
                assignment_required,
                assigned,
            },
            request: RequestFacts {
                prompt_none: req.prompt.none,
                prompt_login: (req.prompt.login || req.prompt.select_account) && !i.signed_in_here,
                prompt_consent: req.prompt.consent && !i.consented,
                max_age: req.max_age,
                acr_values: req
                    .acr_values
                    .as_deref()
                    .map(|v| v.split_whitespace().map(str::to_string).collect())
                    .unwrap_or_default(),
                login_hint: req.login_hint.clone(),
                domain_hint: req.domain_hint.clone(),
            },
            tenant: self.store.authentication_policy().await?,
            hinted_idp,
            mfa_required_by: vec![],
            consent_covers_request,
            passkeys: self.config.passkeys,
        })
    }

    /// The policy's decision for this interaction now.
    pub(crate) async fn decision(&self, i: &Interaction) -> Result<Decision, PageError> {
        let client = self.client_of(i).await?;
        self.decide_for(i, &client).await
    }

    /// [`decide`] with conditional access: once the user is known, the
    /// enforced policies' MFA joins the facts (`mfa_required_by`), and a
    /// block ends the sign-in whatever step would come next (but not one
    /// that identifies the user again: the policy may not concern who signs
    /// in then). Report-only policies never change the decision.
    async fn decide_for(&self, i: &Interaction, client: &Client) -> Result<Decision, PageError> {
        let mut facts = self.facts_for(i, client, self.clock.now()).await?;
        let mut blocked_by = None;
        if let (Some(auth), Some(authn)) = (i.user(), &facts.authn) {
            let results = self
                .evaluate_access(
                    auth.user_id,
                    authn.user.user_type,
                    &client.client_id,
                    &i.origin,
                )
                .await?;
            let e = portico_policy::conditional_access::Enforcement::of(&results);
            facts.mfa_required_by = e.mfa_required_by;
            blocked_by = e.blocked_by.into_iter().next().map(|(_, name)| name);
        }
        let mut d = decide(&facts);
        let identifying = matches!(
            d.outcome,
            Outcome::Continue(Step::Identify { .. } | Step::UpstreamIdp { .. })
        );
        if let Some(name) = blocked_by
            && !identifying
            && !matches!(d.outcome, Outcome::Deny(_))
        {
            d.reasons
                .push(portico_policy::Reason::BlockedByPolicy(name));
            d.outcome = Outcome::Deny(crate::conditional_access::BLOCKED);
        }
        Ok(d)
    }

    /// Loads an interaction for its browser; unknown, expired or foreign ones are a page error.
    pub async fn load_interaction(
        &self,
        id: &str,
        browser_secret: Option<&str>,
    ) -> Result<Interaction, PageError> {
        let gone = || {
            PageError::new(
                "interaction_expired",
                "This sign-in has expired or was already completed. Go back to the application and start again.",
            )
        };
        let i = self.store.find_interaction(id).await?.ok_or_else(gone)?;
        let bound =
            browser_secret.is_some_and(|s| self.hasher.verify("interaction", s, &i.browser_hash));
        if !bound {
            return Err(PageError::new("interaction_foreign", "This sign-in was started in another browser. Go back to the application and start again.").with_status(403));
        }
        if i.expires_at <= self.clock.now() {
            return Err(gone());
        }
        Ok(i)
    }

    /// What the UI should show for this interaction now.
    pub async fn interaction_details(
        &self,
        id: &str,
        browser_secret: Option<&str>,
    ) -> Result<InteractionView, PageError> {
        let i = self.load_interaction(id, browser_secret).await?;
        let client = self.client_of(&i).await?;
        let step = if i.error.is_some() {
            None
        } else {
            self.decide_for(&i, &client).await?.step().cloned()
        };
        let req = &i.request;
        Ok(InteractionView {
            id: i.id.clone(),
            step,
            client_name: client.display_name,
            scopes: req.scopes.clone(),
            claims: crate::claims::shared_claim_names(&req.scopes, req.claims.as_ref()),
            login_hint: req.login_hint.clone(),
            domain_hint: req.domain_hint.clone(),
            user_id: i.user().map(|a| a.user_id),
            first_factor: i.user().and_then(|a| {
                a.detail
                    .steps
                    .iter()
                    .map(|s| s.method)
                    .find(|m| m.is_first_factor())
            }),
            upstream_hints: UpstreamHints {
                acr_values: req.acr_values.clone(),
                max_age: req.max_age,
                prompt_login: req.prompt.login || req.prompt.select_account,
            },
        })
    }

    /// The UI performed a step. It must be one the current step accepts:
    /// a later step, or one of another interaction, is refused.
    pub async fn finish_step(
        &self,
        id: &str,
        browser_secret: Option<&str>,
        done: StepDone,
    ) -> Result<(), PageError> {
        let mut i = self.load_interaction(id, browser_secret).await?;
        if i.error.is_some() {
            return Err(out_of_order());
        }
        let decision = self.decision(&i).await?;
        let method = done.method();
        if !decision.step().is_some_and(|s| s.accepts(method)) {
            return Err(out_of_order());
        }
        let now = self.clock.now();
        let step = DoneStep { method, at: now };
        let mut auth = match done {
            StepDone::FirstFactor {
                user_id,
                idp,
                upstream,
                ..
            } => {
                i.signed_in_here = true;
                Authentication {
                    user_id,
                    auth_time: now,
                    amr: vec![],
                    idp,
                    detail: AuthDetail {
                        steps: vec![step],
                        upstream,
                        acr: None,
                    },
                }
            }
            StepDone::SecondFactor { .. } => {
                let mut auth = i.user().cloned().ok_or_else(out_of_order)?;
                auth.detail.steps.push(step);
                auth
            }
        };
        self.stamp_assurance(&mut auth).await?;
        i.login = Some(auth);
        self.store.update_interaction(&i).await?;
        Ok(())
    }

    /// Sets `amr` and `acr` from the steps, as the policy derives them.
    async fn stamp_assurance(&self, auth: &mut Authentication) -> Result<(), PageError> {
        let up = self.upstream_facts(auth).await?;
        let a = assurance(&auth.detail.steps, up.as_ref(), self.clock.now());
        auth.amr = a.amr;
        auth.detail.acr = Some(a.acr.to_string());
        Ok(())
    }

    /// A step failed (wrong password or code, lockout, upstream error): the
    /// sign-in goes on, and the attempt is recorded.
    pub async fn step_failed(
        &self,
        id: &str,
        browser_secret: Option<&str>,
        ctx: &RequestContext,
        failure: StepFailure<'_>,
    ) -> Result<(), PageError> {
        let i = self.load_interaction(id, browser_secret).await?;
        self.record_step_failure(i, ctx, failure).await
    }

    /// [`Self::step_failed`] for the home IdP's answer at the federation
    /// callback, which carries no interaction cookie (its path is the
    /// interaction's): the flow's single-use `state`, bound to this
    /// interaction when the browser left, stands in for the browser check.
    /// Only records; it changes nothing of the interaction.
    pub async fn upstream_step_failed(
        &self,
        id: &str,
        ctx: &RequestContext,
        failure: StepFailure<'_>,
    ) -> Result<(), PageError> {
        let Some(i) = self.store.find_interaction(id).await? else {
            return Ok(());
        };
        if i.expires_at <= self.clock.now() || i.error.is_some() {
            return Ok(());
        }
        self.record_step_failure(i, ctx, failure).await
    }

    async fn record_step_failure(
        &self,
        i: Interaction,
        ctx: &RequestContext,
        failure: StepFailure<'_>,
    ) -> Result<(), PageError> {
        let mut record = self.sign_in_record(&i, SignInResult::Failed, ctx).await?;
        if let Some(user_id) = failure.user_id {
            self.describe_user(&mut record, user_id).await?;
        } else if let Some(name) = failure.attempted {
            record.user_principal_name = Some(name.chars().take(256).collect());
        }
        record.steps.push(crate::signin_log::StepRecord {
            method: failure.method.as_str().to_string(),
            at: self.clock.now(),
            amr: None,
        });
        if let Some(idp) = failure.home_idp {
            record.home_idp = Some(idp.to_string());
        }
        record.failure_reason = Some(failure.code.to_string());
        record.failure_message = Some(failure.message.to_string());
        crate::signin_log::count(&record);
        self.store.record_sign_in(&record).await?;
        Ok(())
    }

    /// The user accepted (stores the consent) or declined (the client gets `access_denied`).
    pub async fn finish_consent(
        &self,
        id: &str,
        browser_secret: Option<&str>,
        accepted: bool,
    ) -> Result<(), PageError> {
        let mut i = self.load_interaction(id, browser_secret).await?;
        if i.error.is_some() || self.decision(&i).await?.step() != Some(&Step::Consent) {
            return Err(out_of_order());
        }
        if !accepted {
            return self
                .abort(i, "access_denied", "The user declined the request.")
                .await;
        }
        let user_id = i.user().map(|a| a.user_id).ok_or_else(out_of_order)?;
        let mut scopes = self
            .store
            .find_consent(user_id, &i.request.client_id)
            .await?
            .map(|c| c.scopes)
            .unwrap_or_default();
        for s in &i.request.scopes {
            if !scopes.contains(s) {
                scopes.push(s.clone());
            }
        }
        let consent = Consent {
            user_id,
            client_id: i.request.client_id.clone(),
            scopes,
            granted_at: self.clock.now(),
            privacy_version: self.config.privacy_version.clone(),
        };
        self.store.save_consent(&consent).await?;
        i.consented = true;
        self.store.update_interaction(&i).await?;
        Ok(())
    }

    /// Ends the interaction with an error for the client (e.g. the user cancelled).
    pub async fn abort_interaction(
        &self,
        id: &str,
        browser_secret: Option<&str>,
        error: &str,
        description: &str,
    ) -> Result<(), PageError> {
        let i = self.load_interaction(id, browser_secret).await?;
        self.abort(i, error, description).await
    }

    async fn abort(
        &self,
        mut i: Interaction,
        error: &str,
        description: &str,
    ) -> Result<(), PageError> {
        i.error = Some((error.to_string(), description.to_string()));
        self.store.update_interaction(&i).await?;
        Ok(())
    }

    /// Where the UI sends the browser when a step is done.
    pub fn resume_path(id: &str) -> String {
        format!("/interaction/{id}/resume")
    }
}

/// A failed attempt at a step, for the sign-in log.
#[derive(Debug, Clone, Copy)]
pub struct StepFailure<'a> {
    pub method: Method,
    /// Stable code: `invalid_credentials`, `invalid_code`, `mfa_locked`, …
    pub code: &'a str,
    pub message: &'a str,
    /// The user, when the step knew who it was for.
    pub user_id: Option<Uuid>,
    /// What the user typed as their name, when no user was found.
    pub attempted: Option<&'a str>,
    /// The home IdP (its issuer) the failed step was at, if any.
    pub home_idp: Option<&'a str>,
}
