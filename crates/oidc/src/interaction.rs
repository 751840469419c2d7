//! Interactions: the hand-off between the authorization server and the UI.
//!
//! `/authorize` validates the request, asks `portico-policy` which steps are
//! needed and, when some are, saves an [`Interaction`] and redirects the browser
//! to the UI at `/interaction/{id}`. The UI walks the steps and reports each
//! result through [`Provider::finish_login`] / [`Provider::finish_consent`] /
//! [`Provider::abort_interaction`]; then it sends the browser to
//! `/interaction/{id}/resume`, where the server re-checks the policy and either
//! asks for the next step or answers the client. Guests' steps (home realm,
//! upstream sign-in, email code, MFA) plug in as further steps.
//!
//! Every interaction is bound to the browser that started it: a random secret
//! in a cookie scoped to `/interaction/{id}`, stored hashed; every finish call
//! must present it.
//!
//! ```mermaid
//! stateDiagram-v2
//!     [*] --> Validated: GET/POST /authorize
//!     Validated --> Answered: no step needed (SSO)
//!     Validated --> Answered: prompt=none and a step is needed (login_required …)
//!     Validated --> Pending: save interaction, redirect to UI
//!     Pending --> Pending: finish_login / finish_consent
//!     Pending --> Aborted: abort_interaction (access_denied)
//!     Pending --> Resumed: GET /interaction/{id}/resume
//!     Resumed --> Pending: policy still needs a step
//!     Resumed --> Answered: code (or error) sent to the client
//!     Aborted --> Answered: error sent to the client
//!     Answered --> [*]
//! ```

use crate::Provider;
use crate::authorize::AuthRequest;
use crate::error::PageError;
use crate::model::{Authentication, Consent};
use chrono::{DateTime, Utc};
use portico_policy::{SessionFacts, SignInFacts, Step, required_steps};
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
    /// Set by the login step.
    pub login: Option<Authentication>,
    /// Set by the consent step.
    pub consented: bool,
    /// Set when the user cancels: `(error, description)` for the client.
    pub error: Option<(String, String)>,
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
    pub step: Option<Step>,
    pub client_name: String,
    pub scopes: Vec<String>,
    /// Claims that will be shared, derived from scopes and the `claims` parameter.
    pub claims: Vec<String>,
    pub login_hint: Option<String>,
    pub domain_hint: Option<String>,
    pub user_id: Option<Uuid>,
}

impl Provider {
    pub(crate) async fn facts_for(
        &self,
        i: &Interaction,
        now: DateTime<Utc>,
    ) -> Result<SignInFacts, PageError> {
        let req = &i.request;
        let session = match i.user() {
            None => None,
            Some(auth) => {
                let enabled = self
                    .store
                    .find_account(auth.user_id)
                    .await?
                    .is_some_and(|a| a.enabled);
                Some(SessionFacts {
                    auth_time: auth.auth_time,
                    account_enabled: enabled,
                    fresh: i.login.is_some(),
                    hint_mismatch: req
                        .id_token_hint_sub
                        .as_deref()
                        .is_some_and(|s| s != auth.user_id.to_string()),
                })
            }
        };
        let consent_covers_request = i.consented
            || match i.user() {
                None => false,
                Some(auth) => self
                    .store
                    .find_consent(auth.user_id, &req.client_id)
                    .await?
                    .is_some_and(|c| req.scopes.iter().all(|s| c.scopes.contains(s))),
            };
        Ok(SignInFacts {
            now,
            session,
            prompt_login: (req.prompt.login || req.prompt.select_account) && i.login.is_none(),
            prompt_consent: req.prompt.consent && !i.consented,
            max_age: req.max_age,
            consent_covers_request,
        })
    }

    /// The next step the interaction needs, per the policy.
    pub(crate) async fn next_step(&self, i: &Interaction) -> Result<Option<Step>, PageError> {
        let facts = self.facts_for(i, self.clock.now()).await?;
        Ok(required_steps(&facts).first().copied())
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
        let client = self
            .store
            .find_client(&i.request.client_id)
            .await?
            .ok_or_else(PageError::internal)?;
        let step = if i.error.is_some() {
            None
        } else {
            self.next_step(&i).await?
        };
        Ok(InteractionView {
            id: i.id.clone(),
            step,
            client_name: client.display_name,
            scopes: i.request.scopes.clone(),
            claims: crate::claims::shared_claim_names(&i.request.scopes, i.request.claims.as_ref()),
            login_hint: i.request.login_hint.clone(),
            domain_hint: i.request.domain_hint.clone(),
            user_id: i.user().map(|a| a.user_id),
        })
    }

    /// The UI authenticated `user_id` with the methods `amr` (RFC 8176), at
    /// the home IdP `idp` (its issuer) when a guest signed in there.
    pub async fn finish_login(
        &self,
        id: &str,
        browser_secret: Option<&str>,
        user_id: Uuid,
        amr: Vec<String>,
        idp: Option<String>,
    ) -> Result<(), PageError> {
        let mut i = self.load_interaction(id, browser_secret).await?;
        i.login = Some(Authentication {
            user_id,
            auth_time: self.clock.now(),
            amr,
            idp,
        });
        self.store.update_interaction(&i).await?;
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
        if !accepted {
            return self
                .abort(i, "access_denied", "The user declined the request.")
                .await;
        }
        let user_id = i
            .user()
            .map(|a| a.user_id)
            .ok_or_else(|| PageError::new("login_required", "Sign in first."))?;
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
