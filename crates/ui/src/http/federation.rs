//! Sign-in at a guest's home IdP, the UI side: leaving for the upstream
//! (`start`), the one callback every upstream returns to
//! (`GET /federation/callback`), and the pages shown when the upstream is
//! down, slow, refuses, or answers something Portico cannot trust. Each of
//! those pages offers "use another way to sign in" (the email code).
//!
//! The callback holds no cookie of the flow's own: the `state` names the
//! flow (single use), and the continuation the browser is sent on to (the
//! interaction or the redeem page) proves it is the browser that left, with
//! the binding secret the flow was started with.

use super::UiState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_federation::{
    CallbackParams, FederationError, FlowPurpose, Forwarded, IdentityProvider, UpstreamProblem,
};
use portico_oidc::http::request_id;
use portico_oidc::interaction::{StepFailure, UpstreamHints};
use portico_oidc::model::UpstreamAssertion;
use portico_oidc::signin_log::RequestContext;

/// What the home IdP said about its own sign-in, for the policy's `mfaTrust`.
pub(crate) fn upstream_assertion(
    identity: &portico_federation::UpstreamIdentity,
) -> UpstreamAssertion {
    UpstreamAssertion {
        amr: identity.amr.clone(),
        acr: identity.acr.clone(),
        auth_time: identity.auth_time,
    }
}

#[derive(Template, WebTemplate)]
#[template(path = "federation_problem.html")]
pub struct ProblemPage {
    pub code: &'static str,
    pub title: String,
    pub message: String,
    pub retry: Option<String>,
    pub other_way: Option<String>,
    pub request_id: String,
}

/// Where the person can go from a problem page.
#[derive(Default)]
pub struct Exits {
    pub retry: Option<String>,
    pub other_way: Option<String>,
}

/// A failed upstream step as the sign-in log records it: the page's stable
/// code, and the title with the (secret-free) detail for the admin.
pub(crate) struct UpstreamFailure {
    pub code: &'static str,
    pub message: String,
    pub user_id: Option<uuid::Uuid>,
    pub attempted: Option<String>,
    /// The IdP's issuer, when the flow got far enough to know it.
    pub home_idp: Option<String>,
}

impl UpstreamFailure {
    pub fn of(e: &FederationError, idp: Option<&IdentityProvider>) -> Self {
        let idp_name = idp.map(|i| i.display_name.as_str());
        let (code, title) = match describe(e, idp_name) {
            Some(d) => (d.code, d.title),
            None => (
                "internal_error",
                "Portico could not complete the sign-in".into(),
            ),
        };
        let detail = match e {
            FederationError::Upstream { detail, .. } => format!("{title}: {detail}"),
            _ => title,
        };
        UpstreamFailure {
            code,
            message: detail.chars().take(512).collect(),
            user_id: None,
            attempted: None,
            home_idp: idp.map(|i| i.issuer.clone()),
        }
    }

    /// Records the failure on the interaction's sign-in log, when the
    /// browser is the one that started it (a foreign or finished interaction
    /// records nothing: there is no sign-in of that browser to describe).
    pub async fn record(
        &self,
        s: &UiState,
        interaction_id: &str,
        secret: Option<&str>,
        ctx: &RequestContext,
    ) {
        let failure = self.as_step_failure();
        if let Err(e) = s
            .provider
            .step_failed(interaction_id, secret, ctx, failure)
            .await
        {
            tracing::debug!(error = ?e, "upstream failure not recorded");
        }
    }

    /// Records the failure seen at the federation callback, where the flow's
    /// `state` (not a cookie) ties the answer to the interaction.
    pub async fn record_at_callback(
        &self,
        s: &UiState,
        interaction_id: &str,
        ctx: &RequestContext,
    ) {
        let failure = self.as_step_failure();
        if let Err(e) = s
            .provider
            .upstream_step_failed(interaction_id, ctx, failure)
            .await
        {
            tracing::debug!(error = ?e, "upstream failure not recorded");
        }
    }

    fn as_step_failure(&self) -> StepFailure<'_> {
        StepFailure {
            method: portico_policy::Method::Upstream,
            code: self.code,
            message: &self.message,
            user_id: self.user_id,
            attempted: self.attempted.as_deref(),
            home_idp: self.home_idp.as_deref(),
        }
    }
}

