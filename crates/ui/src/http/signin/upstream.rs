//! The UpstreamIdp step, and the Identify step's home-IdP way in: leaving
//! for the trusted IdP home-realm discovery named (with the app's
//! `acr_values`, `max_age` and `prompt=login` forwarded), and coming back
//! (`GET /interaction/{id}/federated`) with the identity the callback
//! verified. The callback and the problem pages are shared with redemption
//! (`http/federation.rs`).

use crate::http::UiState;
use crate::http::federation::{
    self, Exits, FlowQuery, NoAccessPage, UpstreamFailure, flow_id, problem_response,
    upstream_assertion,
};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Redirect, Response};
use portico_federation::{FederationError, FlowPurpose, UpstreamProblem};
use portico_oidc::error::PageError;
use portico_oidc::http::request_id;
use portico_oidc::interaction::{InteractionView, StepDone};
use portico_oidc::signin_log::RequestContext;
use portico_policy::Method;

/// Leaves for the IdP (its id) the policy's home-realm discovery named.
pub(super) async fn go(
    s: &UiState,
    view: &InteractionView,
    idp: &str,
    secret: &str,
    rid: &str,
    ctx: &RequestContext,
) -> Result<Response, PageError> {
    let idp = match uuid::Uuid::parse_str(idp) {
        Ok(idp_id) => s.federation.get(idp_id).await.ok(),
        Err(_) => None,
    };
    let Some(idp) = idp else {
        return Err(PageError::internal());
    };
    let id = &view.id;
    let purpose = federation::sign_in_purpose(id, &view.upstream_hints);
    let exits = Exits {
        retry: Some(format!("/interaction/{id}")),
        other_way: Some(format!("/interaction/{id}?other=1")),
    };
    let hint = view.login_hint.as_deref();
    Ok(federation::start_sign_in(s, &idp, purpose, secret, hint, exits, rid, ctx).await)
}

/// `GET /interaction/{id}/federated?flow=F`: the home IdP vouched for
/// (issuer, subject); if that is a guest here, the sign-in step is done.
/// The guest is found by that pair only, never by email.
pub async fn interaction_federated_get(
    State(s): State<UiState>,
    jar: axum_extra::extract::CookieJar,
    headers: HeaderMap,
    ctx: RequestContext,
    axum::extract::Path(id): axum::extract::Path<String>,
    q: Result<Query<FlowQuery>, axum::extract::rejection::QueryRejection>,
) -> Response {
    let rid = request_id(&headers);
    let q = q.map(|Query(q)| q).unwrap_or_default();
    let secret = super::secret(&jar).unwrap_or_default();
    let exits = || Exits {
        retry: Some(format!("/interaction/{id}")),
        other_way: Some(format!("/interaction/{id}?other=1")),
    };
    let claimed = match flow_id(&q) {
        Ok(f) => s.federation.claim_result(f, &secret).await,
        Err(e) => Err(e),
    };
    let (purpose, identity) = match claimed {
        Ok(r) => r,
        Err(e) => {
            let failure = UpstreamFailure::of(&e, None);
            failure.record(&s, &id, Some(&secret), &ctx).await;
            return problem_response(&e, None, exits(), &rid);
        }
    };
    if !matches!(&purpose, FlowPurpose::SignIn { interaction_id, .. } if *interaction_id == id) {
        let e = FederationError::Upstream {
            problem: UpstreamProblem::InvalidState,
            detail: "the flow belongs to another sign-in".into(),
        };
        let failure = UpstreamFailure::of(&e, None);
        failure.record(&s, &id, Some(&secret), &ctx).await;
        return problem_response(&e, None, exits(), &rid);
    }
    let guest = match s
        .invitations
        .federated_guest(&identity.issuer, &identity.subject)
        .await
    {
        Ok(g) => g,
        Err(e) => {
            tracing::error!(error = ?e, "directory failure after an upstream sign-in");
            return crate::pages::error_response(&portico_oidc::PageError::internal(), &rid);
        }
    };
    let Some(guest) = guest else {
        tracing::info!(idp = %identity.issuer, "upstream account is not a guest here");
        let failure = UpstreamFailure {
            code: "not_a_guest",
            message: format!(
                "{} vouched for an account that is not a guest of this organization",
                identity.idp_name
            ),
            user_id: None,
            attempted: identity.email.clone(),
            home_idp: Some(identity.issuer.clone()),
        };
        failure.record(&s, &id, Some(&secret), &ctx).await;
        let page = NoAccessPage {
            idp: identity.idp_name.clone(),
            who: identity
                .email
                .clone()
                .unwrap_or_else(|| "this account".into()),
            organization: s.invitations.config().organization.clone(),
            other_way: format!("/interaction/{id}?other=1"),
        };
        return (StatusCode::FORBIDDEN, page).into_response();
    };
    let finished = s
        .provider
        .finish_step(
            &id,
            Some(&secret),
            StepDone::FirstFactor {
                user_id: guest.id,
                method: Method::Upstream,
                idp: Some(identity.issuer.clone()),
                upstream: Some(upstream_assertion(&identity)),
            },
        )
        .await;
    match finished {
        Ok(()) => Redirect::to(&portico_oidc::Provider::resume_path(&id)).into_response(),
        Err(e) => crate::pages::error_response(&e, &rid),
    }
}