/// The page for a federation failure; the detail goes to the log only.
pub fn problem_response(
    e: &FederationError,
    idp_name: Option<&str>,
    exits: Exits,
    request_id: &str,
) -> Response {
    let Some(Described {
        status,
        code,
        title,
        message,
    }) = describe(e, idp_name)
    else {
        tracing::error!(error = %e, "federation failure");
        return crate::pages::error_response(&portico_oidc::PageError::internal(), request_id);
    };
    tracing::warn!(error = %e, code, "upstream sign-in failed");
    (
        status,
        ProblemPage {
            code,
            title,
            message,
            retry: exits.retry,
            other_way: exits.other_way,
            request_id: request_id.to_string(),
        },
    )
        .into_response()
}

/// What a person is told about an upstream problem: its status, a stable
/// code (also the sign-in record's failure reason), a title and a message.
pub(crate) struct Described {
    pub status: StatusCode,
    pub code: &'static str,
    pub title: String,
    pub message: String,
}

/// `None` for failures that are Portico's own (an internal error page).
pub(crate) fn describe(e: &FederationError, idp_name: Option<&str>) -> Option<Described> {
    let idp = idp_name.unwrap_or("your organization's sign-in service");
    let (status, code, title, message) = match e.problem() {
        Some(UpstreamProblem::Unavailable) => (
            StatusCode::SERVICE_UNAVAILABLE,
            "idp_unavailable",
            format!("{idp} is not responding"),
            format!("We could not reach {idp} to sign you in. It may be down or slow right now. Try again in a few minutes, or use another way to sign in."),
        ),
        Some(UpstreamProblem::Refused) => (
            StatusCode::BAD_REQUEST,
            "idp_refused",
            "Sign-in was not completed".to_string(),
            format!("{idp} did not complete the sign-in (it may have been cancelled). Try again, or use another way to sign in."),
        ),
        Some(UpstreamProblem::InvalidToken) => (
            StatusCode::BAD_GATEWAY,
            "idp_invalid_response",
            "We could not verify your sign-in".to_string(),
            format!("{idp} answered with a sign-in that failed Portico's security checks, so it was not accepted. Try again; if it keeps happening, tell the organization that invited you."),
        ),
        Some(UpstreamProblem::InvalidState) => (
            StatusCode::BAD_REQUEST,
            "invalid_state",
            "This sign-in can no longer be completed".to_string(),
            "The sign-in was already used, took too long, or was started in another browser. Go back to the application and start again.".to_string(),
        ),
        Some(UpstreamProblem::StaleAuthentication) => (
            StatusCode::BAD_REQUEST,
            "idp_stale_authentication",
            "Your sign-in was not recent enough".to_string(),
            format!("The application asked for a recent sign-in, and {idp} did not confirm that you signed in again just now. Try again and sign in at {idp} once more, or use another way to sign in."),
        ),
        Some(UpstreamProblem::Disabled) => (
            StatusCode::FORBIDDEN,
            "idp_disabled",
            format!("Sign-in with {idp} is turned off"),
            "The organization turned off this way of signing in. Use another way to sign in.".to_string(),
        ),
        None => return None,
    };
    Some(Described {
        status,
        code,
        title,
        message,
    })
}

/// The purpose of a flow that signs in to an app: the interaction, with
/// what its app asked that the home IdP should hear too.
pub fn sign_in_purpose(interaction_id: &str, hints: &UpstreamHints) -> FlowPurpose {
    FlowPurpose::SignIn {
        interaction_id: interaction_id.to_string(),
        forwarded: Forwarded {
            acr_values: hints.acr_values.clone(),
            max_age: hints.max_age,
            prompt_login: hints.prompt_login,
        },
    }
}

/// Sends the browser to `idp` for `purpose`, bound to `binding`; a problem
/// reaching the IdP gets its page here, within the client's timeout.
pub async fn start(
    s: &UiState,
    idp: &IdentityProvider,
    purpose: FlowPurpose,
    binding: &str,
    login_hint: Option<&str>,
    exits: Exits,
    request_id: &str,
) -> Response {
    match s.federation.begin(idp, purpose, binding, login_hint).await {
        Ok(b) => Redirect::to(&b.authorization_url).into_response(),
        Err(e) => problem_response(&e, Some(&idp.display_name), exits, request_id),
    }
}

/// [`start`] for a sign-in interaction: a problem reaching the IdP is also
/// recorded in the interaction's sign-in log, as one at the callback is.
#[allow(clippy::too_many_arguments)]
pub async fn start_sign_in(
    s: &UiState,
    idp: &IdentityProvider,
    purpose: FlowPurpose,
    secret: &str,
    login_hint: Option<&str>,
    exits: Exits,
    request_id: &str,
    ctx: &RequestContext,
) -> Response {
    let interaction_id = match &purpose {
        FlowPurpose::SignIn { interaction_id, .. } => Some(interaction_id.clone()),
        FlowPurpose::Redeem { .. } => None,
    };
    match s.federation.begin(idp, purpose, secret, login_hint).await {
        Ok(b) => Redirect::to(&b.authorization_url).into_response(),
        Err(e) => {
            if let Some(id) = interaction_id {
                UpstreamFailure::of(&e, Some(idp))
                    .record(s, &id, Some(secret), ctx)
                    .await;
            }
            problem_response(&e, Some(&idp.display_name), exits, request_id)
        }
    }
}

/// Where a purpose continues after the callback, and its way out.
async fn exits_for(s: &UiState, purpose: &FlowPurpose) -> Exits {
    match purpose {
        FlowPurpose::SignIn { interaction_id, .. } => Exits {
            retry: Some(format!("/interaction/{interaction_id}")),
            other_way: Some(format!("/interaction/{interaction_id}?other=1")),
        },
        // Only the link the flow left from: after a resend, the new link
        // goes to the invited mailbox, not to whoever holds the old flow's state.
        FlowPurpose::Redeem {
            invitation_id,
            link_generation,
        } => match s.invitations.find(*invitation_id).await {
            Ok(inv) if inv.link_generation == *link_generation => {
                let link = format!("/redeem?i={}&t={}", inv.id, s.invitations.link_token(&inv));
                Exits {
                    other_way: Some(format!("{link}&other=1")),
                    retry: Some(link),
                }
            }
            _ => Exits::default(),
        },
    }
}

/// `GET /federation/callback`: the upstream's answer (RFC 6749 §4.1.2).
pub async fn callback_get(
    State(s): State<UiState>,
    headers: HeaderMap,
    ctx: RequestContext,
    q: Result<Query<CallbackParams>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = request_id(&headers);
    let params = q.map(|Query(q)| q).unwrap_or_default();
    let outcome = s.federation.callback(params).await;
    let Some(flow) = outcome.flow else {
        let e = outcome.result.err().unwrap_or_else(|| {
            FederationError::Internal(anyhow::anyhow!("callback without a flow"))
        });
        return problem_response(&e, None, Exits::default(), &rid);
    };
    match outcome.result {
        Ok(identity) => {
            tracing::info!(idp = %identity.issuer, flow = %flow.id, "upstream sign-in verified");
            let next = match &flow.purpose {
                FlowPurpose::SignIn { interaction_id, .. } => {
                    format!("/interaction/{interaction_id}/federated?flow={}", flow.id)
                }
                FlowPurpose::Redeem { .. } => format!("/redeem/federated?flow={}", flow.id),
            };
            Redirect::to(&next).into_response()
        }
        Err(e) => {
            let idp = s.federation.get(flow.idp_id).await.ok();
            let name = idp.as_ref().map(|i| i.display_name.clone());
            if let FlowPurpose::SignIn { interaction_id, .. } = &flow.purpose {
                let failure = UpstreamFailure::of(&e, idp.as_ref());
                failure.record_at_callback(&s, interaction_id, &ctx).await;
            }
            let exits = exits_for(&s, &flow.purpose).await;
            problem_response(&e, name.as_deref(), exits, &rid)
        }
    }
}

/// Home-realm discovery for an address: the enabled IdP serving its domain.
/// Deliberately not "the IdP this guest is bound to": that would tell anyone
/// typing an address whether it belongs to a guest here. A guest's domain is
/// the one they redeemed through, so the domain finds their IdP anyway.
pub async fn home_idp(
    s: &UiState,
    email: &str,
) -> Result<Option<IdentityProvider>, portico_oidc::PageError> {
    s.federation.idp_for_email(email).await.map_err(|e| {
        tracing::error!(error = ?e, "home-realm discovery failed");
        portico_oidc::PageError::internal()
    })
}

#[derive(Template, WebTemplate)]
#[template(path = "federation_no_access.html")]
pub struct NoAccessPage {
    pub idp: String,
    pub who: String,
    pub organization: String,
    pub other_way: String,
}

#[derive(serde::Deserialize, Default)]
pub struct FlowQuery {
    #[serde(default)]
    flow: String,
}

impl FlowQuery {
    pub fn flow(&self) -> &str {
        &self.flow
    }
}

pub(crate) fn flow_id(q: &FlowQuery) -> Result<uuid::Uuid, FederationError> {
    uuid::Uuid::parse_str(q.flow.trim()).map_err(|_| FederationError::Upstream {
        problem: UpstreamProblem::InvalidState,
        detail: "no flow id".into(),
    })
}
